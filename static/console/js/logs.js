// Live logs: [data-logs] with data-container-id (or data-pod / data-project) gets a
// toolbar (follow/pause, tail, since, timestamps, stream, search that highlights or
// filters, download) and the lines streamed by /ws/logs as the container writes them.
// Everything from the container goes in as text (textContent, text nodes): never HTML.
"use strict";
(function () {
  if (window.hullLogsLoaded) return;
  window.hullLogsLoaded = true;

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
    // A virtual list: `spacer` is as tall as all the lines, `body` holds a small pool of
    // row nodes for the lines in view, moved with a transform.  A flood of lines costs
    // an array push per line and, once per animation frame, a refill of ~60 rows: the
    // DOM never grows with the log, and the full text stays in `kept` for search and
    // download.  Sizes are set through CSSOM (allowed by the CSP, unlike style="").
    const spacer = el("div", "log-spacer");
    const body = el("div", "log-body");
    view.append(spacer, body);
    root.replaceChildren(bar, legend, view);

    // -- state -------------------------------------------------------------------------------
    let ws = null;
    let names = [];
    let kept = [];          // every line: [source, stream, time, text, seq], oldest first
    let shown = kept;       // the lines the filters let through (kept itself when none)
    let seq = 0;
    let paused = false;
    let frozen = 0;         // while paused: how many of `shown` the view shows
    let unseen = 0;
    let stick = true;       // following: the view stays on the newest line
    let frameQueued = false;
    let generation = 0;
    let needle = "";
    let merged = false;
    let rowHeight = 0;
    let look = 0;           // bumped when rows must be redrawn (search, merged, timestamps)

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

    function filtering() {
      return stream.value !== "all" || (filter.checked && !!needle);
    }

    function passes(line) {
      const wanted = stream.value;
      if (wanted !== "all" && line[1] !== wanted) return false;
      return !(filter.checked && needle && !matches(line[3]));
    }

    function makeRow() {
      const row = el("div", "log-line");
      row.append(el("span", "log-ts"), el("span", "log-src"), el("span", "log-msg"));
      return row;
    }

    function fillRow(row, line) {
      if (row._line === line && row._look === look) return;
      row._line = line;
      row._look = look;
      row.className = `log-line ${line[1]}`;
      row.dataset.time = line[2];
      const [ts, src, msg] = row.children;
      ts.textContent = stamp(line[2]);
      src.hidden = !merged;
      if (merged) {
        src.className = `log-src src-${line[0] % PALETTE}`;
        src.textContent = names[line[0]] || "?";
      }
      highlight(msg, line[3]);
    }

    function measure() {
      // One layout read, once: every row has the same height (CSS: no wrapping).
      const probe = makeRow();
      probe.lastChild.textContent = "M";
      body.appendChild(probe);
      rowHeight = probe.getBoundingClientRect().height || 18;
      probe.remove();
    }

    function render() {
      frameQueued = false;
      // Rows are one fixed height (CSS); read it off a row in place (the layout is clean at
      // the start of a frame), so a stylesheet that arrived late is picked up.
      const sample = body.firstElementChild;
      const height = sample ? sample.getBoundingClientRect().height : 0;
      if (height > 0) rowHeight = height;
      else if (!rowHeight) measure();
      const count = paused ? Math.min(frozen, shown.length) : shown.length;
      spacer.style.height = `${count * rowHeight}px`;
      const viewRows = Math.ceil((view.clientHeight || 600) / rowHeight) + 1;
      if (stick && !paused) {
        view.scrollTop = count * rowHeight;
        ownScroll = view.scrollTop;  // where the browser put it (clamped to the end)
      }
      const first = Math.max(0, Math.min(Math.floor(view.scrollTop / rowHeight), count - viewRows));
      const last = Math.min(count, first + viewRows + 1);
      while (body.childElementCount < last - first) body.appendChild(makeRow());
      while (body.childElementCount > last - first) body.lastElementChild.remove();
      let row = body.firstElementChild;
      for (let i = first; i < last; i++, row = row.nextElementSibling) fillRow(row, shown[i]);
      body.style.transform = `translateY(${first * rowHeight}px)`;
    }

    function schedule() {
      if (!frameQueued) {
        frameQueued = true;
        requestAnimationFrame(render);
      }
    }

    let ownScroll = -1;
    view.addEventListener("scroll", () => {
      // The reader scrolled up: stop sticking to the newest line; back at the bottom: stick
      // again.  Our own scrolling to the end (render) says nothing about that.
      if (view.scrollTop !== ownScroll) {
        stick = view.scrollTop + view.clientHeight >= view.scrollHeight - rowHeight * 1.5;
      }
      schedule();
    }, { passive: true });

    function insertOrdered(list, line) {
      // Merged views: lines come nearly in time order; put each where it belongs.
      let at = list.length;
      while (at > 0 && list[at - 1][2] > line[2]) at--;
      if (at === list.length) list.push(line);
      else list.splice(at, 0, line);
    }

    function add(lines) {
      for (const line of lines) {
        if (merged) insertOrdered(kept, line);
        else kept.push(line);
        if (shown !== kept && passes(line)) {
          if (merged) insertOrdered(shown, line);
          else shown.push(line);
        }
      }
      if (kept.length > MAX_KEPT_LINES * 1.1) {  // trimmed in steps: not a copy per message
        const drop = kept.length - MAX_KEPT_LINES;
        const oldest = kept[drop][4];
        kept = kept.slice(drop);
        shown = shown === undefined || !filtering() ? kept : shown.filter((l) => l[4] >= oldest);
        frozen = Math.max(0, frozen - drop);
      }
      if (paused) {
        unseen += lines.length;
        follow.textContent = `Follow (${unseen.toLocaleString()} new)`;
        return;
      }
      schedule();
    }

    function refilter() {
      needle = search.value.trim().toLowerCase();
      shown = filtering() ? kept.filter(passes) : kept;
      if (paused) frozen = shown.length;
      look++;
      let hits = 0;
      if (needle) for (const line of kept) if (matches(line[3]) && passes(line)) hits++;
      status.textContent = needle ? `${hits.toLocaleString()} matching line${hits === 1 ? "" : "s"}` : statusText();
      schedule();
    }

    function statusText() {
      return `${kept.length.toLocaleString()} lines` + (ws && ws.readyState === 1 ? " · live" : "");
    }

    let statusQueued = false;
    function updateStatus() {
      // At most once a frame: toLocaleString and a text change per message add up in a flood.
      if (statusQueued || needle) return;
      statusQueued = true;
      requestAnimationFrame(() => { statusQueued = false; if (!needle) status.textContent = statusText(); });
    }

    function connect() {
      if (ws) { ws.onclose = null; ws.close(); }
      const gen = ++generation;
      kept = [];
      shown = kept;
      unseen = 0;
      frozen = 0;
      stick = true;
      body.replaceChildren();
      schedule();
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
          look++;
          legend.replaceChildren(...(merged ? names.map((n, i) => el("span", `log-src src-${i % PALETTE}`, n)) : []));
          status.textContent = "live";
        } else if (doc.type === "lines") {
          const now = Date.now() / 1000;
          const latency = window.hullLogLatency;
          const lines = new Array(doc.lines.length);
          for (let i = 0; i < doc.lines.length; i++) {
            const l = doc.lines[i];
            latency.push(now - l[2]);
            lines[i] = [l[0], l[1], l[2], l[3].replace(ANSI, ""), seq++];
          }
          if (latency.length > 200000) latency.splice(0, 100000);
          window.hullLogCount += lines.length;
          add(lines);
          updateStatus();
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
        frozen = shown.length;
        follow.textContent = "Follow";
      } else {
        follow.textContent = "Pause";
        unseen = 0;
        stick = true;
        schedule();
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
    clear.addEventListener("click", () => { kept = []; shown = kept; frozen = 0; refilter(); status.textContent = statusText(); });
    download.addEventListener("click", () => {
      const text = kept.filter(passes)
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
