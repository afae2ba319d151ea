"""Evidence that the user (not the model) took a decision: their own reply, found in Claude Code's record.

Where the reply is looked for:

- **Claude Code's transcripts.** A session's transcript is ``<config>/projects/<folder>/<session id>.jsonl``,
  where ``<config>`` is ``$CLAUDE_CONFIG_DIR`` or ``~/.claude``; it is found from the session id, never from a
  path someone wrote down (a path outside those folders is ignored). The hooks note, in the witness record, each
  session's transcript and its length when the run came to wait (``clavain.guard.witnessing``): only what is
  written after that answers the report, so a run waiting across sessions (after ``/clear``, or the next day) is
  answered from the new session. Without such a note (no hooks saw the wait), the sessions named by the prompt
  records are read from the moment the run came to wait.
- **Prompt records** (``prompts.jsonl``, written by the UserPromptSubmit hook, in the project where the model
  could write too): they count only when the user opted in with ``approval: {evidence: prompt-record}`` in
  ``.clavain/config.yaml`` (pinned when the run starts), and never when a transcript exists. Records dated in
  the future are rejected. Re-invocations of the execute-plan command never count.

The newest genuine user message after the wait decides (``clavain.run.replies`` says which words take which
decision): a later "wait, no" takes back an earlier yes. Genuine means a ``user`` entry of role ``user`` that is
not a tool result, not ``isMeta`` (a command's expanded body), not a sidechain or subagent entry.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Optional, Sequence

from clavain.run import replies

SOURCE_TRANSCRIPT = "transcript"
SOURCE_RECORD = "prompt record (opted in)"
PROMPT_RECORD = "prompt-record"
TRANSCRIPT_SLACK = 0.001      # transcript timestamps are rounded down to the millisecond
FUTURE_SLACK = 0.0            # a record dated after the moment it is read cannot be the hook's: rejected
_SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,127}")

_REINVOKE = re.compile(r"^/(?:clavain:)?execute-plan(?:\s|$)")
_COMMAND_TAG = re.compile(r"<command-name>\s*/?(?:clavain:)?execute-plan\s*</command-name>")
_COMMAND_NAME = re.compile(r"<command-name>\s*(\S+?)\s*</command-name>", re.S)
_COMMAND_ARGS = re.compile(r"<command-args>(.*?)</command-args>", re.S)


@dataclass(frozen=True)
class Evidence:
    """The user's words that allowed a step, when they were written and where they were found."""

    text: str
    time: str                      # ISO-8601 UTC
    epoch: float
    session_id: Optional[str]
    source: str                    # SOURCE_TRANSCRIPT or SOURCE_RECORD
    transcript_path: Optional[str]
    how: str = "canonical reply"   # or "natural reply"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Window:
    """Where to look in one session's transcript: from byte ``offset``, and for entries after ``since``."""

    session_id: str
    path: str
    offset: int = 0
    since: float = 0.0


@dataclass
class Ask:
    """What a decision needs: its name, the batch and tasks its canonical reply names, and the moment the run
    came to wait for it."""

    decision: str
    since: float
    batch: Optional[int] = None
    tasks: Sequence[str] = field(default_factory=tuple)
    question: str = ""          # resume: the question the run paused for


def is_reinvocation(prompt: str) -> bool:
    """True when the prompt only (re)starts the execute-plan command: ``/execute-plan ...``,
    ``/clavain:execute-plan ...`` or Claude Code's expanded ``<command-name>/clavain:execute-plan</command-name>``."""
    text = prompt.strip()
    return bool(_REINVOKE.match(text) or _COMMAND_TAG.search(text))


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(value: object) -> Optional[float]:
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.timestamp()


# ------------------------------------------------------------------------------------ reading transcripts

def config_dirs(env: Mapping[str, str]) -> list[Path]:
    """Claude Code's config folders: ``$CLAUDE_CONFIG_DIR`` when set, and ``~/.claude``."""
    found = []
    configured = env.get("CLAUDE_CONFIG_DIR") or ""
    if configured.startswith("/"):
        found.append(Path(configured))
    home = env.get("HOME") or ""
    if home.startswith("/"):
        found.append(Path(home) / ".claude")
    return found


def project_folder(project: Path) -> str:
    """The name of Claude Code's transcript folder for sessions started in ``project``."""
    return re.sub(r"[^A-Za-z0-9]", "-", str(project))


def transcript_for(session_id: str, env: Mapping[str, str], project: Optional[Path]) -> Optional[Path]:
    """The transcript of ``session_id`` among this project's sessions (started in the project or a folder in
    it), under Claude Code's config folders; None otherwise (another project's session never counts)."""
    if project is None or not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
        return None
    own = project_folder(project)
    for base in config_dirs(env):
        try:
            folders = sorted(p for p in (base / "projects").iterdir() if p.name == own or p.name.startswith(own + "-"))
        except OSError:
            continue
        for folder in folders:
            candidate = folder / f"{session_id}.jsonl"
            if candidate.is_file():
                return candidate
    return None


def run_project(run_dir: Path) -> Optional[Path]:
    """The project a run folder belongs to (``<project>/.clavain/execute-plan/runs/<id>``), or None."""
    run_dir = Path(run_dir)
    parts = run_dir.parts
    if len(parts) >= 5 and parts[-2] == "runs" and parts[-3] == "execute-plan" and parts[-4] == ".clavain":
        return run_dir.parents[3]
    return None


def is_transcript(path: str, env: Mapping[str, str]) -> bool:
    """Whether ``path`` lies under one of Claude Code's ``projects/`` folders."""
    real = os.path.realpath(path)
    return any(real.startswith(os.path.realpath(base / "projects") + os.sep) for base in config_dirs(env))


def _message_text(entry: dict) -> Optional[str]:
    """The text a genuine user entry carries, or None when the entry is not a genuine user message."""
    if entry.get("type") != "user" or entry.get("isMeta") or entry.get("isSidechain") or entry.get("agentId"):
        return None
    if "toolUseResult" in entry or entry.get("isCompactSummary") or "origin" in entry:
        return None   # origin: Claude Code's own notices written as user entries (a background job that ended)
    message = entry.get("message")
    if not isinstance(message, dict) or message.get("role") != "user":
        return None
    content = message.get("content")
    if isinstance(content, str):
        text = content
    elif isinstance(content, list):
        parts = []
        for block in content:
            if not isinstance(block, dict) or block.get("type") == "tool_result":
                return None
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                parts.append(block["text"])
        text = "\n".join(parts)
    else:
        return None
    if text.lstrip().startswith("<task-notification>"):
        return None
    name = _COMMAND_NAME.search(text)
    if name:  # a slash command as Claude Code stores it: read as "/name args", as the prompt was typed
        args = _COMMAND_ARGS.search(text)
        text = name.group(1) + (" " + args.group(1) if args and args.group(1).strip() else "")
    return text


def _assistant_text(entry: dict) -> Optional[str]:
    """The text an assistant entry shows the user (its text blocks), or None."""
    if entry.get("type") != "assistant" or entry.get("isSidechain") or entry.get("agentId"):
        return None
    message = entry.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [b["text"] for b in content if isinstance(b, dict) and b.get("type") == "text"
                 and isinstance(b.get("text"), str)]
        return "\n".join(parts) if parts else None
    return None


@dataclass(frozen=True)
class Message:
    """A genuine user message, and the text of the assistant message shown just before it."""

    epoch: float
    text: str
    session_id: Optional[str]
    path: str
    shown_before: str


def _json_objects(lines: Iterable[bytes]) -> Iterator[dict]:
    for raw in lines:
        try:
            item = json.loads(raw)
        except ValueError:
            continue
        if isinstance(item, dict):
            yield item


def user_messages(window: Window) -> list[Message]:
    """Genuine user messages in ``window``. Raises OSError when the transcript cannot be read."""
    found: list[Message] = []
    shown = ""
    with open(window.path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        fh.seek(window.offset if 0 <= window.offset <= size else 0)
        for entry in _json_objects(fh):
            said = _assistant_text(entry)
            if said is not None:
                shown = said
                continue
            text = _message_text(entry)
            epoch = _parse_time(entry.get("timestamp"))
            if text is None or epoch is None or epoch < window.since - TRANSCRIPT_SLACK:
                continue
            session = entry.get("sessionId") if isinstance(entry.get("sessionId"), str) else window.session_id
            found.append(Message(epoch, text, session, window.path, shown))
            shown = ""
    return found


# ------------------------------------------------------------------------------------ prompt records

@dataclass
class _Records:
    records: list[dict]
    reinvocations: int = 0
    unreadable: int = 0
    future: int = 0


def _records(path: Path, since: float, now: float, *, commands: bool = False, start: int = 0) -> _Records:
    """Prompt records after ``since`` (and after byte ``start`` of the file), newest first (``commands``: keep
    re-invocations of the command)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(start)
            raw = fh.read()
    except FileNotFoundError:
        return _Records([])
    out = _Records([])
    for line in raw.splitlines():
        if not line.strip():
            continue
        record = next(_json_objects([line]), None)
        epoch, prompt = (record.get("epoch"), record.get("prompt")) if record is not None else (None, None)
        if isinstance(epoch, bool) or not isinstance(epoch, (int, float)) or not isinstance(prompt, str):
            out.unreadable += 1
            continue
        if epoch > now + FUTURE_SLACK:
            out.future += 1
            continue
        if epoch <= since or not prompt.strip():
            continue
        if is_reinvocation(prompt) and not commands:
            out.reinvocations += 1
            continue
        out.records.append(record)
    out.records.sort(key=lambda r: r["epoch"], reverse=True)
    return out


# ------------------------------------------------------------------------------------ deciding

def _judge(ask: Ask, text: str, shown_before: Optional[str]) -> Optional[str]:
    """``"canonical reply"`` / ``"natural reply"`` when ``text`` takes the decision; None otherwise.
    ``shown_before``: the assistant text before the reply (None: no transcript, canonical replies only)."""
    if ask.decision == "alongside" and is_reinvocation(text) and "--alongside" in text.split():
        return "canonical reply"   # the user typed the command with --alongside themselves
    if replies.is_canonical(text, ask.decision, ask.batch, ask.tasks):
        return "canonical reply"
    if shown_before is None or not replies.asked_for(shown_before, ask.decision, ask.batch, ask.tasks,
                                                     ask.question):
        return None
    return "natural reply" if replies.is_natural(text, ask.decision, ask.batch) else None


def windows_for(run_dir: Path, ask: Ask, witnessed: Optional[dict], env: Mapping[str, str],
                project: Optional[Path] = None) -> list[Window]:
    """Where to look for the reply: the sessions the witness noted for this wait, else the sessions the prompt
    records name (from the moment the run came to wait)."""
    found: list[Window] = []
    notes = witnessed.get("transcripts") if isinstance(witnessed, dict) else None
    for session, note in (notes or {}).items():
        if not isinstance(note, dict) or float(note.get("at", 0)) < ask.since - 1.0:
            continue
        path = note.get("path")
        if isinstance(path, str) and is_transcript(path, env):
            found.append(Window(session, path, int(note.get("offset") or 0), ask.since))
    if found:
        return found
    sessions: list[str] = []
    for record in _records(Path(run_dir) / "prompts.jsonl", ask.since, time.time(), commands=True).records:
        session = record.get("session_id")
        if isinstance(session, str) and session not in sessions:
            sessions.append(session)
    for session in sessions:
        path = transcript_for(session, env, project or run_project(run_dir))
        if path is not None:
            found.append(Window(session, str(path), 0, ask.since))
    return found


def find_reply(run_dir: Path, ask: Ask, env: Mapping[str, str], *, witnessed: Optional[dict] = None,
               opt_in: bool = False, now: Optional[float] = None, project: Optional[Path] = None,
               records_from: int = 0) -> tuple[Optional[Evidence], str]:
    """The user's reply that takes ``ask.decision``, or ``(None, why)`` (the why goes into the refusal).

    ``records_from``: how long ``prompts.jsonl`` was when the run came to wait (only records after that count).
    Inside Claude Code (``CLAUDECODE=1``) prompt records never count, whatever the settings say: there the
    transcript is the record."""
    now = time.time() if now is None else now
    messages: list[Message] = []
    unreadable: list[str] = []
    windows = windows_for(run_dir, ask, witnessed, env, project)
    for window in windows:
        try:
            messages.extend(user_messages(window))
        except OSError as exc:
            unreadable.append(f"{window.path} ({exc.strerror or exc})")
    commands = ask.decision == "alongside"   # the command typed with --alongside is the user's word for it
    messages = [m for m in messages if commands or not is_reinvocation(m.text)]
    if messages:
        newest = max(messages, key=lambda m: m.epoch)
        how = _judge(ask, newest.text, newest.shown_before)
        quoted = " ".join(newest.text.split())[:80]
        if how is None:
            return None, (f"the user's latest reply, \"{quoted}\" ({_iso(newest.epoch)}), does not "
                          f"{_wording(ask)}")
        return Evidence(newest.text, _iso(newest.epoch), newest.epoch, newest.session_id, SOURCE_TRANSCRIPT,
                        newest.path, how), f"found in Claude Code's transcript {newest.path}"
    prompts = Path(run_dir) / "prompts.jsonl"
    if windows or env.get("CLAUDECODE") == "1":
        opt_in = False   # a prompt record never counts beside a transcript, nor inside Claude Code
    found = _records(prompts, ask.since, now, commands=commands, start=records_from)
    counts = "".join([f"; {found.future} prompt record(s) dated in the future were rejected" if found.future else "",
                      f"; {found.unreadable} line(s) of {prompts} could not be read" if found.unreadable else ""])
    if not opt_in:
        where = (f"transcripts could not be read: {', '.join(unreadable)}" if unreadable else
                 f"no reply of the user after {_iso(ask.since)} in Claude Code's transcripts")
        return None, where + counts
    if not found.records:
        return None, f"no prompt recorded in {prompts} after {_iso(ask.since)}" + counts
    record = found.records[0]
    how = _judge(ask, record["prompt"], None)
    quoted = " ".join(record["prompt"].split())[:80]
    if how is None:
        return None, (f"the latest recorded prompt, \"{quoted}\", is not the reply "
                      f"`{replies.canonical(ask.decision, ask.batch, ask.tasks)}` (without a transcript only the "
                      f"exact reply counts)") + counts
    session = record.get("session_id") if isinstance(record.get("session_id"), str) else None
    stamp = record["time"] if isinstance(record.get("time"), str) else _iso(float(record["epoch"]))
    return Evidence(record["prompt"], stamp, float(record["epoch"]), session, SOURCE_RECORD, None, how), \
        f"recorded in {prompts} (prompt records opted in; no transcript)"


def _wording(ask: Ask) -> str:
    phrase = replies.canonical(ask.decision, ask.batch, ask.tasks)
    if ask.decision == "approve":
        return (f"approve: it must start with `{phrase}`, or answer the report with a plain yes "
                "(approve, yes, ok, looks good ...) and nothing held back (but, wait, fix ...)")
    return f"say `{phrase}` (or name that action in answer to the report)"
