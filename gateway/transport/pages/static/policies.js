// /policies: the policy matrix in force (role × type × field), filterable, with the diff since the last reload.
"use strict";
(function () {
  const {el} = Gateway;
  const out = document.getElementById("policy-answer");
  const policyFilter = document.getElementById("policy-filter");
  const typeFilter = document.getElementById("type-filter");
  const fieldFilter = document.getElementById("field-filter");
  let data = null;

  const LABELS = {allowed: "allowed", masked: "masked", own_area_only: "own area only", denied: "denied"};

  function policyKey(p) { return p.kind + " " + p.name; }

  function cellOf(policy, typeName, fieldName) {
    const rule = policy.types.find(t => t.name === typeName);
    if (!rule) return {access: "denied", why: [typeName + " is not granted"]};
    return rule.fields[fieldName] || {access: "denied", why: []};
  }

  function cell(policy, typeName, fieldName) {
    const c = cellOf(policy, typeName, fieldName);
    const text = c.access === "masked" ? "masked (" + c.mask + ")" : LABELS[c.access];
    const title = [...(c.why || []), c.example || ""].filter(Boolean).join("\n");
    return el("td", {class: c.access, title, "data-policy": policyKey(policy), "data-field": typeName + "." + fieldName},
      text, c.example ? el("div", {class: "muted"}, c.example.replace(/^mask [^:]+: [^;]*; /, "")) : null);
  }

  function ruleCell(policy, typeName, spelled) {
    const rule = policy.types.find(t => t.name === typeName);
    if (!rule) return el("td", {class: "denied"}, "not granted");
    return el("td", {title: rule.rowCondition, "data-policy": policyKey(policy), "data-rows": typeName},
      "rows: " + rule.rows, el("br"), rule.aggregate ? "counts open" : "no counts",
      rule.limit ? el("span", {}, el("br"), "≤ " + rule.limit + " a page") : null,
      spelled ? el("div", {class: "muted"}, rule.rowCondition) : null);
  }

  function typeTable(typeName, policies) {
    const needle = fieldFilter.value.trim().toLowerCase();
    const fields = data.matrix.types[typeName].filter(f => !needle || f.toLowerCase().includes(needle));
    const head = el("tr", {}, el("th", {}, typeName), policies.map(p => el("th", {}, p.name, el("div", {class: "muted"}, p.kind))));
    const spelled = policies.length <= 3;
    const rows = [el("tr", {}, el("th", {}, "row condition"), policies.map(p => ruleCell(p, typeName, spelled)))];
    for (const f of fields) rows.push(el("tr", {}, el("th", {}, f), policies.map(p => cell(p, typeName, f))));
    return el("section", {"data-type": typeName}, el("h2", {}, typeName),
      el("div", {class: "scroll"}, el("table", {class: "matrix"}, el("thead", {}, head), el("tbody", {}, rows))));
  }

  // {token: {requests_per_minute, cost_per_minute}, agency: {...}} where the gateway has rate limits.
  function rateLimits(limits) {
    if (!limits) return "none";
    const parts = [];
    for (const [who, limit] of Object.entries(limits)) {
      const said = Object.entries(limit || {}).filter(([, v]) => v !== null && v !== undefined)
        .map(([k, v]) => v + " " + k.replace(/_/g, " "));
      if (said.length) parts.push("per " + who + ": " + said.join(", "));
    }
    return parts.join("; ") || "none";
  }

  function details(policy) {
    const mutations = Object.entries(policy.mutations);
    const lookups = Object.entries(policy.lookups);
    return el("section", {class: "card", id: "policy-details"},
      el("h2", {}, policy.kind + " " + policy.name), el("p", {}, policy.description),
      el("p", {class: "muted"}, "file ", policy.source || "-", policy.enforce ? "" : " · LOG-ONLY (enforce: false)",
        " · pages: ", policy.pages.join(", ") || "-"),
      el("h3", {}, "Rate limits"),
      el("p", {id: "rate-limits"}, rateLimits(policy.rateLimits)),
      policy.documents ? el("p", {}, "documents: " + policy.documents) : null,
      el("h3", {}, "Budgeted look-ups"),
      lookups.length ? el("ul", {}, lookups.map(([n, l]) => el("li", {}, n + ": " + l.budgetPerHour + " probes an hour per principal")))
        : el("p", {class: "muted"}, "none"),
      el("h3", {}, "Mutations"),
      mutations.length ? el("table", {class: "matrix"}, el("tr", {}, el("th", {}, "mutation"), el("th", {}, "check"), el("th", {}, "presets")),
        mutations.map(([n, m]) => el("tr", {"data-mutation": n}, el("td", {}, n), el("td", {}, m.check),
          el("td", {}, Object.entries(m.presets).map(([k, v]) => k + " = " + v).join(", ") || "-"))))
        : el("p", {class: "muted"}, "none"),
      el("h3", {}, "Root fields and their arguments"),
      el("ul", {}, (policy.rootFields || []).map(r => el("li", {}, el("code", {}, r.name), " (" + r.kind + ")",
        r.arguments.length ? ": " + r.arguments.map(a => a.name + (a.fields ? " {" + a.fields.join(", ") + "}" : "")).join(", ") : ""))));
  }

  function diffSection() {
    const diff = data.diff;
    if (!diff) return el("p", {class: "muted", id: "diff"}, "No reload since the gateway started: nothing to compare.");
    return el("details", {open: true, id: "diff"}, el("summary", {}, "Changes from version " + diff.from + " to " + diff.to + " (" + diff.changes.length + ")"),
      el("ul", {class: "diff"}, diff.changes.map(c => el("li", {}, c.policy + " · " + c.what + ": " + c.before + " → " + c.after))));
  }

  function render() {
    if (!data) return;
    const policies = data.matrix.policies.filter(p => !policyFilter.value || policyKey(p) === policyFilter.value);
    const types = Object.keys(data.matrix.types).filter(t => !typeFilter.value || t === typeFilter.value);
    const parts = [el("p", {id: "version"}, "Policy version " + data.matrix.version), diffSection()];
    if (policies.length === 1) parts.push(details(policies[0]));
    for (const t of types) {
      if (!typeFilter.value && !policies.some(p => p.types.some(r => r.name === t))) continue;
      parts.push(typeTable(t, policies));
    }
    out.replaceChildren(...parts);
  }

  async function load() {
    if (!Gateway.token()) return;
    out.replaceChildren(el("p", {class: "muted"}, "Loading…"));
    try {
      data = await Gateway.json("/policies/data");
    } catch (error) {
      data = null;
      out.replaceChildren(el("p", {class: "error"}, error.message));
      return;
    }
    const chosenPolicy = policyFilter.value, chosenType = typeFilter.value;
    policyFilter.replaceChildren(el("option", {value: ""}, "all"),
      ...data.matrix.policies.map(p => el("option", {value: policyKey(p)}, p.kind + " " + p.name)));
    typeFilter.replaceChildren(el("option", {value: ""}, "all"),
      ...Object.keys(data.matrix.types).map(t => el("option", {value: t}, t)));
    policyFilter.value = chosenPolicy; typeFilter.value = chosenType;
    render();
  }

  for (const control of [policyFilter, typeFilter]) control.addEventListener("change", render);
  fieldFilter.addEventListener("input", render);
  Gateway.onToken(load);
  load();
})();
