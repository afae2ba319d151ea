"""The hooks as witnesses of every Bash call during a run (the record itself: ``clavain.core.witness``).

Before a Bash call (PreToolUse) the hook notes the journal head the call starts from. After it (PostToolUse,
and PostToolUseFailure: a failing ``run verify`` moves the head too), matched by ``tool_use_id``, it compares:

- the head did not move: nothing to say;
- it moved, and the call was this plugin's own ``clavain-cli run ...`` as a plain command
  (``clavain.guard.allow.run_command``): the new entries must chain from the head last attested; then the new
  head is attested, with the state it leads to;
- it moved any other way (a script, ``python -c``, an import of this package): a verdict, kept in the record.
  The next ``clavain-cli run`` command turns it into a halt with its report; until then the run counts as
  waiting and only the allowlist passes.

A head that moved *between* calls (a background job started earlier, a copy of old state put back) is caught
at the next PreToolUse, unless a Bash call still under way may account for it.

Every function here swallows its own errors: witnessing never blocks the allowlisted commands and never breaks
a tool call; a failure only leaves the record as it was.
"""

from __future__ import annotations

import os

from clavain.core import chain, witness
from clavain.core.witness import CLI_CALL, started_here
from clavain.core.states import WAITING, records
from clavain.guard.runs import PENDING_TTL, Run, after, head_of, journal_line

MAX_NOTED_COMMAND = 200


def _short(command: str) -> str:
    one = " ".join(command.split())
    return one if len(one) <= MAX_NOTED_COMMAND else one[:MAX_NOTED_COMMAND - 3] + "..."


def _verdict(record: dict, reason: str, now: float, head: tuple[int, str], state=None, batch=None) -> None:
    """Keep a verdict, and take the head as it now stands, so one change is judged once (the run counts as
    waiting until a clavain-cli command turns the verdict into a halt)."""
    record.setdefault("verdicts", []).append({"reason": reason, "at": now, "seq": head[0], "hash": head[1]})
    record["head"] = {"seq": head[0], "hash": head[1]}
    record["state"], record["batch"] = state, batch


def _attest(record: dict, head: tuple[int, str], state, batch, now: float) -> None:
    record["head"] = {"seq": head[0], "hash": head[1]}
    record["state"], record["batch"], record["updated"] = state, batch, now


def own_command(command: str, env) -> str:
    """The ``clavain-cli run`` subcommand when ``command`` is a plain call of this plugin's own CLI, else ""."""
    from clavain.guard.allow import run_command   # not at the top: SessionStart notes sessions without it

    found = run_command(command, str(env.get("CLAUDE_PLUGIN_ROOT") or ""), str(env.get("PATH") or ""))
    return found[0] if found else ""


def before(run: Run, tool_use_id: str, command: str, env, now: float) -> None:
    """PreToolUse of a Bash call: note where the journal stands; judge a move nobody accounted for."""
    try:
        with witness.Locked(env, run.project, run.run_id) as record:
            if record is None:
                return
            head = record.get("head") or {}
            # a CLI's own announcement stays until that CLI (or the next) notes its step, and only while it was
            # made from the head the record holds: one made from elsewhere accounts for nothing
            pending = {k: v for k, v in (record.get("pending") or {}).items()
                       if isinstance(v, dict) and (started_here(k, v, head) if k.startswith(CLI_CALL)
                                                   else now - float(v.get("at", 0)) < PENDING_TTL)}
            if not head.get("seq"):
                if run.head[0] and run.state is not None and not run.problem:
                    _attest(record, run.head, run.state, run.batch, now)  # first sight of this run
            elif (head.get("seq"), head.get("hash")) != run.head and run.head[0] \
                    and not any(call.get("ours") for call in pending.values()):
                _verdict(record, f"the journal moved from entry {head.get('seq')} to entry {run.head[0]} between "
                                 f"tool calls, outside clavain-cli run (a background job, or state put back)",
                         now, run.head, run.state, run.batch)
            if tool_use_id:
                pending[tool_use_id] = {"seq": run.head[0], "hash": run.head[1], "at": now,
                                        "command": _short(command), "ours": own_command(command, env)}
            record["pending"] = pending
    except Exception:
        return


def after_call(run: Run, payload: dict, command: str, env, now: float) -> None:
    """PostToolUse / PostToolUseFailure of a Bash call: attest the plugin's own moves, judge any other."""
    try:
        tool_use_id = payload.get("tool_use_id")
        with witness.Locked(env, run.project, run.run_id) as record:
            if record is None:
                return
            pending = record.get("pending") or {}
            if isinstance(tool_use_id, str):
                pending.pop(tool_use_id, None)
            record["pending"] = pending
            line = journal_line(run.journal())
            current = head_of(line)
            head = record.get("head") or {}
            base = (head.get("seq", 0), head.get("hash", ""))
            if not current[0]:
                if own_command(command, env) == "abort" and os.path.exists(os.path.join(run.folder(), "retired.json")):
                    _attest(record, (0, ""), "aborted", None, now)   # a run with no trusted entry, retired
                return
            if not base[0]:  # never attested (the run was just started): take it as it stands
                entry = chain.check_alone(line)
                if entry is not None:
                    state, batch = after(entry)
                    _attest(record, current, state, batch, now)
                    _note_transcript(record, run, payload, env, current, now)
                return
            if current == base:
                _note_transcript(record, run, payload, env, current, now)
                return
            ours = own_command(command, env)
            if ours:
                entries = _chained(run.journal(), base, current)
                foreign = [e for e in entries or [] if not records(ours, e.get("event", ""))]
                if entries and not foreign:
                    state, batch = after(entries[-1])
                    _attest(record, current, state, batch, now)
                    _note_transcript(record, run, payload, env, current, now)
                    return
                reason = (f"journal entry {foreign[0]['seq']} ({foreign[0].get('event')}) is not what "
                          f"`clavain-cli run {ours}` records" if foreign else
                          f"journal entries {base[0] + 1}..{current[0]} do not chain from the last attested "
                          f"entry {base[0]}")
            else:
                reason = f"the journal moved to entry {current[0]} during `{_short(command)}`, which is not " \
                         f"clavain-cli run"
            entry = chain.check_alone(line)
            state, batch = after(entry) if entry is not None else (None, None)
            _verdict(record, reason, now, current, state, batch)
    except Exception:
        return


def _chained(journal: str, base: tuple[int, str], current: tuple[int, str]) -> list[dict] | None:
    """The entries after ``base`` up to ``current`` when they chain from it; else None."""
    count = current[0] - base[0]
    if count <= 0 or count > 10_000:
        return None
    lines = chain.last_lines(journal, count)
    if len(lines) != count:
        return None
    prev, found = base[1], []
    for offset, raw in enumerate(lines, start=1):
        entry, _ = chain.check_entry(raw, expect_seq=base[0] + offset, expect_prev=prev)
        if entry is None:
            return None
        found.append(entry)
        prev = entry["hash"]
    return found if found and found[-1]["hash"] == current[1] else None


def transcript_of(payload: dict, env) -> tuple[str, str]:
    """``(session id, transcript path)`` from the hook's payload, when the path is one of Claude Code's own
    transcripts (under ``$CLAUDE_CONFIG_DIR`` or ``~/.claude``, in ``projects/``); else ``("", "")``."""
    session, path = payload.get("session_id"), payload.get("transcript_path")
    if not isinstance(session, str) or not session or not isinstance(path, str) or not path.startswith("/"):
        return "", ""
    real = os.path.realpath(path)
    for base in config_dirs(env):
        root = os.path.realpath(os.path.join(base, "projects"))
        if real.startswith(root + os.sep):
            return session, real
    return "", ""


def config_dirs(env) -> list[str]:
    """Claude Code's config folders: ``$CLAUDE_CONFIG_DIR`` when set, and ``~/.claude``."""
    found = []
    configured = env.get("CLAUDE_CONFIG_DIR") or ""
    if configured.startswith("/"):
        found.append(configured)
    home = env.get("HOME") or ""
    if home.startswith("/"):
        found.append(os.path.join(home, ".claude"))
    return found


def _note_transcript(record: dict, run: Run, payload: dict, env, head: tuple[int, str], now: float) -> None:
    """While the run waits for the user, note how long this session's transcript is: only what is written
    after that can answer the report."""
    if record.get("state") not in WAITING:
        return
    note_session(record, payload, env, head, now)


def note_session(record: dict, payload: dict, env, head: tuple[int, str], now: float, *, keep: bool = False) -> None:
    """Note the session's transcript and its current length for the entry ``head`` (``keep``: leave an
    earlier note of the same session for the same entry as it is)."""
    session, path = transcript_of(payload, env)
    if not session:
        return
    transcripts = record.setdefault("transcripts", {})
    known = transcripts.get(session)
    if keep and isinstance(known, dict) and known.get("seq") == head[0] and known.get("hash") == head[1]:
        return
    try:
        size = os.path.getsize(path)
    except OSError:
        size = 0
    transcripts[session] = {"path": path, "offset": size, "at": now, "seq": head[0], "hash": head[1]}
