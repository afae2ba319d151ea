"""Digests, free of third-party imports so that fast paths (the gate, the hooks) can use them.

``sha256_hex`` takes sha256 from the interpreter's built-in module when it has one: importing ``hashlib``
(OpenSSL) costs about a third of a bare interpreter start, and the gate hashes every plan it sees.
"""

from __future__ import annotations

PHASE_PREFIX = "**Phase:**"   # lines starting so are written by advance-phase and never count as a change


def sha256_hex(data: bytes) -> str:
    """The sha256 of ``data`` as 64 hex digits (past 1 MiB through OpenSSL's, several times faster once its 2 ms import is paid: a long plan's
    state is megabytes)."""
    if len(data) > 1 << 20:
        from hashlib import sha256 as openssl_sha256

        return openssl_sha256(data).hexdigest()
    try:
        from _sha256 import sha256  # CPython <= 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # CPython >= 3.12
        except ImportError:
            from hashlib import sha256
    return sha256(data).hexdigest()


def without_phase_lines(text: str) -> str:
    r"""``text`` without its ``**Phase:**`` lines (each with its newline): what
    ``re.sub(r"^\*\*Phase:\*\*.*$\n?", "", text, flags=re.MULTILINE)`` gives, without importing ``re`` (the
    gate reads every plan with this) and at the speed of ``str.find`` however long the plan."""
    at = text.find(PHASE_PREFIX)
    if at < 0:
        return text
    kept, start = [], 0
    while at >= 0:
        if at == 0 or text[at - 1] == "\n":
            end = text.find("\n", at)
            kept.append(text[start:at])
            start = len(text) if end < 0 else end + 1
            at = text.find(PHASE_PREFIX, start)
        else:
            at = text.find(PHASE_PREFIX, at + 1)
    kept.append(text[start:])
    return "".join(kept)


def without_ticks(text: str) -> str:
    """``text`` with every checkbox of a list item unticked (``- [x]`` / ``- [X]`` read as ``- [ ]``)."""
    if "[x]" not in text and "[X]" not in text:
        return text
    import re

    return re.sub(r"^(\s*[-*+]\s+)\[[xX]\]", r"\1[ ]", text, flags=re.MULTILINE)


def plan_digest(text: str, *, ticks: bool = False) -> str:
    """sha256 of a plan's text without its ``**Phase:**`` lines, which advance-phase rewrites.

    A run pins this digest; recording a phase therefore never counts as a change of the plan. With ``ticks``,
    checkbox ticks do not count either (a run that ticks done tasks pins this form; runs pinned by earlier
    versions keep the first)."""
    text = without_phase_lines(text)
    return sha256_hex((without_ticks(text) if ticks else text).encode("utf-8"))
