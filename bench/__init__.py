"""Side-by-side benchmarks: Hull vs Podman, rootless, on this machine.

`python -m bench` (what `make bench` runs) runs every module in BENCHMARKS, or the
ones named on the command line.  A benchmark module is a file here with:

    NAME = "pull"                  # row key in docs/benchmarks.md
    TITLE = "pull of a ~100 MB Debian image"
    TARGET = 0.5                   # Hull/Podman ratio the issue asks for (or None)
    ROUNDS = 5                     # default timed rounds per engine
    def run(ctx: Context, rounds: int) -> Measurement

See bench/harness.py for Context (test user, local registry, engines) and
Measurement; bench/report.py writes bench/results/*.json and the table in
docs/benchmarks.md.  bench/busybox.py is a helper (not a benchmark): the busybox
image loaded into a fresh store, shared by run, ps, start and memory.
"""

BENCHMARKS = ["pull", "images", "run", "ps", "start", "memory", "build", "build_cached", "run_net", "transfer", "transfer_net", "pod", "console", "api", "api_ps", "api_run"]
