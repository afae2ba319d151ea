"""The plan digest, free of third-party imports so fast paths (the gate, hooks) can use it."""

from __future__ import annotations

import hashlib
import re

_PHASE_LINE = re.compile(r"^\*\*Phase:\*\*.*$\n?", re.MULTILINE)


def plan_digest(text: str) -> str:
    """sha256 of a plan's text without its ``**Phase:**`` lines, which advance-phase rewrites.

    A run pins this digest; recording a phase therefore never counts as a change of the plan."""
    return hashlib.sha256(_PHASE_LINE.sub("", text).encode("utf-8")).hexdigest()
