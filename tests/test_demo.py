"""The README's first command: examples/demo.sh carries out examples/sample-plan.md start to finish, in a
throwaway git project, through bin/clavain-cli and the UserPromptSubmit hook, as the model and the user would in
Claude Code. Its whole text is locked by tests/golden/demo.txt (times, durations, run ids and paths normalised),
so the first thing a user sees cannot silently degrade; a refusal that does not happen fails the demo; colour
only on a terminal, never with NO_COLOR. CLAVAIN_UPDATE_GOLDEN=1 rewrites the golden file."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, check_golden
from test_run_support import events, normalise

DEMO = ROOT / "examples" / "demo.sh"
FIRST_HEADING = b"==> You"


def demo_env(home: Path, **extra: str) -> dict:
    """A user's bare environment: system tools only, a home of the test's own, no git identity."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "CLAVAIN_PYTHON": sys.executable,
            "GIT_CONFIG_GLOBAL": os.devnull, **extra}


def run_demo(project: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(DEMO), str(project)], env=env, capture_output=True, text=True, timeout=120)


def normalised(text: str, project: Path) -> str:
    text = normalise(text.replace(str(ROOT), "PLUGIN"), project)
    return re.sub(r"(Ran \d+ tests? in )\d+\.\d+s", r"\1N.NNNs", text)


def test_the_demo_tells_the_whole_job_and_its_text_is_locked(tmp_path):
    project = tmp_path / "demo"
    proc = run_demo(project, demo_env(tmp_path, NO_COLOR="1"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == ""   # every command's messages are in the story, in order
    assert "\033[" not in proc.stdout
    check_golden("", "demo.txt", normalised(proc.stdout, project))
    (folder,) = (project / ".clavain" / "execute-plan" / "runs").iterdir()
    # the journal (its chain verified) tells the same story; bytecode Python writes on a first run is recorded too
    assert [event for event, _ in events(folder) if event != "plugin_updated"] == [
        "run_started", "task_started", "verified", "task_done", "task_started", "verified", "task_done", "checkpoint",
        "approved", "task_started", "verified", "task_done", "task_started", "task_done", "checkpoint", "approved",
        "must_haves", "must_haves", "finished"]
    assert sorted(p.name for p in (folder / "batches").iterdir()) == ["batch-1.md", "batch-2.md", "final.md"]
    greeted = subprocess.run(["python3", "-m", "greet", "Ada"], cwd=project, env=demo_env(tmp_path),
                             capture_output=True, text=True)
    assert greeted.stdout == "Hello, Ada!\n"


def test_a_refusal_that_does_not_happen_fails_the_demo(tmp_path):
    """A git whose `init` makes no repository: the plugin cannot measure what task 2 changed, so it does not
    refuse the forgotten test, and the demo must stop there instead of telling a story that is not true."""
    tools = tmp_path / "bin"
    tools.mkdir()
    git = tools / "git"
    git.write_text('#!/bin/sh\n[ "$1" = init ] && exit 0\nexec /usr/bin/git "$@"\n')
    git.chmod(0o755)
    project = tmp_path / "demo"
    proc = run_demo(project, demo_env(tmp_path, NO_COLOR="1", PATH=f"{tools}:/usr/bin:/bin"))
    assert proc.returncode != 0
    assert "$ clavain-cli run task-done 2 --output out/task-2.md" in proc.stdout
    assert "was expected to be refused (exit 1), and exited 0" in proc.stderr
    assert "The model closes batch 1" not in proc.stdout


def test_a_folder_in_use_is_refused_and_left_alone(tmp_path):
    project = tmp_path / "demo"
    project.mkdir()
    (project / "notes.md").write_text("mine\n")
    proc = run_demo(project, demo_env(tmp_path))
    assert proc.returncode == 2 and "is not empty" in proc.stderr and "next: bash " in proc.stderr
    assert sorted(p.name for p in project.iterdir()) == ["notes.md"]


def opening(project: Path, env: dict, *, terminal: bool) -> bytes:
    """The demo's output up to its first heading, on a terminal (a pseudo-terminal) or a pipe; then it is stopped."""
    if terminal:
        reader, writer = os.openpty()
    else:
        reader, writer = os.pipe()
    proc = subprocess.Popen(["bash", str(DEMO), str(project)], stdin=subprocess.DEVNULL, stdout=writer,
                            stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    os.close(writer)
    seen = b""
    deadline = time.monotonic() + 30
    try:
        while FIRST_HEADING not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([reader], [], [], 1.0)
            if not ready:
                continue
            try:
                chunk = os.read(reader, 4096)
            except OSError:   # the terminal's other end is closed: the demo ended
                break
            if not chunk:
                break
            seen += chunk
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)
        os.close(reader)
    assert FIRST_HEADING in seen, seen
    return seen


@pytest.mark.parametrize("terminal,no_color,coloured", [
    (True, None, True),
    (True, "", True),        # NO_COLOR set but empty counts as unset
    (True, "1", False),
    (False, None, False),
])
def test_colour_only_on_a_terminal_and_never_with_no_color(tmp_path, terminal, no_color, coloured):
    env = demo_env(tmp_path, **({} if no_color is None else {"NO_COLOR": no_color}))
    seen = opening(tmp_path / "demo", env, terminal=terminal)
    if coloured:
        assert b"\033[1m==> You" in seen and b"\033[2m" in seen and b"\033[0m" in seen
    else:
        assert b"\033[" not in seen
