"""Check a plan's Must-Haves against the project's files: artifacts, key links; truths are listed.

Artifacts: the file exists, defines each named export, contains the ``contains`` text and has at least
``min_lines`` lines. Exports are read per language:

- Python (``.py``, ``.pyi``): by ``ast``: top-level ``def``/``async def``/``class``, assigned names, names
  imported at top level (re-exports) and the strings in ``__all__``, including those under a top-level
  ``if``/``try``;
- JavaScript/TypeScript (``.js .jsx .mjs .cjs .ts .tsx .mts .cts``):
  ``export [default] [async] (function|function*|const|let|var|class|type|interface|enum) NAME``,
  ``export { ..., NAME, ... }`` (also ``x as NAME``), ``export default NAME``, and CommonJS
  ``exports.NAME =`` / ``module.exports = { ..., NAME, ... }``;
- Go (``.go``): ``func NAME``, ``func (recv) NAME``, ``type|var|const NAME``; NAME must be capitalised;
- Rust (``.rs``): ``pub [(crate)] [async] [unsafe] (fn|struct|enum|trait|type|const|static|mod) NAME``;
- shell (``.sh .bash .zsh``): ``NAME()`` or ``function NAME``;
- anything else: ``NAME`` as a whole word.

Key links: the ``from`` file must import the ``to`` module and contain the call. The import is read from
Python by ``ast`` (absolute and relative imports); elsewhere from ``import ... from '...'``, ``import '...'``,
``import(...)``, ``require('...')``, ``export ... from '...'``, Go ``import "..."``, Rust ``use a::b`` /
``mod b;``, shell ``source ...`` / ``. ...``. A module matches when its path (``.``, ``/`` or ``::``
separated, extension, ``./``, ``@/``, ``~/`` and ``/index`` dropped) ends with the target's or the other way
round. When ``from`` does not import ``to`` but ``to`` imports ``from``, the link counts and the detail says
so (plans often name a source and its test). The call is the ``pattern`` regex, else the calls named in
``via`` (``name(``), else ``via`` itself when it is a single word. A ``from`` that names no file (prose) or a
``to``/``via`` that names nothing checkable is listed for the user to check, like the truths.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

from clavain.plan.model import Artifact, KeyLink, MustHaves

JS_EXTS = {".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts"}
SHELL_EXTS = {".sh", ".bash", ".zsh"}
SOURCE_EXTS = JS_EXTS | SHELL_EXTS | {".py", ".pyi", ".go", ".rs", ".vue", ".svelte"}
SKIP_DIRS = {".git", ".clavain", "node_modules", ".venv", "venv", "__pycache__", "dist", "build", "target"}
MAX_SCAN_FILES = 50_000

_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_EXPORT_PATTERNS: dict[str, tuple[str, ...]] = {
    "js": (r"\bexport\s+(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?"
           r"(?:function\s*\*?|const|let|var|class|type|interface|enum)\s+{name}\b",
           r"\bexport\s+default\s+{name}\b",
           r"\bexports\.{name}\s*="),
    "go": (r"^\s*func\s+(?:\([^)]*\)\s*)?{name}\s*[\[(]", r"^\s*(?:type|var|const)\s+{name}\b",
           r"^\s*(?:var|const)\s*\([^)]*^\s*{name}\b"),
    "rs": (r"\bpub\s*(?:\([^)]*\)\s*)?(?:async\s+)?(?:unsafe\s+)?(?:fn|struct|enum|trait|type|const|static|mod)\s+"
           r"{name}\b",),
    "sh": (r"^\s*(?:function\s+)?{name}\s*\(\s*\)", r"^\s*function\s+{name}\b"),
    "any": (r"(?<![\w$]){name}(?![\w$])",),
}
_JS_IMPORTS = (
    r"""\bimport\s+(?:[^'";]*?\bfrom\s*)?['"]([^'"]+)['"]""",    # import x from '...'; import '...'
    r"""\bexport\s+[^'";]*?\bfrom\s*['"]([^'"]+)['"]""",          # export { x } from '...'
    r"""\b(?:require|import)\s*\(\s*['"]([^'"]+)['"]\s*\)""",     # require('...'), import('...')
)
_GO_IMPORTS = (
    r"""^\s*import\s+(?:[\w.]+\s+)?"([^"]+)\"""",                  # import "a/b"; import x "a/b"
    r"""^\s*(?:[\w.]+\s+)?"([^"]+)"\s*$""",                        # lines of an import ( ... ) block
)
_RUST_IMPORTS = (r"""^\s*(?:pub\s+)?use\s+([\w:]+)""", r"""^\s*(?:pub\s+)?mod\s+(\w+)\s*;""")
_SHELL_IMPORTS = (r"""^\s*(?:source|\.)\s+['"]?([^'"\s;]+)""",)
_IMPORT_PATTERNS: dict[str, tuple[str, ...]] = {
    "js": _JS_IMPORTS, "go": _GO_IMPORTS, "rs": _RUST_IMPORTS, "sh": _SHELL_IMPORTS,
    "any": _JS_IMPORTS + _RUST_IMPORTS + _SHELL_IMPORTS, "py": _JS_IMPORTS,
}


def _lang(path: Path) -> str:
    ext = path.suffix.lower()
    if ext in JS_EXTS or ext in {".vue", ".svelte"}:
        return "js"
    if ext == ".go":
        return "go"
    if ext == ".rs":
        return "rs"
    if ext in SHELL_EXTS:
        return "sh"
    return "py" if ext in {".py", ".pyi"} else "any"


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


# ---- exports ------------------------------------------------------------------------------------------------
def _python_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()

    def visit(body: list) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
                if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets) and node.value is not None:
                    names.update(n.value for n in ast.walk(node.value)
                                 if isinstance(n, ast.Constant) and isinstance(n.value, str))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
            elif isinstance(node, ast.If):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                visit(node.orelse)
                visit(node.finalbody)
                for handler in node.handlers:
                    visit(handler.body)

    visit(tree.body)
    return names


_JS_EXPORT_LIST = re.compile(r"\bexport\s+(?:type\s+)?\{([^}]*)\}|\bmodule\.exports\s*=\s*\{([^}]*)\}")


def _js_listed(text: str) -> set[str]:
    """Names exported by ``export { a, b as c }`` (a, c) and ``module.exports = { a, b: x }`` (a, b)."""
    names = set()
    for match in _JS_EXPORT_LIST.finditer(text):
        es_list, cjs_list = match.groups()
        for item in (es_list or cjs_list or "").split(","):
            item = item.strip()
            if es_list is not None:
                item = re.split(r"\s+as\s+", item)[-1]
            else:
                item = re.split(r"\s*:", item)[0]
            name = _IDENT.match(item.removeprefix("type ").strip())
            if name:
                names.add(name.group(0))
    return names


def export_name(raw: str) -> Optional[str]:
    """The identifier an export entry names: ``build_snippet(body)`` -> ``build_snippet``."""
    match = _IDENT.match(raw.strip().strip("`'\""))
    return match.group(0) if match else None


def missing_exports(path: Path, text: str, exports: list[str]) -> tuple[list[str], str]:
    """The exports not defined in ``text`` (as ``path``'s language reads them) and a note when parsing failed."""
    lang = _lang(path)
    defined: Optional[set[str]] = None
    listed = _js_listed(text) if lang == "js" else set()
    note = ""
    if lang == "py":
        try:
            defined = _python_names(ast.parse(text, filename=str(path)))
        except SyntaxError as exc:
            return list(exports), f"{path}:{exc.lineno}: cannot parse Python ({exc.msg})"
    missing = []
    for raw in exports:
        name = export_name(raw)
        if name is None:
            missing.append(raw)
        elif defined is not None:
            if name not in defined:
                missing.append(raw)
        elif lang == "go" and not name[0].isupper():
            missing.append(raw)
            note = "Go exports start with a capital letter"
        elif name not in listed and not any(re.search(p.format(name=re.escape(name)), text, re.M | re.S)
                                            for p in _EXPORT_PATTERNS[lang]):
            missing.append(raw)
    return missing, note


# ---- artifacts ----------------------------------------------------------------------------------------------
@dataclass
class ArtifactResult:
    path: str
    exists: bool
    missing_exports: list[str] = field(default_factory=list)
    contains_ok: Optional[bool] = None          # None: nothing asked
    min_lines_ok: Optional[bool] = None
    lines: Optional[int] = None
    ok: bool = False
    detail: str = ""
    line: Optional[int] = None                  # plan line of the artifact entry

    def to_dict(self) -> dict:
        return {"what": self.path, **asdict(self)}


def check_artifact(artifact: Artifact, project: Path) -> ArtifactResult:
    path = _resolve(project, artifact.path)
    result = ArtifactResult(path=artifact.path, exists=path.exists(), line=artifact.line)
    if not result.exists:
        result.detail = f"{artifact.path} does not exist"
        return result
    wants_content = bool(artifact.exports) or artifact.contains is not None or artifact.min_lines is not None
    if path.is_dir():
        result.ok = not wants_content
        result.detail = "is a folder" + (" (exports, contains and min_lines need a file)" if wants_content else "")
        return result
    text = _read(path)
    problems = []
    if artifact.exports:
        result.missing_exports, note = missing_exports(path, text, artifact.exports)
        if result.missing_exports:
            problems.append("missing exports: " + ", ".join(result.missing_exports) + (f" ({note})" if note else ""))
    if artifact.contains is not None:
        result.contains_ok = artifact.contains in text
        if not result.contains_ok:
            problems.append(f"does not contain {artifact.contains!r}")
    result.lines = len(text.splitlines())
    if artifact.min_lines is not None:
        result.min_lines_ok = result.lines >= artifact.min_lines
        if not result.min_lines_ok:
            problems.append(f"{result.lines} lines, fewer than {artifact.min_lines}")
    result.ok = not problems
    result.detail = "; ".join(problems) if problems else ", ".join(_checked(artifact, result.lines))
    return result


def _checked(artifact: Artifact, lines: int) -> list[str]:
    """What a found artifact was checked for, as the report shows it beside the path."""
    checked = ["exists"]
    if artifact.exports:
        checked.append("exports " + ", ".join(artifact.exports))
    if artifact.contains is not None:
        checked.append(f"contains {artifact.contains!r}")
    if artifact.min_lines is not None:
        checked.append(f"{lines} lines (at least {artifact.min_lines})")
    return checked


# ---- key links ----------------------------------------------------------------------------------------------
def _resolve(project: Path, raw: str) -> Path:
    path = Path(raw.strip().strip("`'\""))
    return path if path.is_absolute() else Path(project) / path


def find_file(project: Path, raw: str) -> tuple[Optional[Path], str]:
    """The file ``raw`` names: a path from the project root, else a unique file of that name in the project."""
    name = raw.strip().strip("`'\"")
    if not name or any(c.isspace() for c in name):
        return None, "not a file path"
    direct = _resolve(project, name)
    if direct.is_file():
        return direct, ""
    if "." not in Path(name).name:
        return None, f"{name} not found"
    found: list[Path] = []
    seen = 0
    for folder, dirs, files in os.walk(project):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        seen += len(files)
        for f in files:
            candidate = Path(folder) / f
            if f == Path(name).name and candidate.as_posix().endswith("/" + name.lstrip("./")):
                found.append(candidate)
        if seen > MAX_SCAN_FILES:
            break
    if len(found) == 1:
        return found[0], ""
    if found:
        return None, f"{name} is ambiguous: " + ", ".join(str(p.relative_to(project)) for p in sorted(found)[:5])
    return None, f"{name} not found"


def _parts(module: str) -> list[str]:
    """``../lib/foo.js`` -> [lib, foo]; ``a.b.c`` -> [a, b, c]; ``crate::a::b`` -> [a, b]; index dropped."""
    text = module.strip().strip("`'\"")
    text = re.sub(r"^(?:@/|~/|(?:\.\.?/)+)", "", text)
    stem = Path(text)
    if stem.suffix.lower() in SOURCE_EXTS:
        text = str(stem.with_suffix(""))
    sep = "/" if "/" in text else ("::" if "::" in text else ".")
    parts = [p for p in text.split(sep) if p and p not in {".", "crate", "self", "super"}]
    if len(parts) > 1 and parts[-1] in {"index", "__init__", "mod"}:
        parts.pop()
    return parts


def _matches(imported: list[str], target: list[str]) -> bool:
    if not imported or not target:
        return False
    short, long_ = sorted((imported, target), key=len)
    return long_[-len(short):] == short


def link_targets(to: str) -> list[list[str]]:
    """Module-like tokens of a key link's ``to`` (``services/x.js``, ``a.b.c``, ``crate::m``), as parts."""
    targets = []
    for token in re.split(r"[\s+,]+", to):
        token = token.strip("`'\"()[]")
        if re.fullmatch(r"[@~\w./:-]+", token) and (
                "/" in token or "::" in token or Path(token).suffix.lower() in SOURCE_EXTS
                or re.fullmatch(r"\w+(?:\.\w+)+", token)):
            # Go imports a package (a folder), not a file
            targets.append(_parts(str(Path(token).parent)) if token.endswith(".go") else _parts(token))
    return [t for t in targets if t]


def imported_modules(path: Path, text: str, project: Path) -> list[list[str]]:
    """Every module ``path`` imports, as parts (see ``_parts``)."""
    if _lang(path) == "py":
        try:
            tree = ast.parse(text, filename=str(path))
        except SyntaxError:
            tree = None
        if tree is not None:
            modules = []
            try:
                package = list(path.resolve().parent.relative_to(Path(project).resolve()).parts)
            except ValueError:
                package = []
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules.extend(a.name.split(".") for a in node.names)
                elif isinstance(node, ast.ImportFrom):
                    base = (package[: len(package) - node.level + 1] if node.level else [])
                    base = base + (node.module.split(".") if node.module else [])
                    if base:
                        modules.append(base)
                    modules.extend(base + [a.name] for a in node.names if a.name != "*")
            return modules
    found = []
    for pattern in _IMPORT_PATTERNS[_lang(path)]:
        for match in re.finditer(pattern, text, re.M):
            parts = _parts(match.group(1))
            if parts:
                found.append(parts)
    return found


def _call_patterns(link: KeyLink) -> tuple[list[str], str]:
    """Regexes that show the call, and how they were chosen; ``[]`` when nothing is checkable."""
    if link.pattern:
        try:
            re.compile(link.pattern)
            return [link.pattern], f"pattern /{link.pattern}/"
        except re.error:
            return [re.escape(link.pattern)], f"pattern {link.pattern!r} (not a valid regex: matched as text)"
    via = (link.via or "").strip().strip("`")
    calls = re.findall(r"([A-Za-z_$][\w$.]*)\s*\(", via)
    if calls:
        return [re.escape(c) + r"\s*\(" for c in calls], "a call named in via: " + ", ".join(f"{c}(" for c in calls)
    if via and not any(ch.isspace() for ch in via):
        return [re.escape(via)], f"via {via!r}"
    return [], ""


@dataclass
class KeyLinkResult:
    from_: str
    to: str
    from_path: Optional[str] = None
    import_found: Optional[bool] = None        # None: not checkable
    call_found: Optional[bool] = None
    ok: Optional[bool] = None                  # None: listed for the user to check
    detail: str = ""
    line: Optional[int] = None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["from"] = data.pop("from_")
        return {"what": f"{self.from_} -> {self.to}", **data}


def check_key_link(link: KeyLink, project: Path) -> KeyLinkResult:
    result = KeyLinkResult(from_=link.from_, to=link.to, line=link.line)
    source, why = find_file(project, link.from_)
    if source is None:
        result.detail = f"from {link.from_!r}: {why}; listed for the user to check"
        if why.endswith("not found") or "ambiguous" in why:
            result.ok, result.detail = False, f"from {link.from_!r}: {why}"
        return result
    result.from_path = str(source.relative_to(project)) if source.is_relative_to(project) else str(source)
    text = _read(source)
    notes = []
    targets = link_targets(link.to)
    if targets:
        imported = imported_modules(source, text, project)
        result.import_found = any(_matches(i, t) for i in imported for t in targets)
        if result.import_found:
            notes.append(f"imports {link.to}")
        else:
            target_file, _ = find_file(project, (link.to.split() or [""])[0])
            reverse = False
            if target_file is not None:
                back = _parts(result.from_path)
                reverse = any(_matches(i, back) for i in imported_modules(target_file, _read(target_file), project))
            result.import_found = reverse
            notes.append(f"{link.to} imports {result.from_path} (the reverse direction)" if reverse
                         else f"{result.from_path} does not import {link.to}")
    patterns, how = _call_patterns(link)
    if patterns:
        result.call_found = any(re.search(p, text, re.M) for p in patterns)
        notes.append(("found " if result.call_found else "no match for ") + how)
    checks = [c for c in (result.import_found, result.call_found) if c is not None]
    result.ok = all(checks) if checks else None
    if not checks:
        notes.append(f"nothing checkable in to {link.to!r} / via {link.via!r}; listed for the user to check")
    result.detail = "; ".join(notes)
    return result


# ---- report ----------------------------------------------------------------------------------------------------
FOUND, MISSING, UNCHECKABLE = "found", "missing", "not checkable"


@dataclass
class MustHaveReport:
    artifacts: list[ArtifactResult]
    key_links: list[KeyLinkResult]
    truths: list[str]
    checklist: list[str] = field(default_factory=list)   # the plan words them so only the user can check them

    @property
    def ok(self) -> bool:
        """Nothing checked is missing (items no machine can check never fail the report; see ``summary``)."""
        return all(a.ok for a in self.artifacts) and not any(k.ok is False for k in self.key_links)

    def to_dict(self) -> dict:
        data = {"ok": self.ok, "artifacts": [a.to_dict() for a in self.artifacts],
                "key_links": [k.to_dict() for k in self.key_links], "truths": list(self.truths)}
        if self.checklist:
            data["checklist"] = list(self.checklist)
        view = summary(data)
        data.update({key: view[key] for key in ("checked", "found", "missing", "not_checkable")})
        return data


def _status(ok) -> str:
    return {True: FOUND, False: MISSING}.get(ok, UNCHECKABLE)


def summary(report: Optional[dict]) -> dict:
    """What a Must-Haves report says, item by item, and its headline. Each item is found, missing (with what is
    missing) or not checkable (listed for the user). "All found" is said only when something was checked and
    nothing checked is missing. Reads reports recorded by earlier versions too (``ok`` per item)."""
    report = report or {}
    items = []
    for kind, label in (("artifacts", "artifact"), ("key_links", "key link")):
        for item in report.get(kind, []):
            detail = item.get("detail")
            items.append({"status": _status(item.get("ok")), "kind": label, "what": item.get("what"),
                          "detail": "" if detail in (None, "", "ok") else detail, "tasks": item.get("tasks", [])})
    items += [{"status": UNCHECKABLE, "kind": "truth", "what": t, "detail": "", "tasks": []}
              for t in report.get("truths", [])]
    items += [{"status": UNCHECKABLE, "kind": "in words", "what": t, "detail": "", "tasks": []}
              for t in report.get("checklist", [])]
    counts = {status: sum(1 for i in items if i["status"] == status) for status in (FOUND, MISSING, UNCHECKABLE)}
    checked = counts[FOUND] + counts[MISSING]
    if not items:
        headline = "the plan states none; nothing was checked"
    elif counts[MISSING]:
        headline = f"NOT all found: {counts[MISSING]} of {checked} checked missing"
    elif not checked:
        headline = "nothing could be checked by machine"
    else:
        headline = f"all found ({checked} checked)"
    if items and counts[UNCHECKABLE]:
        headline += f"; {counts[UNCHECKABLE]} not checkable, listed for you to check"
    return {"headline": headline, "items": items, "checked": checked, "found": counts[FOUND],
            "missing": counts[MISSING], "not_checkable": counts[UNCHECKABLE]}


def check_must_haves(must: MustHaves, project: Path) -> MustHaveReport:
    project = Path(project)
    return MustHaveReport(artifacts=[check_artifact(a, project) for a in must.artifacts],
                          key_links=[check_key_link(k, project) for k in must.key_links],
                          truths=list(must.truths), checklist=list(must.checklist))
