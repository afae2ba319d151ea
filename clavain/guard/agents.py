"""External agents by name: whether a program word could run one, in any spelling the shell reads the same way.

The shell turns ``co''dex``, ``"co"dex`` and ``co\\dex`` into ``codex`` (quote removal), ``cod{e,}x`` into
``codex codx`` (brace expansion: the first word runs) and ``/usr/*/bin/cod?x`` into ``/usr/local/bin/codex`` when
such a file exists (pathname expansion). A name check on the raw text misses all three, so:

- ``mentioned(command)``: the cheap check on the whole raw line, before any parsing: False only when no word
  of it can spell an agent's name (quotes and backslashes dropped; a word with a glob or brace is matched as
  the pattern it is). Most lines stop here;
- ``is_agent(program)``: a program word as the Bash scan found it (its base name): an agent's name, or a glob or
  brace pattern one of whose expansions could be an agent's name.

Standard library only and no ``re`` (the hooks run this on every Bash call while a run is active).
"""

from __future__ import annotations

EXTERNAL_AGENTS = ("codex", "dispatch.sh", "interserve", "oracle")
STEMS = tuple(name.split(".")[0] for name in EXTERNAL_AGENTS)
_PATTERN = set("*?[{")
_SPLIT = str.maketrans({ch: " " for ch in ";&|()<>\t\n\r`$="})
MAX_ALTERNATIVES = 256   # brace expansions read per word; past it, the word counts as an agent's name


def _named(name: str) -> bool:
    return name in EXTERNAL_AGENTS or name.rsplit(".", 1)[0] in EXTERNAL_AGENTS


def is_agent(program: str) -> bool:
    """Whether running ``program`` (a base name, maybe a glob or brace pattern) could run an external agent."""
    if not _PATTERN & set(program):
        return _named(program)
    alternatives = _braces(program)
    if alternatives is None:
        return True
    return any(_named(word) or any(_glob(word, name) for name in (*EXTERNAL_AGENTS, *STEMS))
               for word in alternatives)


def mentioned(command: str) -> bool:
    """False only when no word of ``command`` can spell an external agent's name (see the module docstring)."""
    text = command.replace("'", "").replace('"', "").replace("\\", "")
    if any(stem in text for stem in STEMS):
        return True
    if not _PATTERN & set(text):
        return False
    return any(is_agent(word.rsplit("/", 1)[-1]) for word in text.translate(_SPLIT).split() if _PATTERN & set(word))


def _braces(word: str) -> list[str] | None:
    """The words a brace expansion of ``word`` gives (``a{b,c}d`` -> ``abd acd``; ``{1..3}`` kept as it is, which
    spells no letters), or None past ``MAX_ALTERNATIVES``."""
    done: list[str] = []
    todo = [word]
    while todo:
        current = todo.pop()
        found = _first_group(current)
        if found is None:
            done.append(current)
        else:
            start, end, parts = found
            todo.extend(current[:start] + part + current[end + 1:] for part in parts)
        if len(done) + len(todo) > MAX_ALTERNATIVES:
            return None
    return done


def _first_group(word: str) -> tuple[int, int, list[str]] | None:
    """``(start, end, alternatives)`` of the first ``{a,b}`` group with a comma at its own level, or None."""
    for start, ch in enumerate(word):
        if ch != "{":
            continue
        depth, parts, begin = 0, [], start + 1
        for i in range(start + 1, len(word)):
            if word[i] == "{":
                depth += 1
            elif word[i] == "}" and depth:
                depth -= 1
            elif word[i] == "," and not depth:
                parts.append(word[begin:i])
                begin = i + 1
            elif word[i] == "}":
                if parts:
                    return start, i, [*parts, word[begin:i]]
                break
    return None


def _glob(pattern: str, name: str) -> bool:
    """Whether the shell pattern ``pattern`` (``*``, ``?``, ``[...]``, ``[!...]``) matches all of ``name``."""
    p = n = 0
    star_p, star_n = -1, 0
    while n < len(name):
        if p < len(pattern) and pattern[p] == "*":
            star_p, star_n = p, n
            p += 1
            continue
        if p < len(pattern):
            step = _one(pattern, p, name[n])
            if step:
                p, n = p + step, n + 1
                continue
        if star_p < 0:
            return False
        p, star_n = star_p + 1, star_n + 1
        n = star_n
    return all(ch == "*" for ch in pattern[p:])


def _one(pattern: str, p: int, ch: str) -> int:
    """How many pattern characters at ``p`` match the one character ``ch`` (0: no match)."""
    first = pattern[p]
    if first == "?":
        return 1
    if first != "[":
        return 1 if first == ch else 0
    i = p + 1
    negate = i < len(pattern) and pattern[i] in "!^"
    i += negate
    members, start = False, i
    while i < len(pattern) and (pattern[i] != "]" or i == start):
        if i + 2 < len(pattern) and pattern[i + 1] == "-" and pattern[i + 2] != "]":
            members = members or pattern[i] <= ch <= pattern[i + 2]
            i += 3
        else:
            members = members or pattern[i] == ch
            i += 1
    if i >= len(pattern):        # no closing bracket: the shell reads "[" as itself
        return 1 if ch == "[" else 0
    return i - p + 1 if members != negate else 0
