"""Helpers for the adversary's tests (tests/test_redteam.py); no tests here.

``World`` plays Claude Code around one project: the PreToolUse hook, the Bash command run the way Claude Code
2.1.197 runs it (``bash -c 'source <shell snapshot> ... && eval <command>'``, with the plugin's ``bin/`` last on
PATH), then the PostToolUse hook; a tool call the hook blocks never runs. ``sandboxed=True`` runs each Bash
command in bubblewrap with the hooks' witness folder and Claude Code's folder read-only, as Claude Code's Bash
sandbox leaves them.

Run as a script, this file is the model's own tool: ``python redteam_support.py forge <project> <how>`` writes
the run's journal through this package, re-hashed and with the right state digests, without the run's lock
(the ``clavain-cli`` that may be running it holds the lock) and without touching the witness record.
"""

from __future__ import annotations

import itertools
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ENTRY = ROOT / "hooks" / "clavain-hook"
SUPPORT = Path(__file__).resolve()
SESSION = "5e55105e-0000-4000-8000-00000000cafe"
# a hook's time limit in hooks.json; past it Claude Code kills the hook and goes on with the call (a non-blocking
# error), as measured with a Bash scan that ran over it
TIMED_OUT = 124


def hook_limit() -> float:
    hooks = json.loads((ROOT / "hooks" / "hooks.json").read_text())["hooks"]
    return min(h["timeout"] for entries in hooks.values() for entry in entries for h in entry["hooks"])

PLAN = """# Two notes

### Task 1: First note

- [ ] **Step 1: Write it**

### Task 2: Second note

- [ ] **Step 1: Write it**
"""


class World:
    """One project, one home folder and one witness folder, and Claude Code's side of every tool call."""

    def __init__(self, root: Path, project: Path, *, sandboxed: bool = False, path_first: tuple[Path, ...] = ()):
        self.project, self.sandboxed = project, sandboxed
        self.home, self.state_home = root / "home", root / "state"
        self.elsewhere = root / "elsewhere"        # where a script the model runs may keep a witness of its own
        for folder in (self.home, self.state_home, self.elsewhere):
            folder.mkdir(exist_ok=True)
        self.transcript = self.home / ".claude" / "projects" / project.as_posix().replace("/", "-") / \
            f"{SESSION}.jsonl"
        self.transcript.parent.mkdir(parents=True)
        self.transcript.touch()
        self.snapshot = self.home / ".claude" / "shell-snapshots" / "snapshot-bash-1-abcdef.sh"
        self.snapshot.parent.mkdir(parents=True)
        self.snapshot.write_text("# the user's shell, as Claude Code saved it at session start\n")
        self.path = ":".join([*map(str, path_first), os.environ["PATH"], str(ROOT / "bin")])
        self._ids = itertools.count(1)

    # ------------------------------------------------------------ environments
    def env(self) -> dict:
        """What the hooks and the model's Bash commands both see."""
        return {"PATH": self.path, "HOME": str(self.home), "XDG_STATE_HOME": str(self.state_home),
                "CLAVAIN_PYTHON": sys.executable, "CLAUDE_PLUGIN_ROOT": str(ROOT), "LANG": "C.UTF-8"}

    def cli(self, *argv: str):
        """``clavain-cli run ...`` as the user runs it in a terminal (outside any sandbox), in this process."""
        from conftest import run_cli

        return run_cli(["run", *argv], cwd=self.project,
                       env={**self.env(), "CLAVAIN_SKIP_GATE": "tests start runs without a bead"})

    def ok(self, *argv: str):
        r = self.cli(*argv)
        assert r.code == 0, f"{argv}: exit {r.code}\n{r.out}\n{r.err}"
        return r

    def status(self) -> dict:
        r = self.cli("status", "--json")
        return json.loads(r.out) if r.code == 0 else {"state": f"exit {r.code}", "batch": None, "err": r.err}

    # ------------------------------------------------------------ hooks
    def hook(self, event: str, **fields) -> subprocess.CompletedProcess:
        data = {"session_id": SESSION, "transcript_path": str(self.transcript), "cwd": str(self.project),
                "permission_mode": "default", "hook_event_name": event, **fields}
        try:
            return subprocess.run([str(ENTRY), _event(event)], input=json.dumps(data), cwd=self.project,
                                  env=self.env(), capture_output=True, text=True, timeout=hook_limit())
        except subprocess.TimeoutExpired as late:   # Claude Code stops waiting and goes on with the call
            return subprocess.CompletedProcess(late.cmd, TIMED_OUT, "", "the hook ran past its time limit")

    def pre(self, tool: str, tool_input: dict, tool_use_id: str | None = None) -> subprocess.CompletedProcess:
        return self.hook("PreToolUse", tool_name=tool, tool_input=tool_input,
                         tool_use_id=tool_use_id or f"toolu_rt{next(self._ids):04d}")

    def blocked(self, tool: str, **tool_input) -> bool:
        """Whether PreToolUse blocks this call (exit 2)."""
        r = self.pre(tool, tool_input)
        assert r.returncode in (0, 2, TIMED_OUT), r.stderr
        return r.returncode == 2

    # ------------------------------------------------------------ one Bash tool call
    def bash(self, command: str, meanwhile=None) -> "Call":
        """PreToolUse; unless blocked, the command as Claude Code runs it (``meanwhile()`` runs while it runs:
        a background job), then PostToolUse (or PostToolUseFailure)."""
        tool_use_id = f"toolu_rt{next(self._ids):04d}"
        pre = self.pre("Bash", {"command": command, "description": command[:40]}, tool_use_id)
        if pre.returncode == 2:
            return Call(True, None, "", pre.stderr)
        if meanwhile is not None:
            meanwhile()
        wrapped = (f"source {shlex.quote(str(self.snapshot))} 2>/dev/null || true && "
                   f"eval {shlex.quote(command)} < /dev/null")
        argv = ["bash", "-c", wrapped]
        if self.sandboxed:
            argv = ["bwrap", "--dev-bind", "/", "/", "--ro-bind", str(self.state_home), str(self.state_home),
                    "--ro-bind", str(self.home / ".claude"), str(self.home / ".claude"), "--", *argv]
        proc = subprocess.run(argv, cwd=self.project, env=self.env(), capture_output=True, text=True, timeout=120)
        response = {"stdout": proc.stdout, "stderr": proc.stderr, "interrupted": False, "isImage": False}
        self.hook("PostToolUse" if proc.returncode == 0 else "PostToolUseFailure", tool_name="Bash",
                  tool_input={"command": command, "description": command[:40]}, tool_use_id=tool_use_id,
                  tool_response=response, **({} if proc.returncode == 0 else {"error": proc.stderr[-500:]}))
        return Call(False, proc.returncode, proc.stdout, proc.stderr)

    # ------------------------------------------------------------ what the hooks and the run hold
    def witness(self) -> dict:
        found = list((self.state_home / "clavain" / "witness").glob("*/*.json"))
        return json.loads(found[0].read_text()) if found else {}

    def run_dir(self) -> Path:
        (run,) = (self.project / ".clavain" / "execute-plan" / "runs").iterdir()
        return run

    def forge(self, how: str = "approve") -> str:
        """The model's script, started earlier as a background job, writes the journal now."""
        proc = subprocess.run([sys.executable, str(SUPPORT), "forge", str(self.project), how],
                              env={**self.env(), "XDG_STATE_HOME": str(self.elsewhere)}, capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def forge_command(self, how: str = "approve") -> str:
        """The same forger as a command line the model types, its script copied into the project first (where
        the model writes its own tools)."""
        import base64

        body = (f"import sys; sys.argv = ['forge', 'forge', '.', {how!r}]; "
                f"exec(compile(open({str(SUPPORT)!r}).read(), 'forge', 'exec'))")
        script = self.project / "tools" / "tidy.py"   # written so that no hook recognises what it does
        script.parent.mkdir(exist_ok=True)
        script.write_text(f"import base64\nexec(base64.b64decode({base64.b64encode(body.encode())!r}))\n")
        return '"$CLAVAIN_PYTHON" tools/tidy.py'


class Call:
    def __init__(self, blocked: bool, code, out: str, err: str) -> None:
        self.blocked, self.code, self.out, self.err = blocked, code, out, err

    def __repr__(self) -> str:
        return f"Call(blocked={self.blocked}, code={self.code}, out={self.out[-300:]!r}, err={self.err[-300:]!r})"


def _event(name: str) -> str:
    return {"PreToolUse": "pre-tool-use", "PostToolUse": "post-tool-use", "PostToolUseFailure": "post-tool-use",
            "UserPromptSubmit": "user-prompt-submit", "SessionStart": "session-start", "Stop": "stop"}[name]


def world(tmp_path: Path, project: Path, **kw) -> World:
    (project / "plan.md").write_text(PLAN)
    return World(tmp_path, project, **kw)


def running_with_task_done(w: World) -> None:
    """Batch 1 (task 1 alone) done, not yet checkpointed: the model is still at work."""
    w.ok("start", "plan.md", "--batch-size", "1")
    w.ok("task-start", "1")
    (w.project / "notes").mkdir(exist_ok=True)
    (w.project / "notes" / "one.md").write_text("one\n")
    w.ok("task-done", "1", "--output", "notes/one.md")


def waiting(w: World) -> None:
    """The run at its first checkpoint, waiting for the user's reply to the batch 1 report."""
    running_with_task_done(w)
    w.ok("checkpoint")


def write_executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def keep_copy(w: World) -> Path:
    """The run's files as they stand, copied where the model keeps its things (to put them back later)."""
    run = w.run_dir()
    spare = w.project / ".spare"
    shutil.rmtree(spare, ignore_errors=True)
    spare.mkdir()
    for name in ("journal.jsonl", "run.json"):
        shutil.copy2(run / name, spare / name)
    shutil.copy2(w.project / ".clavain" / "execute-plan" / "active" / f"{run.name}.json", spare / "active.json")
    return spare


def put_back(w: World, spare: Path) -> None:
    run = w.run_dir()
    for name in ("journal.jsonl", "run.json"):
        shutil.copy2(spare / name, run / name)
    shutil.copy2(spare / "active.json", w.project / ".clavain" / "execute-plan" / "active" / f"{run.name}.json")


# ------------------------------------------------------------------------------ the model's forger

def _forge(project: Path, how: str) -> None:
    sys.path.insert(0, str(ROOT))
    from clavain.run.evidence import Evidence, _iso
    from clavain.run.folder import RunFolder

    (summary,) = (project / ".clavain" / "execute-plan" / "active").glob("*.json")
    folder = RunFolder(project, json.loads(summary.read_text())["run_id"])
    state = folder.load().state
    now = time.time()
    if how == "checkpoint-approve" and state.state == "running":
        state, _ = folder.record(state, "checkpoint", {"batch": state.batch, "snapshot": None})
    if how in ("approve", "checkpoint-approve") and state.state == "awaiting_approval":
        said = Evidence(f"approve batch {state.batch}", _iso(now), now, SESSION, "transcript", None).to_dict()
        state, entry = folder.record(state, "approved", {"action": "approve", "note": None, "evidence": said,
                                                         "level": None})
        print(f"forged entry {entry['seq']}: {state.state} batch {state.batch}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["forge"]:
        _forge(Path(sys.argv[2]).resolve(), sys.argv[3])


has_bwrap = pytest.mark.skipif(not (shutil.which("bwrap") and shutil.which("socat")),
                               reason="needs bubblewrap and socat (.ci/run installs them)")


def assert_not_past(w, what: str) -> None:
    """The run did not get past its checkpoint: tools stay read-only, and the run is not running batch 2."""
    assert w.blocked("Write", file_path=str(w.project / "src.txt"), content="x"), f"{what}: Write passed"
    assert w.blocked("Agent", description="t", prompt="do task 2", subagent_type="general-purpose"), \
        f"{what}: Agent passed"
    w.bash("ls")  # any later Bash call: the witness looks at the journal again
    st = w.status()
    assert (st.get("state"), st.get("batch")) != ("running", 2), f"{what}: the run took the approval: {st}"
