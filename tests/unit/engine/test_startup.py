"""engine/startup.py: the launcher's import trims change nothing a program sees.

Run in a fresh interpreter (the trims act on sys.modules, which pytest's own
process shares with every test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[3])

PROGRAM = """
import sys
from engine.startup import lean_imports
lean_imports()
import pathlib, pickle, urllib.parse
print("deferred" if "ipaddress" not in sys.modules or type(sys.modules["ipaddress"]).__name__ == "_Lazy" else "loaded")
print(urllib.parse.urlsplit("http://[fe80::1]:8080/x").hostname)
import ipaddress
from ipaddress import IPv4Network
net = ipaddress.ip_network("10.88.0.0/16")
print(net, isinstance(net, IPv4Network), pickle.loads(pickle.dumps(net)) == net)
try:
    import nt
except ImportError:
    print("no nt")
print(pathlib.Path("/a/b").as_uri())
"""


def test_ipaddress_loads_on_first_use_and_works_as_ever():
    out = subprocess.run([sys.executable, "-S", "-c", PROGRAM], cwd=ROOT, capture_output=True, text=True,
                         env={"PYTHONPATH": ROOT}, check=True).stdout.splitlines()
    assert out == ["deferred", "fe80::1", "10.88.0.0/16 True True", "no nt", "file:///a/b"]
