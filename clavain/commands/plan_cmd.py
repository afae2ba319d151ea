"""`clavain-cli plan ...` subcommands (filled in by the plan work)."""

from __future__ import annotations


def register(sub) -> None:
    """Add this module's subcommands to the top-level subparsers."""
