// Shows whether the console's websocket is up: the smallest proof that the
// live wiring (session + Origin checks, /ws/ping) works in a real browser.
// Text only goes in through textContent: nothing from the server is parsed as HTML.
"use strict";
(function () {
  const badge = document.getElementById("live-status");
  if (!badge) return;
  const text = badge.querySelector(".live-text");
  let retryMs = 1000;

  function show(state, label) {
    badge.classList.remove("ok", "down");
    if (state) badge.classList.add(state);
    text.textContent = label;
  }

  function connect() {
    const ws = new WebSocket(`ws://${location.host}${badge.dataset.ws}`);
    let timer = null;
    ws.addEventListener("open", () => {
      retryMs = 1000;
      ws.send(JSON.stringify({ type: "ping" }));
      timer = setInterval(() => ws.send(JSON.stringify({ type: "ping" })), 20000);
    });
    ws.addEventListener("message", (event) => {
      try {
        if (JSON.parse(event.data).type === "pong") show("ok", "live");
      } catch (_) { /* ignore malformed frames */ }
    });
    ws.addEventListener("close", () => {
      clearInterval(timer);
      show("down", "offline");
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 30000);
    });
  }
  connect();
})();

// The live parts load themselves where a page has their hooks (the pages leave
// data-* attributes; see docs/architecture.md "The console's live parts").
(function () {
  function need(name) {
    const src = `/static/console/js/${name}`;
    if (document.querySelector(`script[src="${src}"]`)) return;
    const script = document.createElement("script");
    script.src = src;
    document.head.appendChild(script);
  }
  if (!document.getElementById("live-status")) return;  // bare pages (login, errors)
  need("events.js");
  if (document.querySelector("[data-live-stats], tr[data-container-id] [data-stat], [data-stats][data-container-id], [data-stats-total]")) need("stats.js");
  if (document.querySelector("[data-logs]")) need("logs.js");
  if (document.querySelector("[data-terminal][data-container-id]")) need("terminal.js");
  if (document.querySelector("form[data-pull-form]")) need("pull.js");
})();
