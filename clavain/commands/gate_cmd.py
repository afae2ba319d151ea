"""`clavain-cli gate ...` subcommands (filled in by the gate work)."""

from __future__ import annotations


def register(sub) -> None:
    """Add this module's subcommands to the top-level subparsers."""
