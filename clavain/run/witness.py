"""The run's side of the witness record (``clavain.core.witness``): verdicts become halts, and a step the CLI
records is noted there when the CLI can write it.

Run by the user outside Claude Code's sandbox, ``clavain-cli`` can write the record, and notes its own step
(only a step that follows the head the record holds: it never vouches for entries it did not write). Run by the
model inside the sandbox it cannot, and the PostToolUse hook attests the step instead. Either way the record
tells the next command what the hooks saw: a verdict (the journal moved outside ``clavain-cli run``) halts the
run, once per verdict.
"""

from __future__ import annotations

from pathlib import Path

from clavain.core import witness
from clavain.core.files import crash_point

TYPE_CHECKING = False   # not ``typing``'s: every run command loads this module
if TYPE_CHECKING:
    from typing import Mapping, Optional


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
            if head.get("seq") and (entry["prev"], entry["seq"]) != (head.get("hash"), head.get("seq", 0) + 1):
                return
            record["head"] = {"seq": entry["seq"], "hash": entry["hash"]}
            record["state"], record["batch"] = state, batch
            record["updated"] = entry["epoch"]
    except Exception:
        return


def record(env: Mapping[str, str], project: Path, run_id: str) -> Optional[dict]:
    return witness.read(env, str(project), run_id)


def unseen_verdicts(env: Mapping[str, str], project: Path, run_id: str, seen: int) -> list[dict]:
    """The verdicts the witness holds beyond the first ``seen`` (those already turned into halts)."""
    found = record(env, project, run_id)
    verdicts = found.get("verdicts") if isinstance(found, dict) else None
    if not isinstance(verdicts, list):
        return []
    return [v for v in verdicts[seen:] if isinstance(v, dict)]
