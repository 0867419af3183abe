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
