// Small helpers for the server-rendered pages: instant table filtering, column
// sorting, select-all for bulk actions, confirmations, auto-submitting selects
// and bar widths. Every page works without this file; it only saves clicks.
// Nothing from the page is ever parsed as HTML: only textContent and dataset.
"use strict";
(function () {
  // Filter rows as you type: <input data-filter-table="TABLE_ID">; rows carry data-search
  // (or their text). The server-side ?q= does the same without JavaScript.
  document.querySelectorAll("input[data-filter-table]").forEach((input) => {
    const table = document.getElementById(input.dataset.filterTable);
    if (!table) return;
    const apply = () => {
      const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      table.querySelectorAll("tbody tr").forEach((row) => {
        if (row.classList.contains("group-row") || row.querySelector(".empty")) return;
        const text = (row.dataset.search || row.textContent).toLowerCase();
        row.hidden = !words.every((w) => text.includes(w));
      });
    };
    input.addEventListener("input", apply);
    // events.js swapped a live part (the rows) for a fresh copy: filter that one too.
    document.addEventListener("hull:refreshed", apply);
    input.addEventListener("keydown", (e) => {
      if (e.key === "Escape") { input.value = ""; apply(); }
    });
  });

  // "/" focuses the page's search box, as in most consoles.
  document.addEventListener("keydown", (e) => {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = (document.activeElement && document.activeElement.tagName) || "";
    if (["INPUT", "TEXTAREA", "SELECT"].includes(tag)) return;
    const box = document.querySelector("input[type=search]");
    if (box) { e.preventDefault(); box.focus(); }
  });

  // Client-side sorting for tables with class "sortable" and <th data-sort="text|num">.
  document.querySelectorAll("table.sortable").forEach((table) => {
    table.querySelectorAll("th[data-sort]").forEach((th, index) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "th-sort";
      button.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(button);
      const sort = (descending) => {
        const numeric = th.dataset.sort === "num";
        const body = table.tBodies[0];
        const rows = Array.from(body.rows).filter((r) => !r.querySelector(".empty"));
        const key = (row) => {
          const cell = row.cells[index];
          const raw = cell ? (cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim()) : "";
          return numeric ? parseFloat(raw) || 0 : raw.toLowerCase();
        };
        rows.sort((a, b) => {
          const x = key(a), y = key(b);
          const order = x < y ? -1 : x > y ? 1 : 0;
          return descending ? -order : order;
        });
        rows.forEach((row) => body.appendChild(row));
      };
      button.addEventListener("click", () => {
        const descending = th.getAttribute("aria-sort") === "ascending";
        table.querySelectorAll("th[aria-sort]").forEach((other) => other.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        sort(descending);
      });
      // Fresh rows from a live refresh come in the server's order: keep the chosen one.
      document.addEventListener("hull:refreshed", () => {
        const order = th.getAttribute("aria-sort");
        if (order) sort(order === "descending");
      });
    });
  });

  // Bulk selection: <input data-check-all> ticks the visible rows' checkboxes.
  document.querySelectorAll("form[data-bulk]").forEach((form) => {
    const all = form.querySelector("input[data-check-all]");
    const boxes = () => Array.from(form.querySelectorAll("input[name=ids]"));
    const counter = form.querySelector("[data-selected-count]");
    const initial = counter ? counter.textContent : "";
    const update = () => {
      const n = boxes().filter((b) => b.checked).length;
      if (counter) counter.textContent = n ? `${n} selected` : initial;
      if (all) {
        const visible = boxes().filter((b) => !b.closest("tr").hidden);
        all.checked = visible.length > 0 && visible.every((b) => b.checked);
      }
    };
    if (all) {
      all.addEventListener("change", () => {
        boxes().forEach((b) => { if (!b.closest("tr").hidden) b.checked = all.checked; });
        update();
      });
    }
    form.addEventListener("change", (e) => { if (e.target.name === "ids") update(); });
  });

  // Destructive buttons ask first: <button data-confirm="text">.
  document.addEventListener("click", (e) => {
    const button = e.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) e.preventDefault();
  });

  // <select data-autosubmit> / checkboxes: apply a toolbar change at once.
  document.querySelectorAll("[data-autosubmit]").forEach((el) => {
    el.addEventListener("change", () => el.form && el.form.submit());
  });

  // Bar segments get their width from data-share (percent): no inline styles (CSP).
  document.querySelectorAll("[data-share]").forEach((el) => {
    el.style.width = `${Math.max(0, Math.min(100, parseFloat(el.dataset.share) || 0))}%`;
  });

  // Flash messages fade after a while, errors stay.
  document.querySelectorAll(".flash-ok, .flash-info").forEach((el) => {
    setTimeout(() => el.classList.add("flash-old"), 8000);
  });
})();
