"""Speed, held by what each hot command and each hook event imports (timings stay out of the suite: they are the
bench scripts').

Each command runs through the real ``bin/clavain-cli`` with ``PYTHONPROFILEIMPORTTIME``; the modules it imports
beyond what a bare start of the same interpreter imports must include none of the expensive ones. The costs, in
bare interpreter starts, from ``python -X importtime`` and instruction counts on CPython 3.11: ``typing`` ~1,
``pydantic`` ~8, ``jinja2`` ~5, ``filelock`` ~7 (it loads asyncio), ``yaml`` ~2, ``argparse`` ~1 with its
parsers, ``json`` and ``pathlib`` ~0.7 (both load ``re``), ``re`` ~0.6, ``sqlite3`` ~0.5.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig

import pytest

from conftest import ROOT
from gate_support import write_plan

HEAVY = {"typing", "pydantic", "pydantic_core", "jinja2", "filelock", "yaml", "argparse", "json", "pathlib", "re",
         "enum", "dataclasses", "inspect", "asyncio", "markdown_it", "shutil", "tempfile", "subprocess"}
# The command runs as bin/clavain-cli runs it, but with ``-S`` and the environment's packages appended by hand:
# no ``.pth`` file runs, so what an editable install's finder imports at start-up (pathlib, re ...) is not
# mistaken for nothing, and the command's own imports are all that remain beyond a bare start.
RUN = ("import sys; sys.path[0] = sys.argv.pop(1); sys.path.append(sys.argv.pop(1)); "
       "from clavain.cli import entry; entry()")


def imported(argv: list[str], cwd, env: dict | None = None) -> set[str]:
    """The modules the command imports beyond those of a bare start of the same interpreter."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("CLAVAIN_")}
    full.update({"PYTHONPROFILEIMPORTTIME": "1", **(env or {})})
    packages = sysconfig.get_paths()["purelib"]
    proc = subprocess.run([sys.executable, "-S", "-c", RUN, str(ROOT), packages, *argv], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    bare = subprocess.run([sys.executable, "-S", "-c", "pass"], env=full, capture_output=True, text=True, timeout=60)
    return _names(proc.stderr) - _names(bare.stderr)


def _names(stderr: str) -> set[str]:
    return {line.split("|")[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


@pytest.fixture
def gated(project):
    """A project with a plan whose gate has run once (the first enforce-gate reads the plan with the reader)."""
    write_plan(project, text="---\nbead: demo-abc1\ntitle: \"Plan\"\n---\n# Plan\n\n**Bead:** `demo-abc1`\n\n"
                             "### Task 1: One\n\nDo it.\n")
    imported(["enforce-gate", "demo-abc1", "executing", "plan.md"], project)
    return project


GATE = {
    ("--version",): set(),
    ("infer-bead", "plan.md"): {"sqlite3", "collections"},
    ("enforce-gate", "demo-abc1", "executing", "plan.md"): set(),
    ("advance-phase", "demo-abc1", "executing", "Executing: plan.md", "plan.md"): set(),
    ("phase", "demo-abc1"): set(),
}


@pytest.mark.parametrize("argv", list(GATE), ids=" ".join)
def test_the_gate_commands_import_nothing_expensive(gated, argv):
    extra = imported(list(argv), gated)
    assert "clavain.cli" in extra
    assert not extra & (HEAVY | GATE[argv]), sorted(extra & (HEAVY | GATE[argv]))


def test_the_check_sees_an_expensive_import(gated):
    """Not vacuous: ``plan validate`` reads the plan with the full reader, which validates with pydantic's
    validator (``pydantic_core``; pydantic's model classes, ``pydantic``, only for a run state read from disk)."""
    extra = imported(["plan", "validate", "plan.md"], gated)
    assert {"pydantic_core", "re"} <= extra and "pydantic" not in extra, sorted(extra)


# What each run command may not import. The per-task commands render nothing (pathlib, re and subprocess, for git,
# they do need); next, status and checkpoint render with Jinja2 (which brings typing, inspect and json along), and
# next and status run no git and open no gate store; none reads the plan with the reader (pydantic, PyYAML).
PER_TASK = HEAVY - {"pathlib", "re", "enum", "subprocess"}
RENDERING = {"pydantic", "pydantic_core", "yaml", "argparse", "filelock", "dataclasses", "asyncio", "markdown_it"}
READING = RENDERING | {"subprocess", "sqlite3", "secrets"}
DECIDING = {"pydantic", "pydantic_core", "yaml", "argparse", "filelock", "asyncio", "markdown_it"}
# ``run start`` reads the plan with the reader (pydantic's validator, PyYAML for the config), runs the gate (its
# store) and renders the first brief (Jinja2); not pydantic's model classes, nor any process for a plan without a
# bead.
STARTING = {"pydantic", "argparse", "filelock", "dataclasses", "asyncio", "markdown_it", "subprocess", "secrets"}


def test_run_start_imports_what_it_needs_and_nothing_expensive(project):
    from test_run_support import write_plan

    write_plan(project)
    extra = imported(["run", "start", "plan.md"], project)
    assert {"clavain.run.engine", "pydantic_core", "jinja2", "clavain.gate.store"} <= extra, sorted(extra)
    assert not extra & STARTING, sorted(extra & STARTING)


def test_the_run_commands_import_what_they_need_and_nothing_expensive(project):
    from test_run_support import ok, say, write_plan

    write_plan(project)
    ok(project, "start", "plan.md")
    (project / "a.txt").write_text("hello\n")
    (project / "out.md").write_text("done\n")
    ok(project, "task-start", "1")
    ok(project, "verify", "1")
    ok(project, "task-done", "1", "--output", "out.md")
    steps = [(["task-start", "2"], PER_TASK), (["verify", "2"], PER_TASK),
             (["task-done", "2", "--output", "out.md"], PER_TASK), (["next"], READING), (["status"], READING)]
    for argv, forbidden in steps:
        extra = imported(["run", *argv], project)
        assert "clavain.run.engine" in extra and not extra & forbidden, (argv, sorted(extra & forbidden))
    ok(project, "task-start", "3")
    ok(project, "task-done", "3", "--output", "out.md")
    extra = imported(["run", "checkpoint"], project)
    assert "jinja2" in extra and not extra & RENDERING, sorted(extra & RENDERING)
    say(project, "approve batch 1")
    extra = imported(["run", "approve"], project)
    assert "clavain.run.evidence" in extra and not extra & DECIDING, sorted(extra & DECIDING)


# The hooks: a plain reading command or an external agent called by name is settled without the Bash scan (no
# ``re``, no ``shlex``), with a run active or waiting; a line the plain reading cannot settle still gets the scan.
HOOK_LINES = [
    ("tail -n 2 ~/.claude/projects/p/s.jsonl", "running", False, 0),
    ("cat .clavain/execute-plan/active/r1.json", "awaiting_approval", False, 0),
    ("grep -n clavain settings.json", "running", False, 0),
    ("codex exec 'task 3'", "running", False, 2),
    ("codex exec 'task 3'", "awaiting_approval", False, 2),
    ("echo x > .clavain/execute-plan/x", "running", True, 2),
    ("cat ~/.claude/x | codex exec -", "running", True, 2),
    ("c=cod; ${c}ex exec 'task 3'", "running", True, 2),
]


@pytest.mark.parametrize("command,state,scans,code", HOOK_LINES, ids=[row[0] for row in HOOK_LINES])
def test_the_hook_reads_a_plain_line_without_the_bash_scan(project, command, state, scans, code):
    from test_hooks import ENTRY, make_run, tool_call

    make_run(project, state=state)
    # the entry's own Python line (it starts with -I, which ignores PYTHONPROFILEIMPORTTIME), with -X importtime
    code_text = ENTRY.read_text().split("-c '", 1)[1].split("' \"$root\"", 1)[0]
    proc = subprocess.run([sys.executable, "-S", "-I", "-X", "importtime", "-c", code_text, str(ROOT), "pre-tool-use"],
                          input=json.dumps(tool_call(project, "Bash", command=command)), cwd=project,
                          env={"PATH": os.environ["PATH"], "HOME": str(project)}, capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == code, proc.stderr[-2000:]
    extra = _names(proc.stderr)
    assert ("clavain.guard.bashscan" in extra) is scans and ("shlex" in extra) is scans, sorted(extra)


# The hooks, event by event: the modules each may import beyond a bare ``python -S -I`` start (what the entry
# starts). Every hook reads the payload (``chain``'s C scanner) and the runs of the project (``runs``, the
# ``witness`` record: ``digest``'s sha256 of the project's path); the standard library beyond that is ``os`` and
# what ``os`` itself loads. Only PreToolUse reads tool calls (``allow``, ``agents``, ``places``); the Bash calls of
# a run are witnessed (``witnessing``); SessionStart decides the protection level (``sandbox``, ``claudesettings``,
# and ``probecache`` when the settings turn the sandbox on). Nothing else: an import added to a hook's path fails
# here, and must be paid for in bench/bench_hooks.py.
HOOK_STDLIB = {"os", "stat", "_stat", "posixpath", "genericpath", "_collections_abc", "__future__", "_json",
               "_sha256", "_sha2", "errno"}
HOOK_BASE = {"clavain", "clavain.core", "clavain.guard", "clavain.guard.hooks", "clavain.guard.runs",
             "clavain.core.chain", "clavain.core.digest", "clavain.core.layout", "clavain.core.states",
             "clavain.core.witness", "clavain.core.paths"}
READS_CALLS = {"clavain.guard.allow", "clavain.guard.agents", "clavain.guard.places"}
WITNESSES = {"clavain.guard.witnessing", "clavain.guard.allow"}
LEVEL = {"clavain.core.sandbox", "clavain.core.claudesettings"}
SANDBOX_ON = {"sandbox": {"enabled": True, "failIfUnavailable": True, "allowUnsandboxedCommands": False}}

HOOK_PATHS = [
    # (id, run state or None, event, payload extra, the clavain modules beyond HOOK_BASE)
    ("pre Bash, no run", None, "pre-tool-use", {"tool": ("Bash", {"command": "cat a.txt"})}, READS_CALLS),
    ("pre Read, no run", None, "pre-tool-use", {"tool": ("Read", {"file_path": "a.txt"})}, READS_CALLS),
    ("post Bash, no run", None, "post-tool-use", {"tool": ("Bash", {"command": "cat a.txt"})}, set()),
    ("prompt, no run", None, "user-prompt-submit", {"prompt": "hello"}, set()),
    ("session, no run", None, "session-start", {"source": "startup"}, set()),
    ("stop, no run", None, "stop", {}, set()),
    ("pre Bash, running", "running", "pre-tool-use", {"tool": ("Bash", {"command": "cat a.txt"})},
     READS_CALLS | WITNESSES),
    ("pre Edit, running", "running", "pre-tool-use", {"tool": ("Edit", {"file_path": "a.txt"})}, READS_CALLS),
    ("pre clavain-cli run, waiting", "awaiting_approval", "pre-tool-use",
     {"tool": ("Bash", {"command": "clavain-cli run status"})}, {"clavain.guard.allow"} | WITNESSES),
    ("pre Bash, waiting", "awaiting_approval", "pre-tool-use", {"tool": ("Bash", {"command": "cat a.txt"})},
     READS_CALLS | WITNESSES),
    ("post Bash, running", "running", "post-tool-use", {"tool": ("Bash", {"command": "cat a.txt"})},
     {"clavain.guard.witnessing"}),   # the journal did not move: no need to ask whose command it was
    ("prompt, running", "running", "user-prompt-submit", {"prompt": "hello"}, set()),
    ("prompt, waiting", "awaiting_approval", "user-prompt-submit", {"prompt": "approve batch 1"}, set()),
    ("session, running", "running", "session-start", {"source": "startup"}, LEVEL),
    ("session, waiting", "awaiting_approval", "session-start", {"source": "startup"},
     LEVEL | {"clavain.guard.witnessing"}),
    ("stop, running", "running", "stop", {}, set()),
]


def hook_imports(project, home, event: str, extra: dict) -> tuple[int, set[str]]:
    """The modules one hook call imports beyond a bare start, through the entry's own Python line."""
    from test_hooks import ENTRY, payload

    names = {"pre-tool-use": "PreToolUse", "post-tool-use": "PostToolUse", "user-prompt-submit": "UserPromptSubmit",
             "session-start": "SessionStart", "stop": "Stop"}
    extra = dict(extra)
    tool = extra.pop("tool", None)
    if tool:
        extra.update(tool_name=tool[0], tool_input=tool[1], tool_use_id="toolu_01")
    data = payload(names[event], project, **extra)
    code_text = ENTRY.read_text().split("-c '", 1)[1].split("' \"$root\"", 1)[0]
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    proc = subprocess.run([sys.executable, "-S", "-I", "-X", "importtime", "-c", code_text, str(ROOT), event],
                          input=json.dumps(data), cwd=project, env=env, capture_output=True, text=True, timeout=30)
    bare = subprocess.run([sys.executable, "-S", "-I", "-X", "importtime", "-c", "pass"], env=env,
                          capture_output=True, text=True, timeout=30)
    return proc.returncode, _names(proc.stderr) - _names(bare.stderr)


@pytest.mark.parametrize("state,event,extra,own", [row[1:] for row in HOOK_PATHS], ids=[row[0] for row in HOOK_PATHS])
def test_each_hook_event_imports_only_what_its_path_needs(project, tmp_path, state, event, extra, own):
    from test_hooks import make_run

    if state:
        make_run(project, state=state)
    code, extra_modules = hook_imports(project, tmp_path / "home", event, extra)
    assert code in (0, 2), code
    ours = {name for name in extra_modules if name.split(".")[0] == "clavain"}
    assert ours == HOOK_BASE | own, (sorted(ours - HOOK_BASE - own), sorted((HOOK_BASE | own) - ours))
    assert extra_modules - ours <= HOOK_STDLIB, sorted(extra_modules - ours - HOOK_STDLIB)


@pytest.mark.skipif(not all(shutil.which(name) for name in ("bwrap", "socat")), reason="needs bubblewrap and socat")
def test_session_start_with_the_sandbox_on_starts_bwrap_once_then_imports_no_subprocess(project, tmp_path):
    """With the sandbox on, the first session start probes bwrap (``subprocess``, about a bare start's worth of
    imports, shows the check sees it); the next ones take the remembered success (``clavain.core.probecache``)."""
    from test_hooks import make_run

    make_run(project, state="awaiting_approval")
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude" / "settings.json").write_text(json.dumps(SANDBOX_ON))
    first = hook_imports(project, home, "session-start", {"source": "startup"})
    second = hook_imports(project, home, "session-start", {"source": "startup"})
    assert first[0] == second[0] == 0
    assert {"subprocess", "clavain.core.probecache"} <= first[1]
    ours = {name for name in second[1] if name.split(".")[0] == "clavain"}
    assert ours == HOOK_BASE | LEVEL | {"clavain.guard.witnessing", "clavain.core.probecache"}, sorted(ours)
    assert second[1] - ours <= HOOK_STDLIB, sorted(second[1] - ours - HOOK_STDLIB)
