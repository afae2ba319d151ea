"""The halt report's hint when a failure looks like Claude Code's sandbox at work.

Under the sandbox a Bash command (and a ``<verify>`` command started from it) cannot write outside the
project (``Read-only file system``), cannot reach 127.0.0.1 (``Connection refused``; curl says
``Couldn't connect to server``, Node ``ECONNREFUSED``), and reaches other hosts only through Claude Code's
proxy, which answers 403 for a domain not allowed (``Tunnel connection failed: 403``, git and curl
``CONNECT tunnel failed, response 403``). These are the texts measured with claude 2.1.197.
"""

from __future__ import annotations

import re

READ_ONLY = ("read-only file system",)
REFUSED = ("connection refused", "econnrefused", "couldn't connect to server")
PROXY_403 = ("tunnel connection failed: 403", "connect tunnel failed, response 403")
MAX_PATHS = 3
_QUOTED = re.compile(r"""['"‘’`](/[^'"‘’`]+)['"‘’`]""")


def _seen(output: str, words: tuple[str, ...]) -> list[str]:
    return [line for line in output.splitlines() if any(word in line.lower() for word in words)]


def _paths(lines: list[str]) -> list[str]:
    """Absolute paths quoted in the failing lines, first ones first, each once."""
    found = [match for line in lines for match in _QUOTED.findall(line)]
    return list(dict.fromkeys(found))[:MAX_PATHS]


def sandbox_hint(output: str, sandboxed: bool) -> list[str]:
    """Paragraphs naming the sandbox as the likely cause of a failure whose ``output`` (the reason and the
    last lines of output) shows one of its effects, and how to allow what failed. Empty when the failure did
    not run under the sandbox or shows none of them."""
    if not sandboxed:
        return []
    hints = []
    read_only = _seen(output, READ_ONLY)
    if read_only:
        paths = _paths(read_only)
        where = f" ({', '.join(f'`{p}`' for p in paths)})" if paths else ""
        hints.append("`Read-only file system`: under Claude Code's sandbox, Bash commands write only inside the "
                     f"project and the sandbox's temp dir, so a write outside them{where} fails. If the task must "
                     "write there, the user can allow that folder: `clavain-cli setup sandbox --allow-write DIR` "
                     "(`--caches` for the caches of the project's tools) adds it to "
                     "`sandbox.filesystem.allowWrite`; then start a new session and retry.")
    if _seen(output, REFUSED):
        hints.append("A refused connection: sandboxed commands cannot reach 127.0.0.1 or localhost, so a local "
                     "database or dev server is out of reach however it listens. The user's options: run this "
                     "step outside Claude Code and then retry or skip the task; or turn the sandbox off for the "
                     "project (`sandbox.enabled: false` in `.claude/settings.local.json`, from the next session), "
                     "which leaves this plugin's protection at hooks only.")
    if _seen(output, PROXY_403):
        hints.append("The sandbox's proxy refused a domain (403): sandboxed commands reach only the domains in "
                     "`sandbox.network.allowedDomains` and those the user approves when asked. The user can add "
                     "the domain there (`clavain-cli setup sandbox --registries` adds the registries of the "
                     "project's tools); then start a new session and retry.")
    return hints
