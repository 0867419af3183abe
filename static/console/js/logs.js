// Live logs: [data-logs] with data-container-id (or data-pod / data-project) gets a
// toolbar (follow/pause, tail, since, timestamps, stream, search that highlights or
// filters, download) and the lines streamed by /ws/logs as the container writes them.
// Everything from the container goes in as text (textContent, text nodes): never HTML.
"use strict";
(function () {
  if (window.hullLogsLoaded) return;
  window.hullLogsLoaded = true;

  const MAX_DOM_LINES = 5000;      // rendered; older ones leave the DOM (still downloadable)
  const MAX_KEPT_LINES = 200000;   // kept for search/download
  const ANSI = /\x1b\[[0-9;?]*[ -\/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|[\x00-\x08\x0b-\x1f\x7f]/g;
  const PALETTE = 8;               // .src-0 ... .src-7 in live.css

  // Latency samples (seconds from the monitor's timestamp to arrival), for bench/console.py.
  window.hullLogLatency = [];
  window.hullLogCount = 0;

  function loadCss() {
    if (document.querySelector('link[data-live-css]')) return;
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = "/static/console/css/live.css";
    link.dataset.liveCss = "";
    document.head.appendChild(link);
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function pad(n, w) { return String(n).padStart(w || 2, "0"); }
  function stamp(t) {
    const d = new Date(t * 1000);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:` +
      `${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  }

  function option(select, value, label, selected) {
    const o = el("option", null, label);
    o.value = value;
    if (selected) o.selected = true;
    select.appendChild(o);
  }

  function control(labelText, input) {
    const label = el("label", "log-control");
    label.appendChild(el("span", null, labelText));
    label.appendChild(input);
    return label;
  }

  function setup(root) {
    loadCss();
    const params = new URLSearchParams();
    if (root.dataset.pod) params.set("pod", root.dataset.pod);
    else if (root.dataset.project) params.set("project", root.dataset.project);
    else (root.dataset.containerIds || root.dataset.containerId || "").split(/[\s,]+/).filter(Boolean)
      .forEach((id) => params.append("container", id));
    const baseName = root.dataset.containerName || root.dataset.pod || root.dataset.project || "logs";

    // -- toolbar ---------------------------------------------------------------------------
    const bar = el("div", "log-toolbar");
    bar.setAttribute("role", "toolbar");
    const follow = el("button", "log-follow", "Pause");
    follow.type = "button";
    follow.setAttribute("aria-pressed", "false");
    const tail = el("select");
    [["100", "last 100"], ["500", "last 500"], ["1000", "last 1,000"], ["5000", "last 5,000"], ["-1", "all"]]
      .forEach(([v, l]) => option(tail, v, l, v === (root.dataset.tail || "500")));
    const since = el("select");
    [["", "any time"], ["5m", "5 minutes"], ["1h", "1 hour"], ["24h", "24 hours"]]
      .forEach(([v, l]) => option(since, v, l, v === ""));
    const stream = el("select");
    [["all", "stdout + stderr"], ["stdout", "stdout"], ["stderr", "stderr"]].forEach(([v, l]) => option(stream, v, l, v === "all"));
    const timestamps = el("input");
    timestamps.type = "checkbox";
    timestamps.checked = root.dataset.timestamps === "1";
    const search = el("input", "log-search");
    search.type = "search";
    search.placeholder = "Search…";
    search.setAttribute("aria-label", "Search the log");
    const filter = el("input");
    filter.type = "checkbox";
    const download = el("button", null, "Download");
    download.type = "button";
    const clear = el("button", null, "Clear");
    clear.type = "button";
    const status = el("span", "log-status muted", "connecting…");
    status.setAttribute("aria-live", "polite");
    bar.append(follow, control("Tail", tail), control("Since", since), control("Stream", stream),
      control("Timestamps", timestamps), search, control("Only matches", filter), download, clear, status);

    const legend = el("div", "log-legend");
    const view = el("div", "log-lines");
    view.setAttribute("role", "log");
    view.setAttribute("aria-live", "off");
    view.tabIndex = 0;
    if (timestamps.checked) view.classList.add("show-ts");
    // The scroller is a reversed flex column around the lines: the browser keeps it
    // pinned to the newest line by itself (scrollTop 0 is the bottom), so following
    // never has to measure the page (reading scrollHeight forces a layout of every line).
    const body = el("div", "log-body");
    view.appendChild(body);
    root.replaceChildren(bar, legend, view);

    // -- state -------------------------------------------------------------------------------
    let ws = null;
    let names = [];
    let kept = [];          // [source, stream, time, text]
    let paused = false;
    let unseen = 0;
    let pending = [];       // lines waiting for the next animation frame
    let frameQueued = false;
    let generation = 0;
    let needle = "";
    let merged = false;

    function matches(text) {
      return !needle || text.toLowerCase().includes(needle);
    }

    function highlight(node, text) {
      node.replaceChildren();
      if (!needle) { node.textContent = text; return; }
      const lower = text.toLowerCase();
      let at = 0;
      for (let i = lower.indexOf(needle); i !== -1; i = lower.indexOf(needle, at)) {
        if (i > at) node.appendChild(document.createTextNode(text.slice(at, i)));
        node.appendChild(el("mark", null, text.slice(i, i + needle.length)));
        at = i + needle.length;
      }
      if (at < text.length) node.appendChild(document.createTextNode(text.slice(at)));
    }

    function shown(line) {
      const wanted = stream.value;
      if (wanted !== "all" && line[1] !== wanted) return false;
      return !(filter.checked && needle && !matches(line[3]));
    }

    function renderLine(line) {
      const row = el("div", `log-line ${line[1]}`);
      row.dataset.time = line[2];
      row.appendChild(el("span", "log-ts", stamp(line[2])));
      if (merged) row.appendChild(el("span", `log-src src-${line[0] % PALETTE}`, names[line[0]] || "?"));
      const msg = el("span", "log-msg");
      highlight(msg, line[3]);
      row.appendChild(msg);
      if (!shown(line)) row.hidden = true;
      row._line = line;
      return row;
    }

    function toBottom() { view.scrollTop = 0; }

    let lastFlush = 0;
    function flush() {
      frameQueued = false;
      lastFlush = performance.now();
      if (paused || !pending.length) return;
      const batch = pending.length > MAX_DOM_LINES ? pending.slice(-MAX_DOM_LINES) : pending;
      pending = [];
      if (merged) {
        // Several readers: lines come nearly in time order; put each where it belongs.
        for (const line of batch) {
          const row = renderLine(line);
          let before = body.lastElementChild;
          while (before && before._line[2] > line[2]) before = before.previousElementSibling;
          body.insertBefore(row, before ? before.nextSibling : body.firstChild);
        }
      } else {
        const frag = document.createDocumentFragment();
        for (const line of batch) frag.appendChild(renderLine(line));
        body.appendChild(frag);
      }
      // childElementCount walks the children: count once, then drop the oldest in one range.
      const excess = body.childElementCount - MAX_DOM_LINES;
      if (excess > 0) {
        const range = document.createRange();
        range.setStartBefore(body.firstElementChild);
        range.setEndAfter(body.children[excess - 1]);
        range.deleteContents();
      }
    }

    function queue(lines) {
      pending.push(...lines);
      if (paused) {
        unseen += lines.length;
        follow.textContent = `Follow (${unseen} new)`;
        return;
      }
      if (!frameQueued) {
        frameQueued = true;
        // A trickle renders at the next frame; a flood in batches at most 10 times a
        // second, so layout is paid per batch rather than per frame.
        const wait = pending.length > 200 ? Math.max(0, 100 - (performance.now() - lastFlush)) : 0;
        if (wait) setTimeout(() => requestAnimationFrame(flush), wait);
        else requestAnimationFrame(flush);
      }
    }

    function refilter() {
      needle = search.value.trim().toLowerCase();
      let hits = 0;
      for (const row of body.children) {
        const line = row._line;
        highlight(row.lastElementChild, line[3]);
        row.hidden = !shown(line);
        if (needle && matches(line[3])) hits++;
      }
      status.textContent = needle ? `${hits} matching line${hits === 1 ? "" : "s"} shown` : statusText();
    }

    function statusText() {
      return `${kept.length.toLocaleString()} lines` + (ws && ws.readyState === 1 ? " · live" : "");
    }

    function connect() {
      if (ws) { ws.onclose = null; ws.close(); }
      const gen = ++generation;
      kept = [];
      pending = [];
      unseen = 0;
      body.replaceChildren();
      const q = new URLSearchParams(params);
      q.set("tail", tail.value);
      if (since.value) q.set("since", since.value);
      ws = new WebSocket(`ws://${location.host}/ws/logs?${q}`);
      ws.onmessage = (event) => {
        if (gen !== generation) return;
        let doc;
        try { doc = JSON.parse(event.data); } catch (_) { return; }
        if (doc.type === "start") {
          names = doc.containers.map((c) => c.name);
          merged = names.length > 1;
          legend.replaceChildren(...(merged ? names.map((n, i) => el("span", `log-src src-${i % PALETTE}`, n)) : []));
          status.textContent = "live";
        } else if (doc.type === "lines") {
          const now = Date.now() / 1000;
          const lines = doc.lines.map((l) => [l[0], l[1], l[2], l[3].replace(ANSI, "")]);
          for (const l of doc.lines) window.hullLogLatency.push(now - l[2]);
          if (window.hullLogLatency.length > 200000) window.hullLogLatency.splice(0, 100000);
          window.hullLogCount += lines.length;
          kept.push(...lines);
          if (kept.length > MAX_KEPT_LINES) kept.splice(0, kept.length - MAX_KEPT_LINES);
          queue(lines);
          if (!needle) status.textContent = statusText();
        } else if (doc.type === "end") {
          status.textContent = `${kept.length.toLocaleString()} lines · end of log`;
        } else if (doc.type === "error") {
          status.textContent = doc.message;
          status.classList.add("log-error");
        }
      };
      ws.onclose = () => {
        if (gen !== generation) return;
        if (!status.classList.contains("log-error")) status.textContent = statusText() + " · disconnected";
      };
    }

    follow.addEventListener("click", () => {
      paused = !paused;
      follow.setAttribute("aria-pressed", String(paused));
      if (paused) {
        follow.textContent = "Follow";
      } else {
        follow.textContent = "Pause";
        unseen = 0;
        flush();
        toBottom();
      }
    });
    tail.addEventListener("change", connect);
    since.addEventListener("change", connect);
    stream.addEventListener("change", refilter);
    filter.addEventListener("change", refilter);
    timestamps.addEventListener("change", () => view.classList.toggle("show-ts", timestamps.checked));
    let searchTimer = null;
    search.addEventListener("input", () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(refilter, 120);
    });
    clear.addEventListener("click", () => { kept = []; body.replaceChildren(); status.textContent = statusText(); });
    download.addEventListener("click", () => {
      const text = kept.filter((l) => shown(l))
        .map((l) => (timestamps.checked ? new Date(l[2] * 1000).toISOString() + " " : "") +
          (merged ? names[l[0]] + " " : "") + (l[1] === "stderr" ? "[stderr] " : "") + l[3])
        .join("\n") + "\n";
      const a = el("a");
      a.href = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
      a.download = `${baseName.replace(/[^A-Za-z0-9_.-]/g, "_")}.log`;
      document.body.appendChild(a);
      a.click();
      setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    });
    connect();
  }

  function start() { document.querySelectorAll("[data-logs]").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
