// Live stats from /ws/stats, once a second.
// - A container's stats tab ([data-stats][data-container-id]): the tiles ([data-stat=...])
//   and four graphs drawn on canvases in [data-stats-graphs] (CPU, memory, network and
//   block I/O rates), two minutes of history kept in sessionStorage so a reload keeps it.
// - Lists and the dashboard (rows tr[data-container-id] with td[data-stat=cpu|mem]):
//   the cells, and the dashboard's totals ([data-live-stats] gets a CPU/memory chart).
"use strict";
(function () {
  if (window.hullStatsLoaded) return;
  window.hullStatsLoaded = true;

  const HISTORY = 120;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function bytes(n) {
    if (!isFinite(n)) return "–";
    const units = ["B", "kB", "MB", "GB", "TB"];
    let i = 0;
    while (Math.abs(n) >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return `${n >= 100 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
  }
  const rate = (n) => `${bytes(n)}/s`;
  const pct = (n) => `${n.toFixed(n >= 10 ? 0 : 1)}%`;

  function cssVar(name, fallback) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
  }

  // -- a small line chart --------------------------------------------------------------------
  class Chart {
    constructor(parent, title, series, format) {
      this.series = series;   // [{label, color}]
      this.format = format;
      const box = el("figure", "chart");
      const cap = el("figcaption");
      this.titleNode = el("span", "chart-title", title);
      this.valueNode = el("span", "chart-value");
      cap.append(this.titleNode, this.valueNode);
      this.canvas = el("canvas");
      this.canvas.setAttribute("role", "img");
      this.canvas.setAttribute("aria-label", title);
      box.append(cap, this.canvas);
      parent.appendChild(box);
    }

    draw(points) {   // points: [[t, v0, v1...]]
      const c = this.canvas;
      const ratio = window.devicePixelRatio || 1;
      const w = c.clientWidth || 300, h = c.clientHeight || 120;
      if (c.width !== Math.round(w * ratio) || c.height !== Math.round(h * ratio)) {
        c.width = Math.round(w * ratio);
        c.height = Math.round(h * ratio);
      }
      const g = c.getContext("2d");
      g.setTransform(ratio, 0, 0, ratio, 0, 0);
      g.clearRect(0, 0, w, h);
      let max = 0;
      for (const p of points) for (let i = 1; i < p.length; i++) max = Math.max(max, p[i]);
      const top = max > 0 ? max * 1.15 : 1;
      const ink = cssVar("--muted", "#667085");
      g.strokeStyle = cssVar("--line", "#e3e6eb");
      g.lineWidth = 1;
      for (let i = 1; i <= 3; i++) {
        const y = Math.round(h - (h * i) / 4) + 0.5;
        g.beginPath(); g.moveTo(0, y); g.lineTo(w, y); g.stroke();
      }
      g.fillStyle = ink;
      g.font = "11px system-ui, sans-serif";
      g.fillText(this.format(top), 4, 12);
      const step = w / (HISTORY - 1);
      const x0 = w - (points.length - 1) * step;
      this.series.forEach((s, k) => {
        if (points.length < 2) return;
        g.beginPath();
        points.forEach((p, i) => {
          const x = x0 + i * step, y = h - (p[k + 1] / top) * (h - 4);
          if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
        });
        g.strokeStyle = s.color;
        g.lineWidth = 1.6;
        g.stroke();
        g.lineTo(x0 + (points.length - 1) * step, h);
        g.lineTo(x0, h);
        g.closePath();
        g.globalAlpha = 0.12;
        g.fillStyle = s.color;
        g.fill();
        g.globalAlpha = 1;
      });
      const last = points[points.length - 1];
      this.valueNode.replaceChildren();
      if (last) {
        this.series.forEach((s, k) => {
          const item = el("span", "chart-legend", `${s.label ? s.label + " " : ""}${this.format(last[k + 1])}`);
          item.style.setProperty("--series", s.color);
          this.valueNode.appendChild(item);
        });
      }
    }
  }

  // -- a container's stats tab ---------------------------------------------------------------
  function containerPage(root) {
    const id = root.dataset.containerId;
    const graphs = root.querySelector("[data-stats-graphs]") || root.appendChild(el("div", "stats-graphs"));
    const blue = cssVar("--accent", "#2463eb"), violet = "#7c3aed", green = "#16a34a", orange = "#ea580c";
    const charts = {
      cpu: new Chart(graphs, "CPU", [{ label: "", color: blue }], pct),
      mem: new Chart(graphs, "Memory", [{ label: "", color: violet }], bytes),
      net: new Chart(graphs, "Network", [{ label: "in", color: green }, { label: "out", color: orange }], rate),
      blk: new Chart(graphs, "Block I/O", [{ label: "read", color: green }, { label: "write", color: orange }], rate),
    };
    const key = `hull-stats-${id}`;
    let history = [];
    try { history = JSON.parse(sessionStorage.getItem(key) || "[]"); } catch (_) { history = []; }
    let prev = history.length ? history[history.length - 1].raw : null;

    function redraw() {
      const cut = Date.now() / 1000 - HISTORY * 1.5;
      history = history.filter((p) => p.t >= cut).slice(-HISTORY);
      charts.cpu.draw(history.map((p) => [p.t, p.cpu]));
      charts.mem.draw(history.map((p) => [p.t, p.mem]));
      charts.net.draw(history.map((p) => [p.t, p.rx, p.tx]));
      charts.blk.draw(history.map((p) => [p.t, p.br, p.bw]));
    }

    function onSample(doc) {
      const row = doc.containers.find((r) => r.id === id);
      if (!row) return;
      const set = (name, text) => root.querySelectorAll(`[data-stat="${name}"]`).forEach((n) => { n.textContent = text; });
      set("cpu", pct(row.cpu)); set("mem", bytes(row.mem)); set("net_rx", bytes(row.net_rx));
      set("net_tx", bytes(row.net_tx)); set("blk_read", bytes(row.blk_read)); set("blk_write", bytes(row.blk_write));
      set("pids", String(row.pids));
      const raw = { t: doc.time, rx: row.net_rx, tx: row.net_tx, br: row.blk_read, bw: row.blk_write };
      const dt = prev ? Math.max(0.001, raw.t - prev.t) : 1;
      const d = (k) => (prev ? Math.max(0, raw[k] - prev[k]) / dt : 0);
      history.push({ t: doc.time, cpu: row.cpu, mem: row.mem, rx: d("rx"), tx: d("tx"), br: d("br"), bw: d("bw"), raw });
      prev = raw;
      redraw();
      try { sessionStorage.setItem(key, JSON.stringify(history)); } catch (_) { /* storage full: keep it in memory */ }
    }
    redraw();
    new ResizeObserver(redraw).observe(graphs);
    return { query: `container=${encodeURIComponent(id)}`, onSample };
  }

  // -- lists and the dashboard ---------------------------------------------------------------
  function listPage() {
    let totals = null, history = [];
    const table = document.querySelector("[data-live-stats]");
    if (table) {
      const box = el("div", "stats-totals");
      box.dataset.statsTotals = "";
      table.parentNode.insertBefore(box, table);
      totals = {
        cpu: new Chart(box, "CPU, all running containers", [{ label: "", color: cssVar("--accent", "#2463eb") }], pct),
        mem: new Chart(box, "Memory, all running containers", [{ label: "", color: "#7c3aed" }], bytes),
      };
    }
    function onSample(doc) {
      const byId = new Map(doc.containers.map((r) => [r.id, r]));
      document.querySelectorAll("tr[data-container-id]").forEach((tr) => {
        const row = byId.get(tr.dataset.containerId);
        const cpu = tr.querySelector('[data-stat="cpu"]'), mem = tr.querySelector('[data-stat="mem"]');
        if (cpu) cpu.textContent = row ? pct(row.cpu) : (tr.dataset.state === "running" ? "…" : "");
        if (mem) mem.textContent = row ? bytes(row.mem) : "";
      });
      document.querySelectorAll("[data-stats-total]").forEach((n) => {
        const k = n.dataset.statsTotal, v = doc.totals[k];
        if (v !== undefined) n.textContent = k === "cpu" ? pct(v) : k === "running" ? String(v) : bytes(v);
      });
      if (totals) {
        history.push([doc.time, doc.totals.cpu, doc.totals.mem]);
        history = history.slice(-HISTORY);
        totals.cpu.draw(history.map((p) => [p[0], p[1]]));
        totals.mem.draw(history.map((p) => [p[0], p[2]]));
      }
    }
    return { query: "", onSample };
  }

  function connect(page) {
    let retry = 1000;
    function open() {
      const ws = new WebSocket(`ws://${location.host}/ws/stats${page.query ? "?" + page.query : ""}`);
      ws.onopen = () => { retry = 1000; };
      ws.onmessage = (event) => {
        let doc;
        try { doc = JSON.parse(event.data); } catch (_) { return; }
        if (doc.type === "stats") page.onSample(doc);
      };
      ws.onclose = (event) => {
        if (event.code >= 4400 && event.code < 4500) return;  // a bad request stays bad
        setTimeout(open, retry);
        retry = Math.min(retry * 2, 30000);
      };
    }
    open();
  }

  function start() {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = "/static/console/css/live.css";
    if (!document.querySelector('link[href="/static/console/css/live.css"]')) document.head.appendChild(link);
    const one = document.querySelector("[data-stats][data-container-id]");
    if (one) connect(containerPage(one));
    else if (document.querySelector("[data-live-stats], tr[data-container-id] [data-stat], [data-stats-total]")) connect(listPage());
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
