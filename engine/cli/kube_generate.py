"""`hull generate kube`: the same command as `hull kube generate`."""

from __future__ import annotations

from engine.cli.kube import generate as main

__all__ = ["main"]
