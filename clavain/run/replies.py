"""The reply grammar: which words of the user take which decision. Pure functions, no I/O.

Each decision has a canonical reply (``clavain.core.states.REPLIES``): ``approve batch N``, ``retry task N``,
``skip task N``, ``revise task N: ...``, ``abort``, ``replan``, ``allow external``, ``accept``,
``rollback task N``. Reports close with the line that offers them. A reply that starts with the canonical
phrase always counts (case, spacing and surrounding quotes or backquotes aside).

With Claude Code's transcript, a natural reply counts too, when

- it answers an assistant message that showed the report's closing line (that message names the canonical
  phrase), so a "yes" to another question never decides anything; and
- the reply asks nothing back (no question mark);
- for an approval, every clause of it approves (yes, ok, approved, lgtm, looks good, go on, ship it, no issues
  found, nothing to fix ...): "Approved, no issues found" approves, "looks good but fix the typo" and "ok, what did
  task 2 do?" do not; for another decision, it names the action, and nothing before it in its clause denies it ("retry it", not
  "don't retry", "I can't accept that" or "no need to undo").

``resume`` (after ``run pause``) takes any reply: the user answered the question the run paused for.
Without a transcript (the prompt-record opt-in), only canonical replies count.
"""

from __future__ import annotations

import re
from typing import Optional, Sequence

from clavain.core.states import REPLIES

# A natural approval is made only of clauses like these (split at , . ; ! and "and"): nothing else, no question.
_APPROVING = [
    r"(?:yes|yep|yeah|ok|okay|sure|lgtm|approved?|go|continue|proceed|perfect|great|good|nice|fine|thanks|"
    r"thank you|cool|done|agreed|confirmed)",
    r"(?:(?:this |that |it |all |batch \d+ )?(?:looks?|is|seems?) (?:good|great|fine|ok|okay|right|correct)"
    r"(?: to me)?)",
    r"(?:all good|good to go|ship it|go on|go ahead|carry on|keep going|move on|well done|good job|nice work|"
    r"sounds good|makes sense)",
    r"(?:(?:i |we )?approve(?: it| this| that| batch \d+)?)",
    r"(?:(?:batch \d+ )?(?:is )?approved)",
    r"(?:no (?:issues?|problems?|changes?|concerns?)(?: found| here)?)",
    r"(?:no need to change anything|nothing to (?:fix|change|add)|nothing wrong(?: with (?:it|task \S+|batch \d+))?)",
    r"(?:(?:do not|don't) stop(?: now)?)",
    r"(?:(?:please )?(?:continue|proceed|go on)(?: with (?:the )?(?:next batch|batch \d+))?(?: please)?)",
]
HOLD_MARKERS = ("but", "wait", "hold", "not yet", "don't", "dont", "do not", "stop", "fix", "change", "however",
                "except", "instead", "wrong", "redo", "revise", "never", "though", "although", "once", "until",
                "unless", "actually", "apart")
_APPROVING_CLAUSE = re.compile(r"(?:please |so |then |and )?(?:" + "|".join(_APPROVING) + r")(?: please| then| now)?")
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
    if _asks(reply):
        return False   # a question is not a reply, even one that starts with the phrase
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


def _asks(reply: str) -> bool:
    """Whether the reply asks something back (a question mark anywhere)."""
    return "?" in reply


def asked_for(shown: str, decision: str, batch: Optional[int] = None, tasks: Sequence[str] = (),
              question: str = "") -> bool:
    """Whether the assistant's message ``shown`` asked for this decision and nothing else: its last line offers
    the canonical reply, and it asks no question of its own (a "yes" to another question decides nothing). For
    ``resume``, the message must have put the question the run paused for: any answer to it lets the run go on."""
    if decision == "resume":
        wanted = " ".join(question.lower().split())[:60]
        return bool(wanted) and wanted in " ".join(shown.lower().split())
    lines = [line.strip() for line in shown.strip().splitlines() if line.strip()]
    if not lines or closing_line(decision, batch, tasks).lower() not in lines[-1].lower():
        return False
    body = re.sub(r"`[^`]*`", "", shown)
    return not any(line.rstrip().endswith("?") or "? " in line for line in body.splitlines())


def is_natural(text: str, decision: str, batch: Optional[int] = None) -> bool:
    """Whether a natural reply takes ``decision`` (the transcript condition is checked by the caller). An
    approval that names another batch than ``batch`` takes nothing."""
    reply = normalize(text)
    words = _words(reply)
    if not words:
        return False
    if decision == "resume":
        return True
    if _asks(reply):
        return False
    if decision == "approve":
        other = [n for n in re.findall(r"\bbatch (\d+)", reply) if batch is not None and int(n) != batch]
        clauses = [c.strip() for c in re.split(r"[,.;:!\n]+|\s+-+\s+|\s+—\s+|\s+and\s+", reply) if c.strip()]
        return bool(clauses) and not other and all(_APPROVING_CLAUSE.fullmatch(c) for c in clauses)
    for clause in re.split(r"[,.;:!\n]+|\s+-+\s+|\s+—\s+|\s+but\s+", reply):
        for action in ACTION_WORDS.get(decision, ()):
            found = re.search(rf"(?<![\w'])({re.escape(action)})(?![\w'])", clause)
            if found and not _negated(_words(clause[:found.start()])):
                return True
    return False


def _negated(words: list[str]) -> bool:
    """Whether a clause's words before the action deny it: "no need to undo", "I can't accept", "we cannot"."""
    return any(w in NEGATIONS or w.endswith("n't") or w in ("cannot", "refuse", "nor") for w in words)


def closing_line(decision: str, batch: Optional[int] = None, tasks: Sequence[str] = ()) -> str:
    """The phrase an assistant message must have shown for a natural reply to count."""
    return canonical(decision, batch, tasks).split(":")[0]
