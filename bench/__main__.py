"""`python -m bench [NAME ...]`: run side-by-side benchmarks and write the results.

Exit status 1 when an engine failed a benchmark (the table says which and why),
so `make bench` does not look green while Hull cannot do the command yet.
Timings are reported, never asserted: targets are shown as met or not."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from bench import BENCHMARKS
from bench.harness import Context, Measurement
from bench.report import machine_info, update_doc, write_json


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help=f"benchmarks to run (default all: {' '.join(BENCHMARKS)})")
    ap.add_argument("--rounds", type=int, help="timed rounds per engine (default: each benchmark's own)")
    ap.add_argument("--engines", default="hull,podman", help="comma-separated (default hull,podman)")
    ap.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    ap.add_argument("--keep", action="store_true", help="keep the work directory for inspection")
    ap.add_argument("--list", action="store_true", help="list benchmarks and exit")
    args = ap.parse_args(argv)

    modules = {name: importlib.import_module(f"bench.{name}") for name in BENCHMARKS}
    if args.list:
        for name, mod in modules.items():
            sign = ">=" if getattr(mod, "HIGHER", False) else "<="
            target = f"target {sign} {mod.TARGET}x" if mod.TARGET is not None else "no target"
            print(f"{name:10} {mod.TITLE} ({target})")
        return 0
    unknown = [n for n in args.names if n not in modules]
    if unknown:
        ap.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    start_load = os.getloadavg()  # other work on the machine skews the timings: recorded
    ctx = Context(args.engines.split(","), keep=args.keep, log=log)
    log(f"engines as {ctx.user.name} (uid {ctx.user.uid}); work dir {ctx.workdir}")
    for name, why in ctx.unavailable.items():
        log(f"{name}: unavailable: {why}")
    results: list[Measurement] = []
    try:
        for name in args.names or BENCHMARKS:
            mod = modules[name]
            log(f"== {name}: {mod.TITLE}")
            m = mod.run(ctx, args.rounds or mod.ROUNDS)
            results.append(m)
            for eng, r in m.results.items():
                state = f"median {r.median:.3f} {m.unit}" if r.median is not None else f"FAILED: {r.error}"
                log(f"  {eng}: {state}")
            if m.ratio is not None:
                log(f"  Hull/Podman = {m.ratio:.2f}x (target {m.target_text})" if m.target is not None
                    else f"  Hull/Podman = {m.ratio:.2f}x")
    finally:
        ctx.close()
        if results:
            info = machine_info()
            info["load"] = f"{start_load[0]:.2f} at the start, {info['load'].split()[0]} at the end"
            log(f"results: {write_json(results, info)}")
            if not args.no_doc:
                update_doc(results, info)
                log("table: docs/benchmarks.md")
    failed = any(r.error for m in results for r in m.results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
