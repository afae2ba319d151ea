"""Installed the way the README says, the plugin works on first use: the real `claude` CLI adds the marketplace
and installs the plugin into a throwaway config, and a session with only Debian's bare python3 on PATH (no
pydantic) runs `plan validate` and `run start` through the installed copy. The SessionStart hook builds the
plugin's environment with pip from the real package index; the wheel cache is the test run's own pip cache
(``PIP_CACHE_DIR``, else ``~/.cache/pip``), so CI downloads each wheel once.

Two marketplace sources, as Claude Code treats them differently (measured with 2.1.197):
- a local folder (a clone): copied into ``plugins/cache/<marketplace>/<plugin>/<version>/`` without ``.git``,
  symlinks dropped, and ``npm ci`` run there if a package.json and lock sit at its root; hooks and ``bin/``
  then run from the folder itself.
- a git URL: shallow-cloned into ``plugins/marketplaces/<name>/``, the plugin copied into the cache, and hooks
  and ``bin/`` run from the cache. The test serves the clone over git's ssh transport with
  ``GIT_SSH_COMMAND`` running ``git-upload-pack`` locally (real git on both ends, no network).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from conftest import CLAUDE, needs_claude
from fakeapi import FakeAnthropic, text, tool
from install_support import fresh_clone

pytestmark = needs_claude

LIMIT = 5 * 1024 * 1024  # the plugin's cache folder, not counting the environment it builds
PLAN = """# Two Notes

### Task 1: First note

**Files:**
- Create: `notes/one.md`

- [ ] **Step 1: Write one line**

### Task 2: Second note

**Files:**
- Create: `notes/two.md`

- [ ] **Step 1: Write one line**
"""


def pip_cache() -> str:
    return os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")


def user_env(home: Path, **extra) -> dict:
    """A user's machine: their own HOME, the system PATH only (python3 there is Debian's, with no pydantic)."""
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PIP_CACHE_DIR": pip_cache(),
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1", "DISABLE_TELEMETRY": "1"}
    env.update(extra)
    return env


def claude(env: dict, *args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLAUDE), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def folder_size(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def installed(env: dict, source: str) -> Path:
    added = claude(env, "plugin", "marketplace", "add", source)
    assert added.returncode == 0, added.stdout + added.stderr
    done = claude(env, "plugin", "install", "clavain@clavain")
    assert done.returncode == 0, done.stdout + done.stderr
    (entry,) = [p for p in json.loads(claude(env, "plugin", "list", "--json").stdout) if p["id"] == "clavain@clavain"]
    assert entry.get("errors", []) == [], entry
    return Path(entry["installPath"])


def test_installed_from_a_local_clone_the_cache_is_small_and_carries_no_test_tooling(tmp_path):
    clone = fresh_clone(tmp_path / "clavain")
    home = tmp_path / "home"
    home.mkdir()
    cache = installed(user_env(home), str(clone))
    assert cache.is_relative_to(home / ".claude" / "plugins" / "cache")
    assert folder_size(cache) < LIMIT
    assert not (cache / "package.json").exists() and not (cache / "node_modules").exists()
    assert not (cache / ".venv").exists()


def test_installed_from_git_the_first_session_builds_the_environment_and_runs_the_plan(tmp_path):
    clone = fresh_clone(tmp_path / "clavain")
    home = tmp_path / "home"
    home.mkdir()
    ssh = tmp_path / "ssh"  # git's ssh transport, run here: the last argument is the remote command
    ssh.write_text('#!/bin/sh\nfor a; do last="$a"; done\nexec sh -c "$last"\n')
    ssh.chmod(0o755)
    env = user_env(home, GIT_SSH_COMMAND=str(ssh))
    cache = installed(env, f"git@localhost:{clone}")
    assert cache.is_relative_to(home / ".claude" / "plugins" / "cache")
    size_installed = folder_size(cache)
    assert size_installed < LIMIT

    # a build cut short earlier: a venv without its completion marker, which must be rebuilt
    data = home / ".claude" / "plugins" / "data" / "clavain-clavain"
    (data / "venv" / "bin").mkdir(parents=True)
    (data / "venv" / "bin" / "python").symlink_to("/usr/bin/python3")

    project = tmp_path / "project"
    project.mkdir()
    (project / "plan.md").write_text(PLAN)
    steps = [[tool("Bash", command="clavain-cli plan validate plan.md", description="validate")],
             [tool("Bash", command="clavain-cli run start plan.md", description="start")],
             [text("Batch 1 is ready.")]]
    with FakeAnthropic(steps) as fake:
        proc = claude({**env, "ANTHROPIC_BASE_URL": fake.url, "ANTHROPIC_API_KEY": "test-key"},
                      "-p", "Validate and start plan.md", "--max-turns", "10",
                      "--allowedTools", "Bash(clavain-cli plan:*)", "Bash(clavain-cli run:*)", cwd=project,
                      timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        validate, start = (fake.results_for(fake.tool_id(turn)) for turn in (0, 1))
    assert validate["is_error"] is False, validate
    assert "OK plan.md: superpowers plan, 2 tasks" in validate["text"]
    assert start["is_error"] is False, start
    assert "next: clavain-cli run task-start 1" in start["text"]
    (run,) = (project / ".clavain" / "execute-plan" / "runs").iterdir()
    assert (run / "journal.jsonl").exists()

    # built by the SessionStart hook, in Claude Code's per-plugin data folder, for this lock
    ready = (data / "venv" / "clavain-ready").read_text().splitlines()
    assert ready[0] == (cache / "requirements.lock").read_text().split("\n", 1)[0]
    assert ready[2].startswith("built by the SessionStart hook at ")
    assert "was: half-built (no completion marker)" in (data / "build.log").read_text()
    assert subprocess.run([str(data / "venv" / "bin" / "python"), "-c", "import pydantic, yaml, jinja2"],
                          capture_output=True).returncode == 0
    assert subprocess.run(["/usr/bin/python3", "-c", "import pydantic"], capture_output=True).returncode != 0
    # the plugin's modules were compiled by the build (commands in the sandbox cannot write the plugin folder)
    assert (cache / "clavain" / "run" / "__pycache__" / f"engine.{ready[1]}.pyc").exists()
    assert folder_size(cache) < LIMIT
