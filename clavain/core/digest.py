"""Digests, free of third-party imports so that fast paths (the gate, the hooks) can use them.

``sha256_hex`` takes sha256 from the interpreter's built-in module when it has one: importing ``hashlib``
(OpenSSL) costs about a third of a bare interpreter start, and the gate hashes every plan it sees.
"""

from __future__ import annotations

PHASE_PREFIX = "**Phase:**"   # lines starting so are written by advance-phase and never count as a change


def sha256_hex(data: bytes) -> str:
    """The sha256 of ``data`` as 64 hex digits."""
    try:
        from _sha256 import sha256  # CPython <= 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # CPython >= 3.12
        except ImportError:
            from hashlib import sha256
    return sha256(data).hexdigest()


def without_phase_lines(text: str) -> str:
    """``text`` without its ``**Phase:**`` lines (each with its ``\\n``)."""
    if PHASE_PREFIX not in text:
        return text
    import re  # here, not at the top: the hooks import this module and never need it

    return re.sub(r"^\*\*Phase:\*\*.*$\n?", "", text, flags=re.MULTILINE)


def plan_digest(text: str) -> str:
    """sha256 of a plan's text without its ``**Phase:**`` lines, which advance-phase rewrites.

    A run pins this digest; recording a phase therefore never counts as a change of the plan."""
    return sha256_hex(without_phase_lines(text).encode("utf-8"))
