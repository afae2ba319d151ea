"""Retiring a run that has no state: every journal entry is untrusted (the first line is corrupt) and
``run.json`` cannot stand in for it. Nothing can be replayed, halted or reported, yet the run's active summary
keeps ``run start`` from starting the plan again. ``run abort`` ends such a run here: after the user's word,
the journal is moved aside as evidence, the decision is written to ``retired.json`` and the active summary
goes.

The user's word follows the usual evidence rules (``clavain.run.evidence``: the reply must say `abort`), counted from the
last moment anything was known of the run: the active summary's ``updated`` time, or the journal's last
change when there is no readable summary.
"""

from __future__ import annotations

import json
import time
from datetime import datetime

from clavain.core.errors import Refused
from clavain.core.files import atomic_write
from clavain.run.journal import utc_stamp
from clavain.run.rules import CLI
from clavain.run.folder import RETIRED, RunFolder, RunLost


class Retired:
    """What ``run abort`` prints for a retired run (the shape ``Outcome`` has, without a state)."""

    def __init__(self, folder: RunFolder, text: str, data: dict) -> None:
        self.folder, self.text, self.data = folder, text, data
        self.next = f"{CLI} start <plan>"

    def as_json(self) -> dict:
        return {"run_id": self.folder.run_id, "state": "retired", **self.data, "next": self.next}


def last_known(folder: RunFolder) -> tuple[float, str]:
    """The epoch after which the user's word counts, and where it came from."""
    try:
        updated = json.loads(folder.active.read_text(encoding="utf-8"))["updated"]
        epoch = datetime.fromisoformat(updated.replace("Z", "+00:00")).timestamp()
        return epoch, f"{folder.rel(folder.active)} updated {updated}"
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    try:
        epoch = folder.journal.path.stat().st_mtime
    except OSError:
        epoch = 0.0
    return epoch, f"{folder.rel(folder.journal.path)} last changed {utc_stamp(epoch)}"


def retire(folder: RunFolder, env) -> Retired:
    """Retire a run whose state is lost, after the user's word; refuse if the run can be read after all."""
    from clavain.gate.config import load_run_config
    from clavain.run.evidence import PROMPT_RECORD, Ask, find_reply

    again = f"{CLI} abort --run {folder.run_id}"
    with folder.lock():
        try:
            folder.load()
        except RunLost:
            pass
        else:
            raise Refused(f"run {folder.run_id} can be read again; nothing to retire", next_command=again)
        if (folder.dir / RETIRED).exists() and not folder.active.exists():
            raise Refused(f"run {folder.run_id} is already retired", next_command=f"{CLI} start <plan>")
        since, shown = last_known(folder)
        opt_in = load_run_config(folder.project).approval_evidence == PROMPT_RECORD
        evidence, why = find_reply(folder.dir, Ask("abort", since), env, opt_in=opt_in)
        if evidence is None:
            raise Refused(f"retiring run {folder.run_id}, whose journal holds no trusted entry, needs the user's own "
                          f"reply written after {shown}; none counts yet ({why}). Tell the user the run's state is "
                          f"lost and wait for their answer; never answer for them", next_command=again)
        moved = folder.journal.quarantine_from(1) if folder.journal.path.stat().st_size else None
        record = {"run_id": folder.run_id, "time": utc_stamp(time.time()), "action": "abort",
                  "reason": "no trusted journal entry", "journal_moved_to": moved and folder.rel(moved),
                  "evidence": evidence.to_dict()}
        atomic_write(folder.dir / RETIRED, json.dumps(record, indent=1, ensure_ascii=False) + "\n")
        folder.active.unlink(missing_ok=True)
    where = f"its journal was moved to {folder.rel(moved)} as evidence" if moved else "its journal was empty"
    text = (f"run {folder.run_id} retired by the user (\"{' '.join(evidence.text.split())[:80]}\"): no journal entry "
            f"could be trusted, so its state was lost; {where}; the decision is in "
            f"{folder.rel(folder.dir / RETIRED)}; its active summary is removed, so the plan can be started again")
    return Retired(folder, text, {"evidence": evidence.to_dict(), "journal_moved_to": moved and folder.rel(moved)})
