"""The run's side of the witness record (``clavain.core.witness``): verdicts become halts, and a step the CLI
records is noted there when the CLI can write it.

Run by the user outside Claude Code's sandbox, ``clavain-cli`` can write the record, and notes its own step
(only a step that follows the head the record holds: it never vouches for entries it did not write). Its
announcement says which head it started from; a step that does not follow the record's head is noted only when an
announcement started from that head (a command killed before its note, caught up by the next one), so a command
that starts from entries someone else appended leaves them for the hooks to judge. Run by the
model inside the sandbox it cannot, and the PostToolUse hook attests the step instead. Either way the record
tells the next command what the hooks saw: a verdict (the journal moved outside ``clavain-cli run``) halts the
run, once per verdict.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from clavain.core import witness
from clavain.core.files import crash_point
from clavain.core.witness import CLI_CALL, started_here

TYPE_CHECKING = False   # not ``typing``'s: every run command loads this module
if TYPE_CHECKING:
    from typing import Mapping, Optional


def announce(env: Mapping[str, str], project: Path, run_id: str, head: tuple[int, str]) -> None:
    """Before the CLI records a step after the journal's ``head`` (seq, hash), note in the record that it is
    about to move the journal from there, so that a CLI killed between its journal line and its note (outside
    Claude Code, where no PostToolUse attests it) is not read as someone else moving the journal. Does nothing
    where the record cannot be written (the sandbox)."""
    try:
        with witness.Locked(env, str(project), run_id) as record:
            if record is not None:
                pending = record.setdefault("pending", {})
                pending[_own_call()] = {"ours": "cli", "at": time.time(), "seq": head[0], "hash": head[1],
                                        "command": "clavain-cli run (outside the sandbox)"}
    except Exception:
        return


def _own_call() -> str:
    return f"{CLI_CALL}{os.getpid()}"



def attest(env: Mapping[str, str], project: Path, run_id: str, entry: dict, state: str, batch: int) -> None:
    """Note ``entry`` as the witnessed head when it directly follows the head the record holds (or the
    record is new). Does nothing, silently, where the record cannot be written."""
    _attest(env, project, run_id, entry, state, batch)
    crash_point("witness-written")


def _attest(env: Mapping[str, str], project: Path, run_id: str, entry: dict, state: str, batch: int) -> None:
    try:
        with witness.Locked(env, str(project), run_id) as record:
            if record is None:
                return
            head = record.get("head") or {}
            pending = record.get("pending") or {}
            follows = (entry["prev"], entry["seq"]) == (head.get("hash"), head.get("seq", 0) + 1)
            if head.get("seq") and not follows and not any(started_here(k, v, head) for k, v in pending.items()):
                # never vouch for entries no announcement from this head accounts for: they stay the hooks' to
                # judge, and this command's own announcement goes
                record["pending"] = {k: v for k, v in pending.items() if k != _own_call()}
                return
            record["pending"] = {k: v for k, v in pending.items() if not k.startswith(CLI_CALL)}
            record["head"] = {"seq": entry["seq"], "hash": entry["hash"]}
            record["state"], record["batch"] = state, batch
            record["updated"] = entry["epoch"]
    except Exception:
        return


def catch_up(env: Mapping[str, str], project: Path, run_id: str, seq: int, digest: str, state: str,
             batch: int) -> None:
    """A clavain-cli killed after its journal line and before its note left its announcement behind: the next
    command, having checked the journal's chain, notes the journal's head as witnessed and clears it."""
    found = record(env, project, run_id)
    pending = (found or {}).get("pending") if isinstance(found, dict) else None
    head = (found or {}).get("head") if isinstance(found, dict) else None
    if not isinstance(pending, dict) or not isinstance(head, dict) or \
            not any(started_here(key, call, head) for key, call in pending.items()):
        return
    if (found.get("head") or {}).get("seq", 0) >= seq:
        return
    _attest(env, project, run_id, {"seq": seq, "hash": digest, "prev": None, "epoch": time.time()},
            state, batch)


def record(env: Mapping[str, str], project: Path, run_id: str) -> Optional[dict]:
    return witness.read(env, str(project), run_id)


def unseen_verdicts(env: Mapping[str, str], project: Path, run_id: str, seen: int) -> list[dict]:
    """The verdicts the witness holds beyond the first ``seen`` (those already turned into halts)."""
    found = record(env, project, run_id)
    verdicts = found.get("verdicts") if isinstance(found, dict) else None
    if not isinstance(verdicts, list):
        return []
    fresh = [v for v in verdicts[seen:] if isinstance(v, dict)]
    if not fresh and found.get("damaged"):   # a new record after a damaged one: the count before it is lost
        fresh = [v for v in verdicts if isinstance(v, dict) and v.get("damaged")]
    return fresh
