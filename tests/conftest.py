"""Shared test helpers: run the CLI in-process or as a real subprocess, find shared fixtures."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SHARED_PLANS = SHARED / "plans" / "superpowers"
CLI = ROOT / "bin" / "clavain-cli"
GOLDEN = ROOT / "tests" / "golden"
# The real Claude Code CLI: `.ci/run` installs it from .ci/package.json into .ci/node_modules (test tooling stays
# out of the plugin's root, where Claude Code would install it into every user's plugin cache); a checkout may
# link node_modules at the root instead. Tests that need it skip without it, except in CI, where they must run.
CLAUDE = next((p for p in (ROOT / ".ci" / "node_modules" / ".bin" / "claude", ROOT / "node_modules" / ".bin" / "claude")
               if p.exists()), ROOT / ".ci" / "node_modules" / ".bin" / "claude")
needs_claude = pytest.mark.skipif(not CLAUDE.exists() and not os.environ.get("CI"),
                                  reason="the real claude CLI is installed by .ci/run (npm, .ci/package.json)")


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(argv, *, cwd: Path, env: dict | None = None, stdin: str = "") -> Result:
    """Run ``clavain.cli.main`` in this process with its own streams, cwd and environment."""
    from clavain.cli import main
    from clavain.commands import Context

    base = {k: v for k, v in os.environ.items() if not k.startswith("CLAVAIN_")}
    base["PATH"] = os.environ.get("PATH", "")
    base.update(env or {})
    out, err = io.StringIO(), io.StringIO()
    ctx = Context(cwd=Path(cwd), env=base, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    code = main([str(a) for a in argv], ctx=ctx)
    return Result(code, out.getvalue(), err.getvalue())


def run_bin(argv, *, cwd: Path, env: dict | None = None, stdin: str = "", timeout: float = 60,
            cli: Path = CLI) -> Result:
    """Run the real ``bin/clavain-cli`` as a subprocess, with this test interpreter as CLAVAIN_PYTHON."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("CLAVAIN_")}
    full["CLAVAIN_PYTHON"] = sys.executable
    full.update(env or {})
    proc = subprocess.run([str(cli), *map(str, argv)], cwd=cwd, env=full, input=stdin, text=True,
                          capture_output=True, timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def check_golden(area: str, name: str, text: str) -> None:
    """Compare ``text`` with ``tests/golden/<area>/<name>``; ``CLAVAIN_UPDATE_GOLDEN=1`` rewrites the file."""
    path = GOLDEN / area / name
    if os.environ.get("CLAVAIN_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}; run with CLAVAIN_UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(), f"{path} differs; if the change is intended, rerun with CLAVAIN_UPDATE_GOLDEN=1"


@pytest.fixture(autouse=True, scope="session")
def _witness_records_stay_in_the_tests(tmp_path_factory):
    """The hooks' witness records (``$XDG_STATE_HOME/clavain``) of every command a test runs go to a folder of
    the test session's own, never to the home folder of whoever runs the tests."""
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("state-home"))
    yield


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project folder (not a git repository)."""
    p = tmp_path / "project"
    p.mkdir()
    return p


@pytest.fixture
def git_project(tmp_path: Path) -> Path:
    """A project folder that is a git repository with one commit."""
    p = tmp_path / "gitproject"
    p.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=p, check=True, env=env)
    (p / "README").write_text("project\n")
    subprocess.run(["git", "add", "-A"], cwd=p, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", "init"], cwd=p, check=True, env=env)
    return p
