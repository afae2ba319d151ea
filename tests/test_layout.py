"""The package's layout: the parts, their contracts (import-linter, from pyproject.toml), and one read of
the plan per command."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from test_run_support import SKIP_GATE, SMALL_PLAN

PACKAGE = ROOT / "clavain"
PARTS = ("core", "plan", "gate", "run", "guard", "commands", "bootstrap")
TOP_LEVEL = {"__init__.py", "__main__.py", "cli.py"}


def test_import_linter_contracts_are_kept():
    """Layers cli > commands > run > gate > plan > core; the guard on the standard library and the core;
    the bootstrap on the standard library alone; nothing imports the CLI (see ``[tool.importlinter]`` in
    pyproject.toml)."""
    linter = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(linter), "--config", str(ROOT / "pyproject.toml"), "--no-cache"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout and "5 kept" in proc.stdout, proc.stdout[-2000:]


def test_the_contracts_catch_an_upward_import(tmp_path):
    """The layers contract is not vacuous: a plan module that imports the run breaks it."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(PACKAGE, copy / "clavain", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    bad = copy / "clavain" / "plan" / "batching.py"
    bad.write_text(bad.read_text() + "\nfrom clavain.run import state  # noqa\n")
    linter = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(linter), "--config", str(copy / "pyproject.toml"), "--no-cache"], cwd=copy,
                          capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(copy), "PATH": ""})
    assert proc.returncode != 0 and "BROKEN" in proc.stdout, proc.stdout[-2000:]
    assert "clavain.plan.batching -> clavain.run.state" in proc.stdout


def test_only_the_cli_sits_beside_the_parts():
    flat = {p.name for p in PACKAGE.glob("*.py")}
    assert flat == TOP_LEVEL
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"} == set(PARTS)


@pytest.mark.parametrize("part", PARTS)
def test_each_part_opens_with_what_it_owns_and_may_import(part):
    doc = ast.get_docstring(ast.parse((PACKAGE / part / "__init__.py").read_text()))
    assert doc, part
    if part != "commands":
        assert "Owns:" in doc and "May import:" in doc, doc


@pytest.mark.parametrize("part", ["plan", "gate", "run", "guard"])
def test_module_names_drop_the_prefix_the_folder_says(part):
    names = [p.stem for p in (PACKAGE / part).glob("*.py")]
    assert not [n for n in names if n.startswith(part + "_") or n.startswith(part.rstrip("s") + "_")], names


def test_run_start_reads_and_parses_the_plan_once(tmp_path, monkeypatch):
    """The gate is handed the plan ``run start`` parsed; nothing below re-reads or re-parses it."""
    from clavain.plan import reader
    from clavain.run import engine

    project = tmp_path / "p"
    project.mkdir()
    plan = project / "plan.md"
    plan.write_text(SMALL_PLAN)
    calls = {"read_text": 0, "parse": 0}
    real_read, real_parse = reader.read_text, reader._parse

    def read_text(path):
        calls["read_text"] += 1
        return real_read(path)

    def parse(*args):
        calls["parse"] += 1
        return real_parse(*args)

    monkeypatch.setattr(reader, "read_text", read_text)
    monkeypatch.setattr(reader, "_parse", parse)
    outcome = engine.start(project, plan, {"PATH": "", **SKIP_GATE})
    assert calls == {"read_text": 1, "parse": 1}
    assert "**Phase:** executing" in plan.read_text()
    task_line = next(n for n, line in enumerate(plan.read_text().splitlines(), 1) if line.startswith("### Task 1"))
    assert outcome.state.tasks[0].line == task_line  # parsed as it stands after the Phase line was written


def test_the_readme_prints_the_state_table():
    """The one table of what each state allows, as the README shows it (tasks and batches written as N)."""
    import re

    from clavain.core import states

    rows = ["| state | the model's own commands | commands that need the user's reply (the reply that always counts) |",
            "|---|---|---|"]
    for state in states.STATES:
        own = [c for c, reply in states.ALLOWED[state].items() if reply is None]
        need = [f"{c} (`{states.REPLIES[reply].format(batch='N', task='N')}`)"
                for c, reply in states.ALLOWED[state].items() if reply]
        rows.append(f"| {state} | {', '.join(own) or '-'} | {', '.join(need) or '-'} |")
    readme = (ROOT / "README.md").read_text()
    shown = re.search(r"<!-- state-table -->\n(.*?)\n<!-- /state-table -->", readme, re.S).group(1)
    assert shown == "\n".join(rows)
