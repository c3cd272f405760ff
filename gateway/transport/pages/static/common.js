// Shared by the gateway's pages: the bearer token lives in this tab's sessionStorage (never a cookie),
// and every call sends it as Authorization. In demo mode a picker fills it from /graphiql/demo-tokens.
"use strict";
const TOKEN_KEY = "gateway:token";

const Gateway = {
  token() { return sessionStorage.getItem(TOKEN_KEY) || ""; },
  setToken(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value.trim()); else sessionStorage.removeItem(TOKEN_KEY);
    for (const listener of Gateway.listeners) listener(Gateway.token());
  },
  listeners: [],
  onToken(listener) { Gateway.listeners.push(listener); },

  async graphql(query, variables) {
    const token = Gateway.token();
    if (!token) throw new Error("Paste a token first.");
    const response = await fetch("/graphql", {
      method: "POST",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "Authorization": "Bearer " + token},
      body: JSON.stringify({query, variables}),
    });
    const body = await response.json().catch(() => ({errors: [{message: "HTTP " + response.status}]}));
    if (body.errors && body.errors.length) {
      const error = new Error(body.errors.map(e => e.message + (e.extensions ? " (" + e.extensions.code + ")" : "")).join("\n"));
      error.body = body;
      throw error;
    }
    return body.data;
  },

  async json(path) {
    const token = Gateway.token();
    if (!token) throw new Error("Paste a token first.");
    const response = await fetch(path, {headers: {"Accept": "application/json", "Authorization": "Bearer " + token}});
    const body = await response.json().catch(() => ({errors: [{message: "HTTP " + response.status}]}));
    if (!response.ok || body.errors) {
      throw new Error((body.errors || []).map(e => e.message + " (" + ((e.extensions || {}).code || response.status) + ")").join("\n") || "HTTP " + response.status);
    }
    return body;
  },

  // el("li", {class: "x"}, "text", child…): DOM without innerHTML, so no text is ever parsed as markup.
  el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  },
};

(function tokenField() {
  const input = document.getElementById("token");
  const who = document.getElementById("who");
  const picker = document.getElementById("demo-principal");
  input.value = Gateway.token();
  input.addEventListener("input", () => Gateway.setToken(input.value));
  async function showWho() {
    who.textContent = "";
    if (!Gateway.token()) return;
    try {
      const data = await Gateway.graphql("{ me { id role } }");
      who.textContent = data.me.id + " (" + data.me.role + ")";
    } catch (error) {
      who.textContent = "token refused";
    }
  }
  Gateway.onToken(showWho);
  showWho();
  // Demo mode only: the endpoint does not exist otherwise, and the picker stays hidden.
  fetch("/graphiql/demo-tokens", {headers: {"Accept": "application/json"}}).then(r => r.ok ? r.json() : null).then(list => {
    if (!list) return;
    for (const p of list.principals) {
      picker.append(Gateway.el("option", {value: p.token}, p.role + " — " + p.principal));
    }
    picker.hidden = false;
    picker.addEventListener("change", () => { if (picker.value) { input.value = picker.value; Gateway.setToken(picker.value); } });
  }).catch(() => {});
})();
