// Pull with live per-layer progress: form[data-pull-form] is sent over /ws/pull instead of
// the plain POST (which still works without JavaScript), and div[data-pull-progress] shows
// one bar per layer. When the pull is done the images page is loaded again.
"use strict";
(function () {
  if (window.hullPullLoaded) return;
  window.hullPullLoaded = true;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function bytes(n) {
    const units = ["B", "kB", "MB", "GB"];
    let i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return `${i ? n.toFixed(1) : n} ${units[i]}`;
  }

  function setup(form) {
    const box = document.querySelector("[data-pull-progress]");
    if (!box || !window.WebSocket) return;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const reference = form.querySelector("[name=reference]").value.trim();
      if (!reference) return;
      const insecure = form.querySelector("[name=insecure]");
      const q = new URLSearchParams({ reference, insecure: insecure && insecure.checked ? "1" : "0" });
      const button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
      const title = el("p", "pull-title", `Pulling ${reference}…`);
      const list = el("ul", "pull-layers");
      box.replaceChildren(title, list);
      const rows = new Map();
      const ws = new WebSocket(`ws://${location.host}/ws/pull?${q}`);
      let finished = false;
      ws.onmessage = (message) => {
        let doc;
        try { doc = JSON.parse(message.data); } catch (_) { return; }
        if (doc.type === "progress" && doc.kind === "blob") {
          let row = rows.get(doc.digest);
          if (!row) {
            row = el("li", "pull-layer");
            row.dataset.digest = doc.digest;
            const name = el("code", null, doc.digest.replace("sha256:", "").slice(0, 12));
            const bar = el("progress");
            bar.max = 1;
            const state = el("span", "pull-state muted");
            row.append(name, bar, state);
            list.appendChild(row);
            rows.set(doc.digest, row);
          }
          const bar = row.querySelector("progress"), state = row.querySelector(".pull-state");
          bar.max = doc.total || 1;
          bar.value = doc.status === "downloading" ? doc.done : (doc.total || 1);
          state.textContent = doc.status === "downloading" ? `${bytes(doc.done)} of ${bytes(doc.total)}`
            : doc.status === "exists" ? "already here" : doc.status;
          row.dataset.status = doc.status;
        } else if (doc.type === "progress") {
          title.textContent = `Pulling ${reference}: ${doc.kind} ${doc.status}`;
        } else if (doc.type === "pulled") {
          finished = true;
          title.textContent = `Pulled ${reference} (${doc.id.slice(0, 12)}).`;
          title.dataset.pulled = doc.id;
          setTimeout(() => location.assign(location.pathname), 800);
        } else if (doc.type === "error") {
          finished = true;
          title.textContent = doc.message;
          title.classList.add("log-error");
          if (button) button.disabled = false;
        }
      };
      ws.onclose = () => {
        if (!finished) { title.textContent += " (connection lost: the pull goes on; reload the page)"; }
        if (button) button.disabled = false;
      };
    });
  }

  function start() {
    if (!document.querySelector('link[href="/static/console/css/live.css"]')) {
      const link = el("link");
      link.rel = "stylesheet";
      link.href = "/static/console/css/live.css";
      document.head.appendChild(link);
    }
    document.querySelectorAll("form[data-pull-form]").forEach(setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
