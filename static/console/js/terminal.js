// Terminal: [data-terminal][data-container-id] becomes an xterm.js terminal on /ws/terminal
// (exec -it in the container), with a choice of shell and user, resize with the element.
// xterm.js is served from static/console/vendor/ (npm, pinned; `make vendor`), never a CDN.
"use strict";
(function () {
  if (window.hullTerminalLoaded) return;
  window.hullTerminalLoaded = true;

  function load(tag, attrs) {
    return new Promise((resolve, reject) => {
      const node = document.createElement(tag);
      Object.assign(node, attrs);
      node.onload = resolve;
      node.onerror = () => reject(new Error(`cannot load ${attrs.src || attrs.href}`));
      document.head.appendChild(node);
    });
  }

  // xterm.js writes its theme and cell sizes into <style> elements, which the CSP
  // (default-src 'self', no 'unsafe-inline') refuses: chromium logged "Applying inline
  // style violates ..." and the styles were lost.  Constructed stylesheets are CSSOM,
  // which CSP allows: xterm gets an element whose text goes into one of those instead.
  // Only this page's scripts ask for <style> elements, and only xterm does.
  class HullSheet extends HTMLElement {
    constructor() {
      super();
      this.hullSheet = new CSSStyleSheet();
      this.hullText = "";  // no attributes here: createElement refuses an element that sets any
    }
    get textContent() { return this.hullText; }
    set textContent(text) {
      this.hullText = String(text == null ? "" : text);
      this.hullSheet.replaceSync(this.hullText);
    }
    connectedCallback() {
      if (!document.adoptedStyleSheets.includes(this.hullSheet)) {
        document.adoptedStyleSheets = [...document.adoptedStyleSheets, this.hullSheet];
      }
    }
    disconnectedCallback() {
      document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => s !== this.hullSheet);
    }
  }
  function routeStyleElements() {
    if (customElements.get("hull-sheet")) return;
    customElements.define("hull-sheet", HullSheet);
    const create = Document.prototype.createElement;
    document.createElement = function (tag, options) {
      return String(tag).toLowerCase() === "style" ? create.call(this, "hull-sheet") : create.call(this, tag, options);
    };
  }

  let vendor = null;
  function loadVendor() {
    routeStyleElements();
    if (!vendor) {
      vendor = Promise.all([
        load("link", { rel: "stylesheet", href: "/static/console/vendor/xterm.css" }),
        load("link", { rel: "stylesheet", href: "/static/console/css/live.css" }),
        load("script", { src: "/static/console/vendor/xterm.js" }),
      ]).then(() => load("script", { src: "/static/console/vendor/addon-fit.js" }));
    }
    return vendor;
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function setup(root) {
    const container = root.dataset.containerId;
    const bar = el("div", "term-toolbar");
    const shell = el("select");
    ["auto", "/bin/sh", "/bin/bash", "/bin/ash", "/bin/zsh"].forEach((s) => {
      const o = el("option", null, s === "auto" ? "shell: auto (bash, else sh)" : s);
      o.value = s;
      shell.appendChild(o);
    });
    shell.setAttribute("aria-label", "Shell");
    const user = el("input");
    user.placeholder = "user (default: the container's)";
    user.setAttribute("aria-label", "User");
    user.size = 24;
    const reconnect = el("button", null, "Reconnect");
    reconnect.type = "button";
    const status = el("span", "term-status muted", "loading…");
    status.setAttribute("aria-live", "polite");
    bar.append(shell, user, reconnect, status);
    const screen = el("div", "term-screen");
    root.replaceChildren(bar, screen);

    loadVendor().then(() => {
      const term = new window.Terminal({
        cursorBlink: true, scrollback: 5000, fontSize: 14,
        fontFamily: 'ui-monospace, "SFMono-Regular", Menlo, monospace',
      });
      const fit = new window.FitAddon.FitAddon();
      term.loadAddon(fit);
      term.open(screen);
      fit.fit();
      const encoder = new TextEncoder();
      let ws = null;

      function connect() {
        if (ws) { ws.onclose = null; ws.close(); }
        term.reset();
        const q = new URLSearchParams({ container, shell: shell.value, rows: term.rows, cols: term.cols });
        if (user.value.trim()) q.set("user", user.value.trim());
        const sock = ws = new WebSocket(`ws://${location.host}/ws/terminal?${q}`);
        sock.binaryType = "arraybuffer";
        status.textContent = "connecting…";
        sock.onopen = () => { status.textContent = "connected"; term.focus(); };
        sock.onmessage = (event) => {
          if (typeof event.data !== "string") {
            term.write(new Uint8Array(event.data));
            return;
          }
          let doc;
          try { doc = JSON.parse(event.data); } catch (_) { return; }
          if (doc.type === "exit") status.textContent = `session ended (exit code ${doc.code})`;
          else if (doc.type === "error") status.textContent = doc.message;
        };
        sock.onclose = () => {
          if (ws !== sock) return;
          if (status.textContent === "connected") status.textContent = "disconnected";
        };
      }

      term.onData((data) => { if (ws && ws.readyState === 1) ws.send(encoder.encode(data)); });
      term.onBinary((data) => {
        if (!ws || ws.readyState !== 1) return;
        const bytes = new Uint8Array(data.length);
        for (let i = 0; i < data.length; i++) bytes[i] = data.charCodeAt(i) & 255;
        ws.send(bytes);
      });
      term.onResize(({ rows, cols }) => {
        if (ws && ws.readyState === 1) ws.send(JSON.stringify({ type: "resize", rows, cols }));
      });
      new ResizeObserver(() => fit.fit()).observe(screen);
      reconnect.addEventListener("click", connect);
      shell.addEventListener("change", connect);
      user.addEventListener("keydown", (e) => { if (e.key === "Enter") connect(); });
      window.hullTerminal = term;  // for tests and the bench
      connect();
    }).catch((err) => { status.textContent = err.message; });
  }

  function start() { document.querySelectorAll("[data-terminal][data-container-id]").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
