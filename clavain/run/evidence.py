"""Evidence that the user (not the model) spoke after a checkpoint, a halt or a request. Standard library only.

The UserPromptSubmit hook appends every user prompt to ``<run>/prompts.jsonl`` together with Claude Code's
``transcript_path``. ``find_user_prompt`` looks at the prompts recorded after a given time, newest first
(the user's latest words are what the current turn answers), and returns the first one that counts:

- a prompt that only re-invokes the execute-plan command never counts (``is_reinvocation``);
- when its transcript (Claude Code's session JSONL) is readable, the transcript must also hold a genuine
  user message written after that time whose text matches the prompt (whitespace aside): an entry with
  ``"type": "user"`` and role ``user`` that is not a tool result (``tool_result`` block or
  ``toolUseResult``), not ``isMeta`` (a command's expanded body), not ``isSidechain`` or a subagent's entry.
  If the hook also recorded ``prompt_id`` and ``session_id``, the entry's ``promptId`` and ``sessionId``
  must equal them;
- when no transcript is named or it cannot be read, the prompt record alone counts ("prompt record only").

The transcript's timestamps have millisecond precision, so a message may be up to 1 ms before the time
given and still count.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Optional

SOURCE_TRANSCRIPT = "transcript"
SOURCE_RECORD_ONLY = "prompt record only"
TRANSCRIPT_SLACK = 0.001  # transcript timestamps are rounded down to the millisecond

_REINVOKE = re.compile(r"^/(?:clavain:)?execute-plan(?:\s|$)")
_COMMAND_TAG = re.compile(r"<command-name>\s*/?(?:clavain:)?execute-plan\s*</command-name>")
_COMMAND_NAME = re.compile(r"<command-name>\s*(\S+?)\s*</command-name>", re.S)
_COMMAND_ARGS = re.compile(r"<command-args>(.*?)</command-args>", re.S)


@dataclass(frozen=True)
class Evidence:
    """The user's words that allowed a step, when they were written and where they were found."""

    text: str
    time: str                      # ISO-8601 UTC of the prompt record
    epoch: float
    session_id: Optional[str]
    source: str                    # "transcript" or "prompt record only"
    transcript_path: Optional[str]

    def to_dict(self) -> dict:
        return asdict(self)


def is_reinvocation(prompt: str) -> bool:
    """True when the prompt only (re)starts the execute-plan command: ``/execute-plan ...``,
    ``/clavain:execute-plan ...`` or Claude Code's expanded ``<command-name>/clavain:execute-plan</command-name>``."""
    text = prompt.strip()
    return bool(_REINVOKE.match(text) or _COMMAND_TAG.search(text))


def normalize(text: str) -> str:
    """Whitespace-insensitive form used to compare a prompt with a transcript message."""
    return " ".join(text.split())


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


def _message_text(entry: dict) -> Optional[str]:
    """The text a genuine user entry carries, or None when the entry is not a genuine user message."""
    if entry.get("type") != "user" or entry.get("isMeta") or entry.get("isSidechain") or entry.get("agentId"):
        return None
    if "toolUseResult" in entry or entry.get("isCompactSummary"):
        return None
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
    name = _COMMAND_NAME.search(text)
    if name:  # a slash command as Claude Code stores it: compare as "/name args", as the prompt was typed
        args = _COMMAND_ARGS.search(text)
        text = name.group(1) + (" " + args.group(1) if args and args.group(1).strip() else "")
    return text


@dataclass(frozen=True)
class _Message:
    epoch: float
    text: str                      # normalized
    prompt_id: Optional[str]
    session_id: Optional[str]


def transcript_messages(path: Path, since_epoch: float) -> list[_Message]:
    """Genuine user messages of a transcript written after ``since_epoch``. Raises OSError if unreadable."""
    found = []
    with open(path, "rb") as fh:
        for entry in _json_objects(raw for raw in fh if b'"user"' in raw):
            text = _message_text(entry)
            epoch = _parse_time(entry.get("timestamp"))
            if text is None or epoch is None or epoch < since_epoch - TRANSCRIPT_SLACK:
                continue
            found.append(_Message(epoch, normalize(text), _str_or_none(entry.get("promptId")),
                                  _str_or_none(entry.get("sessionId"))))
    return found


def _json_objects(lines: Iterable[bytes]) -> Iterator[dict]:
    """The lines that parse as JSON objects; others (torn, garbage) are skipped."""
    for raw in lines:
        try:
            item = json.loads(raw)
        except ValueError:
            continue
        if isinstance(item, dict):
            yield item


@dataclass
class _Records:
    """Prompt records after a moment, newest first; how many only re-invoked the command; how many lines of
    the file could not be read as a prompt record (garbage, torn, wrong shape: their time is unknown)."""

    records: list[dict]
    reinvocations: int = 0
    unreadable: int = 0


def _records(path: Path, since_epoch: float) -> _Records:
    try:
        raw = path.read_bytes()
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
        if epoch <= since_epoch or not prompt.strip():
            continue
        if is_reinvocation(prompt):
            out.reinvocations += 1
            continue
        out.records.append(record)
    out.records.sort(key=lambda r: r["epoch"], reverse=True)
    return out


def _str_or_none(value: object) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def find_user_prompt(run_dir: Path, since_epoch: float) -> tuple[Optional[Evidence], str]:
    """The newest user prompt recorded in ``run_dir/prompts.jsonl`` after ``since_epoch`` that counts.

    Returns ``(evidence, explanation)``: with evidence, the explanation says where it was found; without,
    it says why each candidate did not count (for the refusal message)."""
    prompts = Path(run_dir) / "prompts.jsonl"
    since = _iso(since_epoch)
    found = _records(prompts, since_epoch)
    rejected: list[str] = []
    cache: dict[str, object] = {}
    for record in found.records:
        text, epoch = record["prompt"], float(record["epoch"])
        when = record["time"] if isinstance(record.get("time"), str) else _iso(epoch)
        label = f"prompt at {when} {text.strip()[:60]!r}"
        transcript = _str_or_none(record.get("transcript_path"))
        evidence = dict(text=text, time=when, epoch=epoch, session_id=_str_or_none(record.get("session_id")),
                        transcript_path=transcript)
        messages = None
        if transcript is not None:
            if transcript not in cache:
                try:
                    cache[transcript] = transcript_messages(Path(transcript), since_epoch)
                except OSError as exc:
                    cache[transcript] = exc
            messages = cache[transcript]
        if messages is None or isinstance(messages, OSError):
            why = "no transcript named" if transcript is None else f"transcript {transcript} not readable"
            return (Evidence(source=SOURCE_RECORD_ONLY, **evidence),
                    f"{label} recorded in {prompts}; {why}, so the prompt record alone counts")
        want, prompt_id, session = normalize(text), _str_or_none(record.get("prompt_id")), evidence["session_id"]
        match = [m for m in messages if m.text == want and (prompt_id is None or m.prompt_id in (None, prompt_id))
                 and (session is None or m.session_id in (None, session))]
        if match:
            return (Evidence(source=SOURCE_TRANSCRIPT, **evidence),
                    f"{label} recorded in {prompts} and found as a user message in {transcript}")
        rejected.append(f"{label}: no user message with this text after {since} in its transcript {transcript} "
                        "(tool results, meta and subagent entries do not count)")
    unread = (f"; {found.unreadable} line(s) of {prompts} could not be read as prompt records, so a prompt "
              f"there may be lost: the user should write their reply again" if found.unreadable else "")
    if rejected:
        return None, "no user prompt counts: " + "; ".join(rejected) + unread
    tail = f" ({found.reinvocations} only re-invoked the execute-plan command)" if found.reinvocations else ""
    if found.unreadable:
        return None, f"no readable user prompt in {prompts} after {since}{tail}{unread}"
    return None, f"no user prompt recorded in {prompts} after {since}{tail}"
