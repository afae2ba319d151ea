"""What a markdown task says about itself: files, steps, dependencies, independence, verify entries.

Read from the task's structural lines only (never from code fences):

- ``**Files:**`` (or ``**File:**``) followed by bullets ``- Create: `path``` (role ``Create`` / ``Modify`` /
  ``Test`` / any word), or inline ``**Files:** `a`, `b```; and anywhere in the task, ``Create:`` / ``Modify:``
  / ``Test:`` / ``Delete:`` lines (bulleted, bold or bare). A ``:12-30`` line range after a path is dropped
  from the path. Only backticked spans that look like paths count, never those in parentheses: in
  ``- Modify: `package.json` (add `zod`)`` the file is ``package.json``, not the package ``zod``.
- steps: ``- [ ] **Step N: text**`` / ``- [x] ...`` checkboxes, or ``**Step N: text**`` lines.
- ``**Depends on:** Task 2, Task 3`` (or ``none``); ``**Parallel:** yes`` or ``[P]`` in the heading marks
  the task independent of its neighbours.
"""

from __future__ import annotations

import re

from clavain.plan.source import Source
from clavain.plan.verify import verify_blocks

_MARKERS = ("*", "-", "+")        # every line this module reads starts with one of these (or a role word)
_FILES = re.compile(r"\s*(?:[-*+]\s+)?\*\*Files?:?\*\*:?\s*(.*)$", re.IGNORECASE)
_ROLE_WORDS = ("Create", "Modify", "Test", "Delete")
_ROLE_LINE = re.compile(r"\s*(?:[-*+]\s+)?(?:\*\*)?(Create|Modify|Tests?|Delete)(?:\*\*)?:(?:\*\*)?\s+(.*`.*)$")
_PARENS = re.compile(r"\([^()]*\)")
_FILE_NAMES = {"Makefile", "Dockerfile", "Containerfile", "Justfile", "justfile", "Procfile", "Gemfile", "Rakefile",
               "Jenkinsfile", "Vagrantfile", "Brewfile", "Taskfile", "LICENSE", "README", "CODEOWNERS", "CHANGELOG"}
_BULLET = re.compile(r"\s*[-*+]\s+(?!\[[ xX]\])(.*)$")
_ROLE = re.compile(r"([A-Za-z][\w /-]{0,30}?):\s+(.*)$")
_CODE_SPAN = re.compile(r"`([^`]+)`")
_LINE_RANGE = re.compile(r":\d+(?:-\d+)?$")
_CHECKBOX = re.compile(r"( {0,3})[-*+]\s+\[([ xX])\]\s+(.*)$")
_STEP_WORD = re.compile(r"\**\s*Step\s+([0-9][\w.]*)\s*[:.)-]?\s*(.*?)\**\s*$", re.IGNORECASE)
_BOLD_STEP = re.compile(r"\*\*Step\s+([0-9][\w.]*)\s*[:.)-]?\s*(.*?)\*\*\s*(.*)$", re.IGNORECASE)
_DEPENDS = re.compile(r"\s*(?:[-*]\s+)?\*\*Depends(?:\s+on)?:?\*\*:?\s*(.*)$", re.IGNORECASE)
_PARALLEL = re.compile(r"\s*(?:[-*]\s+)?\*\*(?:Parallel|Independent):?\*\*:?\s*(yes|true)\b", re.IGNORECASE)
_NO_DEPENDENCY = re.compile(r"(none|nothing|n/a|-|—)\b", re.IGNORECASE)
_TASK_WORD = re.compile(r"\bTasks?\b", re.IGNORECASE)
_TASK_LIST = re.compile(r"\bTasks?\s+((?:T?\d[\w.]*)(?:\s*(?:,|&|\band\b|\bor\b)\s*(?:Task\s+)?T?\d[\w.]*)*)",
                        re.IGNORECASE)
_DEP_ID = re.compile(r"\b(T?\d[\w.]*)")


def read_body(source: Source, start: int, stop: int) -> dict:
    """Fields for ``clavain.model.Task`` from the lines start..stop (1-based, inclusive)."""
    files: list[str] = []
    roles: dict[str, str] = {}
    steps: list[dict] = []
    depends: list[tuple[str, str, int]] = []
    parallel = False
    rows = source.visible(start, stop)
    index = 0
    while index < len(rows):
        number, line = rows[index]
        index += 1
        head = line.lstrip()[:1]
        if head not in _MARKERS:
            if head in "CMTD" and head and line.lstrip().startswith(_ROLE_WORDS):
                _role_line(line, files, roles)
            continue
        match = _CHECKBOX.match(line) if "[" in line else None
        if match:
            steps.append(_step(match.group(3), number, match.group(2) != " "))
            continue
        if "**" not in line:
            if ":" in line[:16]:
                _role_line(line, files, roles)
            continue
        head = line[:40].lower()
        match = _FILES.match(line) if "file" in head else None
        if match:
            _add_files(match.group(1), "", files, roles)
            index = _files_list(rows, index, files, roles)
            continue
        match = _BOLD_STEP.match(line.strip()) if "step" in head else None
        if match:
            steps.append({"number": match.group(1).rstrip("."), "text": match.group(2).strip(), "line": number,
                          "done": False})
            continue
        match = _DEPENDS.match(line) if "depend" in head else None
        if match:
            depends.extend((dep, source.path, number) for dep in dependency_ids(match.group(1)))
            continue
        if ("parallel" in head or "independent" in head) and _PARALLEL.match(line):
            parallel = True
        elif ":" in line[:24]:
            _role_line(line, files, roles)
    verify = [entry for _, entries in verify_blocks(source, rows) for entry in entries]
    return {"files": files, "file_roles": roles, "steps": steps, "depends": depends, "parallel": parallel,
            "verify": verify}


def dependency_ids(text: str) -> list[str]:
    """``Task 2, Task 3`` / ``Tasks 2 and 3`` / ``T001, T002`` / ``1, 2`` / ``none`` -> ids as written.

    When the text names tasks with the word "Task", only the ids right after it count, so trailing prose
    ("Task 1 GREEN passing, 3 tests") adds nothing."""
    text = text.strip().strip("*").strip()
    if not text or _NO_DEPENDENCY.match(text):
        return []
    text = text.split("(")[0]
    if _TASK_WORD.search(text):
        return [m.rstrip(".") for group in _TASK_LIST.findall(text) for m in _DEP_ID.findall(group)]
    return [m.rstrip(".") for m in _DEP_ID.findall(text)]


def _step(text: str, number: int, done: bool) -> dict:
    clean = text.strip()
    word = _STEP_WORD.match(clean)
    if word:
        return {"number": word.group(1).rstrip("."), "text": word.group(2).strip().strip("*").strip(),
                "line": number, "done": done}
    return {"number": None, "text": clean, "line": number, "done": done}


def _files_list(rows, index: int, files: list[str], roles: dict[str, str]) -> int:
    """Consume the bullets that follow a ``**Files:**`` line; stop at the first blank line after them."""
    seen = False
    while index < len(rows):
        line = rows[index][1]
        if not line.strip():
            if seen:
                return index
            index += 1
            continue
        match = _BULLET.match(line)
        if not match or _BOLD_STEP.match(line.strip().lstrip("-*+ ")):
            return index
        seen = True
        role_match = _ROLE.match(match.group(1))
        if role_match and not role_match.group(1).startswith("`"):
            _add_files(role_match.group(2), role_match.group(1).strip(), files, roles)
        else:
            _add_files(match.group(1), "", files, roles)
        index += 1
    return index


def _role_line(line: str, files: list[str], roles: dict[str, str]) -> None:
    """``Create: `path``` / ``- **Modify:** `path``` outside a Files list."""
    match = _ROLE_LINE.match(line)
    if match:
        role = match.group(1)
        _add_files(match.group(2), "Test" if role == "Tests" else role, files, roles)


def looks_like_path(span: str) -> bool:
    """A file or folder name rather than a package, a command or a word: it has a ``/`` or an extension (or is
    a known extensionless file such as ``Makefile``), holds no space, and is not an npm package
    (``@scope/name``) or a URL."""
    if not span or " " in span or "://" in span:
        return False
    if span.startswith("@") and span.count("/") == 1 and "." not in span.rsplit("/", 1)[-1]:
        return False
    last = span.rstrip("/").rsplit("/", 1)[-1]
    return "/" in span or ("." in last.strip(".") and not last.endswith(".")) or last in _FILE_NAMES or \
        span.startswith(".")


def _add_files(text: str, role: str, files: list[str], roles: dict[str, str]) -> None:
    for span in _CODE_SPAN.findall(_PARENS.sub(" ", text)):
        path = _LINE_RANGE.sub("", span.strip())
        if not looks_like_path(path):
            continue
        if path not in roles:
            files.append(path)
            roles[path] = role or "Touch"
        if role and roles[path] == "Touch":
            roles[path] = role
