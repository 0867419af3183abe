"""Write results: one JSON file per run under bench/results/ (git-ignored), and the
table in docs/benchmarks.md.

The table's data also lives in a JSON comment inside the markdown, so running one
benchmark updates its row and keeps the others from earlier runs."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import time
from pathlib import Path

from bench.harness import HULL_BIN, REPO, Measurement

RESULTS_DIR = REPO / "bench" / "results"
DOC = REPO / "docs" / "benchmarks.md"
START, END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"
DATA_RE = re.compile(r"<!-- bench:data (.*?) -->", re.S)


def _version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        text = (out.stdout or out.stderr).strip().splitlines()
        return text[0] if out.returncode == 0 and text else "unavailable"
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"


def machine_info() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = _version(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    load = os.getloadavg()
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "kernel": platform.release(),
            "load": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
            "cpus": os.cpu_count(), "cpu": cpu, "commit": commit,
            "hull": _version([str(HULL_BIN), "version", "--format", "{{.Client.Version}}"]),
            "podman": _version(["podman", "--version"])}


def write_json(measurements: list[Measurement], info: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / time.strftime("%Y%m%d-%H%M%S.json", time.gmtime())
    path.write_text(json.dumps({"machine": info, "benchmarks": [m.to_json() for m in measurements]},
                               indent=2) + "\n")
    return path


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    return f"{value:.1f} {unit}"


def _cell(r: dict, unit: str) -> str:
    """Median, with the range of the samples: noisy machines show it at once."""
    samples = r.get("samples") or []
    spread = f" ({_fmt(min(samples), unit)}-{_fmt(max(samples), unit)})" if len(samples) > 1 else ""
    return _fmt(r.get("median"), unit) + spread


def _row(m: dict) -> str:
    res = m["results"]
    cells = []
    for eng in ("hull", "podman"):
        r = res.get(eng)
        if r is None:
            cells.append("not run")
        elif r.get("error"):
            cells.append("failed: " + r["error"].replace("|", "\\|")[:160])
        else:
            cells.append(_cell(r, m["unit"]))
    ratio = f"{m['ratio']:.2f}x" if m.get("ratio") is not None else "-"
    higher = m.get("higher", False)
    target = "-" if m.get("target") is None else f"{'>=' if higher else '<='} {m['target']}x"
    met = "-" if m.get("ratio") is None or m.get("target") is None else (
        "yes" if (m["ratio"] >= m["target"] if higher else m["ratio"] <= m["target"]) else "**no**")
    return f"| {m['title']} | {cells[0]} | {cells[1]} | {ratio} | {target} | {met} | {m['rounds']} | {m['when']} |"


def update_doc(measurements: list[Measurement], info: dict) -> None:
    text = DOC.read_text() if DOC.exists() else ""
    found = DATA_RE.search(text)
    rows: dict = json.loads(found.group(1)) if found else {}
    for m in measurements:
        rows[m.name] = m.to_json() | {"when": f"{info['date']} ({info['commit']})"}
    table = [
        START,
        f"<!-- bench:data {json.dumps(rows, separators=(',', ':'))} -->",
        "",
        "| benchmark | Hull median (min-max) | Podman median (min-max) | Hull/Podman | target | met | rounds | measured |",
        "|---|---|---|---|---|---|---|---|",
        *(_row(rows[k]) for k in rows),
        "",
        f"Last run: {info['date']} on {info['cpus']} x {info['cpu']}, Linux {info['kernel']}; "
        f"Hull {info['hull']} at {info['commit']}; {info['podman']}; "
        f"1-minute load average {info.get('load', 'unknown')}.",
        "",
        *(f"- {rows[k]['title']}: " + "; ".join(rows[k]["notes"]) for k in rows if rows[k].get("notes")),
        END,
    ]
    block = "\n".join(table)
    if START in text and END in text:
        text = text[:text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text)
