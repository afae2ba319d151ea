"""The reply grammar: which words of the user take which decision. Pure functions, no I/O.

Each decision has a canonical reply (``clavain.core.states.REPLIES``): ``approve batch N``, ``retry task N``,
``skip task N``, ``revise task N: ...``, ``abort``, ``replan``, ``allow external``, ``accept``,
``rollback task N``. Reports close with the line that offers them. A reply that starts with the canonical
phrase always counts (case, spacing and surrounding quotes or backquotes aside).

With Claude Code's transcript, a natural reply counts too, when

- it answers an assistant message that showed the report's closing line (that message names the canonical
  phrase), so a "yes" to another question never decides anything; and
- for an approval, it opens with an approval word (approve, approved, yes, ok, lgtm, looks good, continue,
  go on, ship it ...) and holds no hold marker anywhere (but, wait, hold, not yet, don't, do not, stop, fix,
  change ...); for another decision, it names the action, not negated ("retry it", not "don't retry").

``resume`` (after ``run pause``) takes any reply: the user answered the question the run paused for.
Without a transcript (the prompt-record opt-in), only canonical replies count.
"""

from __future__ import annotations

import re
from typing import Optional, Sequence

from clavain.core.states import REPLIES

APPROVAL_OPENERS = ("approve", "approved", "yes", "yep", "yeah", "ok", "okay", "lgtm", "looks good", "look good",
                    "all good", "continue", "go on", "go ahead", "ship it", "proceed", "sounds good", "good to go",
                    "perfect", "great")
HOLD_MARKERS = ("but", "wait", "hold", "not yet", "don't", "dont", "do not", "stop", "fix", "change", "however",
                "except", "instead", "wrong", "redo", "revise", "never")
# What a natural reply must say to take each decision other than approve and resume.
ACTION_WORDS = {
    "retry": ("retry", "try again", "rerun", "re-run", "run it again"),
    "skip": ("skip",),
    "revise": ("revise", "fix", "change", "redo", "rework", "correct", "wrong"),
    "abort": ("abort", "cancel the run", "stop the run", "end the run"),
    "replan": ("replan", "re-plan", "use the new plan", "use the changed plan", "take the new plan"),
    "allow-external": ("allow external", "use codex", "external agents", "external dispatch"),
    "accept": ("accept",),
    "rollback": ("rollback", "roll back", "undo"),
    "alongside": ("alongside", "run both", "both at once", "in parallel", "at the same time"),
}
NEGATIONS = ("don't", "dont", "do not", "not", "never", "no", "without")
_WORD = re.compile(r"[a-z0-9']+(?:[-.][a-z0-9']+)*")


def normalize(text: str) -> str:
    """Lower case, curly quotes made straight, whitespace collapsed, leading quotes and backquotes dropped."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(text.lower().split()).lstrip("`'\"> *_")


def canonical(decision: str, batch: Optional[int] = None, tasks: Sequence[str] = ()) -> str:
    """The canonical reply for ``decision`` (the first task for the task-level ones), as reports print it."""
    phrase = REPLIES[decision]
    return phrase.format(batch=batch if batch is not None else "N", task=tasks[0] if tasks else "N")


def _ids(text: str) -> list[str]:
    """Task ids named after ``task`` / ``tasks``: ``task 2``, ``tasks 2, 3 and 5``, ``task T010``."""
    return [m.rstrip(".") for m in re.findall(r"[a-z]?\d[\w.]*", text)]


def is_canonical(text: str, decision: str, batch: Optional[int] = None, tasks: Sequence[str] = ()) -> bool:
    """Whether the reply starts with the canonical phrase of ``decision`` for this batch or these tasks."""
    reply = normalize(text)
    if decision == "approve":
        if re.match(rf"approve batch {batch}\b", reply):
            return True
        # "yes, approve batch 1": an approval word, then the phrase, and nothing held back
        opened = re.match(rf"(?:yes|yep|ok|okay|sure)[\s,.!:;-]+approve batch {batch}\b", reply)
        return opened is not None and not _held(_words(reply))
    if decision in ("retry", "skip", "revise", "rollback"):
        verb = {"retry": "retry", "skip": "skip", "revise": "revise", "rollback": "rollback"}[decision]
        match = re.match(rf"{verb} tasks? ([^:]*)", reply)
        if not match:
            return False
        named = {i.lower() for i in _ids(match.group(1).split(":")[0])}
        return bool(tasks) and {t.lower() for t in tasks} <= named
    phrase = REPLIES[decision]
    return reply == phrase or reply.startswith(phrase) and not reply[len(phrase):len(phrase) + 1].isalnum()


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _has(words: list[str], phrase: str) -> int:
    """Index of the first occurrence of the words of ``phrase`` in ``words``, or -1."""
    target = phrase.split()
    for i in range(len(words) - len(target) + 1):
        if words[i:i + len(target)] == target:
            return i
    return -1


def _held(words: list[str]) -> bool:
    return any(_has(words, marker) >= 0 for marker in HOLD_MARKERS)


def is_natural(text: str, decision: str, batch: Optional[int] = None) -> bool:
    """Whether a natural reply takes ``decision`` (the transcript condition is checked by the caller). An
    approval that names another batch than ``batch`` takes nothing."""
    reply = normalize(text)
    words = _words(reply)
    if not words:
        return False
    if decision == "resume":
        return True
    if decision == "approve":
        opens = any(_has(words[:len(o.split())], o) == 0 for o in APPROVAL_OPENERS)
        other = [n for n in re.findall(r"\bbatch (\d+)", reply) if batch is not None and int(n) != batch]
        return opens and not _held(words) and not other
    negated = "|".join(re.escape(n) for n in NEGATIONS)
    for action in ACTION_WORDS.get(decision, ()):
        if re.search(rf"(?<![\w'])({re.escape(action)})(?![\w'])", reply) and \
                not re.search(rf"(?<![\w'])(?:{negated})\s+(?:\w+\s+)?{re.escape(action)}(?![\w'])", reply):
            return True
    return False


def closing_line(decision: str, batch: Optional[int] = None, tasks: Sequence[str] = ()) -> str:
    """The phrase an assistant message must have shown for a natural reply to count."""
    return canonical(decision, batch, tasks).split(":")[0]
