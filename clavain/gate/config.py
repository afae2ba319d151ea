"""Settings from ``<project>/.clavain/config.yaml`` (all optional).

    gate:
      default_tier: soft          # hard | soft | none: the tier when no bead priority is known
      review_glob: docs/research/flux-drive/**/findings.json   # review artifacts, for the stale-review warning
      bd_timeout: 5               # seconds one `bd` call may take
    approval:
      evidence: transcript        # transcript (default) | prompt-record: where the user's replies are read;
                                  # prompt-record is for use without Claude Code's transcripts (a run pins it)
    run:
      tick_plan: true             # task-done ticks the task's checkbox in the plan (default: on for spec-kit
                                  # tasks.md, off otherwise)
      commit: task                # task (one git commit per task-done) | none (default)

A run pins the ``approval`` and ``run`` settings when it starts.

PyYAML reads the file; the values it gives are cached in the store keyed by the file's sha256, so
the gate path imports PyYAML only when the file changed since the last command.
"""

from __future__ import annotations

from clavain.core.errors import BadInput
from clavain.core.paths import config_file, config_path
from clavain.core.records import record   # not typing.NamedTuple: the gate's fast path runs without typing

TYPE_CHECKING = False   # not ``typing``'s (see above)
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Optional

    from clavain.gate.store import Store

TIERS = ("hard", "soft", "none")
DEFAULT_REVIEW_GLOB = "docs/research/flux-drive/**/findings.json"
CACHE_KIND = "gate-config-v1"  # bump when GateConfig changes shape


GateConfig = record("GateConfig", "default_tier review_glob bd_timeout", defaults=("soft", DEFAULT_REVIEW_GLOB, 5.0))


def _line_of(text: str, key: str) -> Optional[int]:
    """The line where ``key:`` is written, in block style or inside a flow mapping (``run: {commit: x}``)."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith(f"{key}:"):
            return number
    for number, line in enumerate(text.splitlines(), 1):
        if f"{{{key}:" in line.replace(" ", "") or f",{key}:" in line.replace(" ", ""):
            return number
    return None


def _mapping(text: str, path: Path) -> dict:
    """The config file's text as a mapping; BadInput naming path:line when it is not valid YAML or no mapping."""
    import yaml

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise BadInput(f"config is not valid YAML: {getattr(exc, 'problem', exc)}", path=path,
                       line=mark.line + 1 if mark else None, next_command=f"fix {path}") from None
    if not isinstance(data, dict):
        raise BadInput("config must be a mapping (for example `gate: {default_tier: soft}`)", path=path, line=1,
                       next_command=f"fix {path}")
    return data


def parse_gate_config(text: str, path: Path) -> GateConfig:
    """Validate the ``gate`` section of a config file's text; raise BadInput naming path:line."""
    data = _mapping(text, path)
    gate = data.get("gate") or {}
    if not isinstance(gate, dict):
        raise BadInput("`gate` must be a mapping", path=path, line=_line_of(text, "gate"), next_command=f"fix {path}")
    known = set(GateConfig._fields)
    for key in gate:
        if key not in known:
            raise BadInput(f"unknown setting gate.{key} (known: {', '.join(sorted(known))})", path=path,
                           line=_line_of(text, str(key)), next_command=f"fix {path}")
    tier = gate.get("default_tier", GateConfig._field_defaults["default_tier"])
    if tier not in TIERS:
        raise BadInput(f"gate.default_tier is {tier!r}; use one of {', '.join(TIERS)}", path=path,
                       line=_line_of(text, "default_tier"), next_command=f"fix {path}")
    glob = gate.get("review_glob", GateConfig._field_defaults["review_glob"])
    if not isinstance(glob, str) or not glob or glob.startswith("/") or ".." in glob.split("/"):
        raise BadInput(f"gate.review_glob is {glob!r}; use a glob relative to the project", path=path,
                       line=_line_of(text, "review_glob"), next_command=f"fix {path}")
    timeout = gate.get("bd_timeout", GateConfig._field_defaults["bd_timeout"])
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 600:
        raise BadInput(f"gate.bd_timeout is {timeout!r}; use a number of seconds between 0 and 600", path=path,
                       line=_line_of(text, "bd_timeout"), next_command=f"fix {path}")
    return GateConfig(default_tier=tier, review_glob=glob, bd_timeout=float(timeout))


def load_gate_config(project, store: Optional["Store"] = None) -> GateConfig:
    """The project's gate settings (defaults when there is no config file)."""
    path = config_file(project)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return GateConfig()
    except OSError as exc:
        raise BadInput(f"config cannot be read: {exc.strerror}", path=path, next_command=f"check {path}") from None
    from clavain.core.chain import canonical, loads   # json's C parts, without the json package
    from clavain.core.digest import sha256_hex

    key = sha256_hex(raw)
    if store is not None:
        cached = store.cache_get(CACHE_KIND, key)
        if cached is not None:
            return GateConfig(**loads(cached))
    config = parse_gate_config(raw.decode("utf-8", errors="replace"), path)
    if store is not None:
        store.cache_put(CACHE_KIND, key, canonical(config._asdict()))
    return config


APPROVAL_EVIDENCE = ("transcript", "prompt-record")
COMMIT_MODES = ("none", "task")
RUN_KEYS = ("tick_plan", "commit")


# approval_evidence; tick_plan (None: the default for the plan's format); commit; warnings (``path:line: text``
# for settings read leniently)
RunConfig = record("RunConfig", "approval_evidence tick_plan commit warnings",
                   defaults=("transcript", None, "none", ()), doc="The settings a run pins when it starts.")


def load_run_config(project: Path) -> RunConfig:
    """The ``approval`` and ``run`` settings of the project's config file; defaults when there is none."""
    path = config_path(project)
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return RunConfig()
    except OSError as exc:
        raise BadInput(f"config cannot be read: {exc.strerror}", path=path, next_command=f"check {path}") from None
    data = _mapping(text, path)
    return RunConfig(approval_evidence=_approval(data.get("approval"), text, path),
                     **_run_settings(data.get("run"), text, path))


def _approval(approval, text: str, path: Path) -> str:
    if approval is None:
        return "transcript"
    if not isinstance(approval, dict) or set(approval) - {"evidence"}:
        raise BadInput("`approval` must be a mapping with one key, `evidence` (transcript or prompt-record)",
                       path=path, line=_line_of(text, "approval"), next_command=f"fix {path}")
    evidence = approval.get("evidence", "transcript")
    if evidence not in APPROVAL_EVIDENCE:
        raise BadInput(f"approval.evidence is {evidence!r}; use one of {', '.join(APPROVAL_EVIDENCE)}", path=path,
                       line=_line_of(text, "evidence"), next_command=f"fix {path}")
    return evidence


def _run_settings(run, text: str, path: Path) -> dict:
    """``run.tick_plan`` and ``run.commit``. A value that would make the run ambiguous is refused; an unknown
    key is left out with a warning."""
    if run is None:
        return {}
    if not isinstance(run, dict):
        raise BadInput("`run` must be a mapping (for example `run: {tick_plan: true, commit: task}`)", path=path,
                       line=_line_of(text, "run"), next_command=f"fix {path}")
    out: dict = {}
    warnings = [f"{path}:{_line_of(text, str(key)) or 1}: unknown setting run.{key} is left out (known: "
                f"{', '.join(RUN_KEYS)})" for key in run if key not in RUN_KEYS]
    if "tick_plan" in run:
        tick = run["tick_plan"]
        if not isinstance(tick, bool):
            raise BadInput(f"run.tick_plan is {tick!r}; use true or false", path=path,
                           line=_line_of(text, "tick_plan"), next_command=f"fix {path}")
        out["tick_plan"] = tick
    if "commit" in run:
        commit = run["commit"]
        commit = "none" if commit is False or commit is None else commit
        if commit not in COMMIT_MODES:
            raise BadInput(f"run.commit is {commit!r}; use task (a commit per task) or none", path=path,
                           line=_line_of(text, "commit"), next_command=f"fix {path}")
        out["commit"] = commit
    if warnings:
        out["warnings"] = tuple(warnings)
    return out
