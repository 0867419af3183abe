"""Hull: a daemonless, rootless container engine."""

__version__ = "0.1.0"
