// /audit: who touched one record — a timeline from accessLog, with counts by agency and purpose.
"use strict";
(function () {
  const {el} = Gateway;
  const form = document.getElementById("lookup");
  const out = document.getElementById("answer");
  const QUERY = `query AccessLog($id: ID!, $after: String, $filter: AccessFilter) {
    accessLog(recordId: $id, first: 100, after: $after, filter: $filter) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { seq recordedAt principalId role agency purpose operationName operationType kind outcome
              fieldReads { field read } }
    }
  }`;
  const MOST_PAGES = 20;

  // A bare number is taken as a resident's key: the global ID is base64url of "Resident:<n>".
  function globalId(text) {
    const value = text.trim();
    if (/^\d+$/.test(value)) return btoa("Resident:" + value).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    return value;
  }

  function counts(entries, key) {
    const map = new Map();
    for (const entry of entries) {
      const name = entry[key] || "(none declared)";
      map.set(name, (map.get(name) || 0) + 1);
    }
    return [...map.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  }

  // A horizontal bar chart drawn here, as SVG: nothing from outside.
  function barChart(title, rows) {
    const NS = "http://www.w3.org/2000/svg";
    const width = 420, bar = 18, gap = 6, label = 190;
    const height = rows.length * (bar + gap) + gap;
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", title);
    const most = Math.max(1, ...rows.map(r => r[1]));
    rows.forEach(([name, count], i) => {
      const y = gap + i * (bar + gap);
      const text = document.createElementNS(NS, "text");
      text.setAttribute("x", 0); text.setAttribute("y", y + bar - 5); text.setAttribute("font-size", "12");
      text.textContent = name.length > 26 ? name.slice(0, 25) + "…" : name;
      const title = document.createElementNS(NS, "title");
      title.textContent = name + ": " + count;
      const rect = document.createElementNS(NS, "rect");
      const length = Math.max(2, (width - label - 40) * count / most);
      rect.setAttribute("x", label); rect.setAttribute("y", y); rect.setAttribute("height", bar);
      rect.setAttribute("width", length); rect.setAttribute("fill", "#5aa0ff");
      rect.append(title);
      const value = document.createElementNS(NS, "text");
      value.setAttribute("x", label + length + 4); value.setAttribute("y", y + bar - 5); value.setAttribute("font-size", "12");
      value.textContent = String(count);
      svg.append(text, rect, value);
    });
    return el("div", {class: "card", "data-chart": title}, el("h2", {}, title), svg);
  }

  function timelineItem(entry) {
    // As the API gives it: local time of the gateway's zone with its offset, whatever the browser's zone.
    const when = entry.recordedAt.replace("T", " ").replace(/\.\d+/, "");
    const reads = entry.fieldReads.map(r => el("span", {class: "tag " + r.read.toLowerCase()}, r.field + " " + r.read.toLowerCase()));
    return el("li", {class: "kind-" + entry.kind, "data-seq": entry.seq},
      el("div", {},
        el("strong", {"data-recorded-at": entry.recordedAt}, when), " · ",
        el("span", {class: "tag " + entry.kind}, entry.kind.toLowerCase()), " ",
        el("span", {class: "principal"}, entry.principalId), " (", entry.role, ", ", entry.agency, ")"),
      el("div", {class: "muted"},
        "purpose: ", entry.purpose || "(none declared)", " · operation: ",
        (entry.operationName || "(anonymous)"), " ", entry.operationType, " · outcome ", entry.outcome.toLowerCase(),
        " · audit record #", entry.seq),
      reads.length ? el("div", {}, reads) : null);
  }

  async function lookUp(event) {
    event.preventDefault();
    out.replaceChildren(el("p", {class: "muted"}, "Looking up…"));
    const id = globalId(document.getElementById("record-id").value);
    const filter = {};
    const role = document.getElementById("role").value.trim();
    if (role) filter.role = role;
    const since = document.getElementById("since").value, until = document.getElementById("until").value;
    if (since || until) filter.recorded = {since: since || null, until: until || null};
    try {
      const entries = [];
      let after = null, total = 0, more = false;
      for (let n = 0; n < MOST_PAGES; n++) {
        const data = await Gateway.graphql(QUERY, {id, after, filter});
        const page = data.accessLog;
        total = page.totalCount;
        entries.push(...page.nodes);
        more = page.pageInfo.hasNextPage;
        if (!more) break;
        after = page.pageInfo.endCursor;
      }
      render(entries, total, more);
    } catch (error) {
      out.replaceChildren(el("p", {class: "error"}, error.message));
    }
  }

  function render(entries, total, more) {
    const byKind = counts(entries, "kind").map(([k, n]) => k.toLowerCase() + " " + n).join(", ");
    const summary = el("p", {id: "summary"},
      total + " access" + (total === 1 ? "" : "es") + " recorded" + (entries.length ? " (" + byKind + ")" : ""),
      more ? " — showing the first " + entries.length : "");
    if (!entries.length) {
      out.replaceChildren(summary);
      return;
    }
    const charts = el("div", {class: "cards"}, barChart("By agency", counts(entries, "agency")),
      barChart("By purpose", counts(entries, "purpose")));
    const timeline = el("ol", {class: "timeline", id: "timeline"}, [...entries].reverse().map(timelineItem));
    out.replaceChildren(summary, charts, el("h2", {}, "Timeline (newest first)"), timeline);
  }

  form.addEventListener("submit", lookUp);
  const fromUrl = new URLSearchParams(location.search).get("id");
  if (fromUrl) { document.getElementById("record-id").value = fromUrl; }
})();
