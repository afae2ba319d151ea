"""The CLI skeleton: exit codes for usage errors, version, and the bin wrapper from anywhere."""

from __future__ import annotations

import gc
import json
import os
import shutil
import tomllib

import pytest

from conftest import ROOT, run_bin, run_cli


def test_version_matches_plugin_manifest():
    from clavain import __version__

    manifest = json.loads((ROOT / ".claude-plugin" / "plugin.json").read_text())
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert manifest["name"] == "clavain"
    assert manifest["version"] == __version__ == pyproject["project"]["version"]


def test_unknown_command_is_one_line_naming_what_this_plugin_provides(tmp_path):
    r = run_cli(["no-such-command"], cwd=tmp_path)
    assert r.code == 2
    assert r.err.count("\n") == 1 and "'no-such-command' is not a command of this plugin" in r.err
    assert "plan, infer-bead, enforce-gate, advance-phase, phase, run, hook and setup (clavain-cli --help)" in r.err
    assert "usage:" not in r.err and "invalid choice" not in r.err and "Traceback" not in r.err


def test_bin_runs_from_any_cwd_and_from_a_copy(tmp_path):
    copy = tmp_path / "plugin-cache" / "clavain"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", "node_modules", ".git", "__pycache__"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "clavain").mkdir()  # a folder of the same name in cwd must not shadow the package
    for cli_root in (ROOT, copy):
        r = run_bin(["--version"], cwd=elsewhere, cli=cli_root / "bin" / "clavain-cli")
        assert r.code == 0, r.err
        assert r.out.startswith("clavain-cli ")


def test_missing_python_exits_3(tmp_path):
    r = run_bin(["--version"], cwd=tmp_path, env={"CLAVAIN_PYTHON": str(tmp_path / "no-python")})
    assert r.code == 3
    assert "CLAVAIN_PYTHON" in r.err


def test_python_without_dependencies_exits_3_with_one_line(tmp_path):
    import subprocess
    import sys

    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    r = run_bin(["plan", "show", str(ROOT / "examples" / "sample-plan.md")], cwd=tmp_path,
                env={"CLAVAIN_PYTHON": str(venv / "bin" / "python")})
    assert r.code == 3
    assert r.err.count("\n") == 1 and "missing Python dependency" in r.err
    # the real folders and a command to run, never a placeholder
    assert f"{venv / 'bin' / 'python'} -m pip install -r {ROOT / 'requirements.lock'}" in r.err
    assert "<" not in r.err


def test_the_entry_keeps_the_collector_off_and_freezes_before_exit(monkeypatch):
    """A command's process (``entry``, what bin/clavain-cli runs) never walks its objects with the cyclic garbage
    collector: it is off for the command, and what is left is frozen, so the collections at exit skip it."""
    from clavain import cli

    seen = {}

    def main():
        seen["enabled during the command"] = gc.isenabled()
        return 0

    def _exit(code):   # the real one would end the test run
        raise SystemExit(code)

    monkeypatch.setattr(cli, "main", main)
    monkeypatch.setattr("os._exit", _exit)
    try:
        with pytest.raises(SystemExit) as exit_info:
            cli.entry()
        assert exit_info.value.code == 0
        assert seen == {"enabled during the command": False}
        assert not gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()


def test_the_entry_flushes_what_it_printed_and_a_reader_that_went_away_costs_no_traceback(tmp_path):
    """The process ends without the interpreter's teardown: all it printed still arrives, and when the reader
    has gone (``| head -1`` on more than a pipe holds) the command ends quietly."""
    import subprocess
    import sys

    from conftest import CLI

    plan = tmp_path / "plan.md"
    plan.write_text("# Long\n" + "".join(f"\n### Task {i}: Step {i}\n\n- [ ] do {i}\n" for i in range(1, 1500)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAVAIN_")}
    env["CLAVAIN_PYTHON"] = sys.executable
    whole = subprocess.run([str(CLI), "plan", "show", str(plan), "--json"], capture_output=True, text=True,
                           env=env, cwd=tmp_path)
    assert whole.returncode == 0 and len(whole.stdout) > 200_000
    assert json.loads(whole.stdout)["tasks"][-1]["id"] == "1499"       # every byte arrived
    cut = subprocess.run(["sh", "-c", f"'{CLI}' plan show '{plan}' --json | head -c 10"], capture_output=True,
                         text=True, env=env, cwd=tmp_path)
    assert len(cut.stdout) == 10 and "Traceback" not in cut.stderr and "Exception" not in cut.stderr, cut.stderr
