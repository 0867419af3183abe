// Engine events, live, on every page (/ws/events).
// - Fires `hull:events` on document (detail: the list of events) for any script that cares.
// - /events/ (tbody[data-events-feed]): new events go on top of the table, as text.
// - Pages with live parts refresh just those parts when the engine changes something:
//   container rows (tr[data-container-id]), the dashboard counts ([data-live-counts]),
//   a container's header (.page-head[data-container-id]) and any [data-live-region] with
//   an id.  The page is fetched again and those elements swapped for their new versions
//   (checkbox states and focus kept); nothing else on the page is touched.
"use strict";
(function () {
  if (window.hullEventsLoaded) return;
  window.hullEventsLoaded = true;

  const REFRESH_TYPES = new Set(["container", "pod", "image", "volume", "network"]);
  const QUIET_ACTIONS = new Set(["exec", "exec_died", "attach", "checkpoint"]);
  const MAX_FEED_ROWS = 500;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function time(t) {
    const d = new Date(t * 1000);
    return d.toLocaleString();
  }

  // -- the /events/ table --------------------------------------------------------------------
  function feedRows(feed, events) {
    const columns = feed.closest("table") ? feed.closest("table").querySelectorAll("thead th").length : 5;
    for (const e of events) {
      const tr = el("tr", "event-new");
      tr.dataset.eventType = e.type;
      const who = e.name || (e.id ? e.id.slice(0, 12) : "");
      const attrs = Object.entries(e.attributes || {}).map(([k, v]) => `${k}=${v}`).join(", ");
      const cells = [time(e.time), e.type, e.action, who,
        [e.image, attrs, e.exit_code != null ? `exit code ${e.exit_code}` : ""].filter(Boolean).join(" · ")];
      cells.slice(0, Math.max(columns, 1)).forEach((text) => tr.appendChild(el("td", null, text)));
      feed.insertBefore(tr, feed.firstChild);
      setTimeout(() => tr.classList.remove("event-new"), 2000);
    }
    for (let extra = feed.childElementCount - MAX_FEED_ROWS; extra > 0; extra--) feed.lastElementChild.remove();
    const empty = document.querySelector("[data-events-empty]");
    if (empty) empty.hidden = true;
  }

  // -- refreshing the live parts of a page ---------------------------------------------------
  function liveParts(doc) {
    return [
      ...doc.querySelectorAll("[data-live-counts], .page-head[data-container-id], [data-live-region][id]"),
    ];
  }
  function keyOf(node) {
    if (node.id) return "#" + node.id;
    if (node.matches("[data-live-counts]")) return "counts";
    if (node.matches(".page-head[data-container-id]")) return "head:" + node.dataset.containerId;
    return null;
  }

  function keepInputs(oldNode, newNode) {
    const state = new Map();
    oldNode.querySelectorAll("input[type=checkbox]").forEach((i) => state.set(`${i.name}=${i.value}`, i.checked));
    newNode.querySelectorAll("input[type=checkbox]").forEach((i) => {
      const k = `${i.name}=${i.value}`;
      if (state.has(k)) i.checked = state.get(k);
    });
  }

  function swapRows(fresh) {
    const oldRows = [...document.querySelectorAll("tr[data-container-id]")];
    if (!oldRows.length) return;
    const newRows = new Map([...fresh.querySelectorAll("tr[data-container-id]")].map((r) => [r.dataset.containerId, r]));
    const oldIds = oldRows.map((r) => r.dataset.containerId);
    const sameSet = oldIds.length === newRows.size && oldIds.every((id) => newRows.has(id));
    if (!sameSet) {  // added or removed: the bodies of the tables holding them change
      const bodies = new Set(oldRows.map((r) => r.parentElement));
      const freshBodies = [...new Set([...newRows.values()].map((r) => r.parentElement))];
      [...bodies].forEach((body, i) => {
        const table = body.closest("table");
        const match = table && table.id ? fresh.getElementById(table.id) : null;
        const replacement = match ? match.querySelector("tbody") : freshBodies[i];
        if (replacement) {
          const node = document.importNode(replacement, true);
          keepInputs(body, node);
          body.replaceWith(node);
        }
      });
      return;
    }
    for (const row of oldRows) {
      const next = newRows.get(row.dataset.containerId);
      // The CPU/memory cells belong to stats.js: compare without them.
      const strip = (r) => { const c = r.cloneNode(true); c.querySelectorAll("[data-stat]").forEach((s) => { s.textContent = ""; }); c.querySelectorAll("input").forEach((i) => i.removeAttribute("checked")); return c.outerHTML; };
      if (strip(row) === strip(next)) continue;
      const node = document.importNode(next, true);
      row.querySelectorAll("[data-stat]").forEach((s) => {
        const t = node.querySelector(`[data-stat="${s.dataset.stat}"]`);
        if (t) t.textContent = s.textContent;
      });
      keepInputs(row, node);
      node.classList.add("row-changed");
      row.replaceWith(node);
      setTimeout(() => node.classList.remove("row-changed"), 1500);
    }
  }

  let refreshTimer = null, refreshing = false, again = false;
  function scheduleRefresh() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(refresh, 250);
  }
  async function refresh() {
    refreshTimer = null;
    if (refreshing) { again = true; return; }
    if (document.hidden) { again = true; return; }
    refreshing = true;
    try {
      const response = await fetch(location.href, { credentials: "same-origin", headers: { "X-Hull-Live": "1" } });
      if (!response.ok || !(response.headers.get("content-type") || "").startsWith("text/html")) return;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      swapRows(fresh);
      const freshParts = new Map(liveParts(fresh).map((n) => [keyOf(n), n]));
      for (const part of liveParts(document)) {
        const next = freshParts.get(keyOf(part));
        if (!next || next.outerHTML === part.outerHTML) continue;
        if (part.contains(document.activeElement) && document.activeElement !== document.body) continue;
        const node = document.importNode(next, true);
        keepInputs(part, node);
        part.replaceWith(node);
      }
      document.dispatchEvent(new CustomEvent("hull:refreshed"));
    } catch (_) {
      /* the next event tries again */
    } finally {
      refreshing = false;
      if (again) { again = false; scheduleRefresh(); }
    }
  }
  document.addEventListener("visibilitychange", () => { if (!document.hidden && again) { again = false; scheduleRefresh(); } });

  function hasLiveParts() {
    return !!document.querySelector("tr[data-container-id], [data-live-counts], .page-head[data-container-id], [data-live-region][id]");
  }

  function connect() {
    let retry = 1000;
    const feed = document.querySelector("[data-events-feed]");
    function open() {
      const ws = new WebSocket(`ws://${location.host}/ws/events`);
      ws.onopen = () => { retry = 1000; };
      ws.onmessage = (message) => {
        let doc;
        try { doc = JSON.parse(message.data); } catch (_) { return; }
        if (doc.type !== "events") return;
        document.dispatchEvent(new CustomEvent("hull:events", { detail: doc.events }));
        if (feed) feedRows(feed, doc.events);
        if (doc.events.some((e) => REFRESH_TYPES.has(e.type) && !QUIET_ACTIONS.has(e.action)) && hasLiveParts()) {
          scheduleRefresh();
        }
      };
      ws.onclose = () => {
        setTimeout(open, retry);
        retry = Math.min(retry * 2, 30000);
      };
    }
    open();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", connect);
  else connect();
})();
