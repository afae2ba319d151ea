"""`clavain-cli run ...` subcommands (filled in by the run work)."""

from __future__ import annotations


def register(sub) -> None:
    """Add this module's subcommands to the top-level subparsers."""
