"""Wall time of each Claude Code hook, run exactly as hooks/hooks.json runs it (``sh -c`` on the command line,
``${CLAUDE_PLUGIN_ROOT}`` set, the payload on stdin), with no run, with a real run active and with one waiting
at its checkpoint, as ratios to a bare start of the same interpreter, all interleaved in one run.

Run: .venv/bin/python bench/bench_hooks.py [--rounds N] [--python PATH]
Target (issue 10): every hook on every path <= 1.5x, with a run active and waiting too, the PostToolUse witness
and the allowlist checks included.

The runs are made with the real CLI in git projects (bench_run's projects), so the hooks read a real journal
head, summary and witness record. A PostToolUse call is timed after its PreToolUse call (untimed) noted the
Bash call as under way, as Claude Code makes them; the run's files and witness record are put back before
every timed call. The same PreToolUse call through the full CLI (``clavain-cli hook``) is shown for scale.

SessionStart is timed with Claude Code's sandbox off and on (``sandbox.enabled`` and the rest as ``clavain-cli
setup sandbox`` writes them, in the user's settings of a Claude Code folder of the bench's own): with it on the
hook decides the protection level, which takes a real bwrap start once and then its remembered success
(``clavain.core.probecache``, kept across the put-back state as it is kept across sessions); the start that
probes, the first after a reboot or any change the probe depends on, is shown for scale.
Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import CLI, ROOT, Case, Table, bare_case, bench_env, bench_python, compiled, interleave  # noqa: E402
from bench_run import Project  # noqa: E402

TARGET = 1.5
SANDBOX_ON = {"sandbox": {"enabled": True, "failIfUnavailable": True, "allowUnsandboxedCommands": False}}
PROBED = "session-start, run active, sandbox on, a start that probes bwrap"


def hook_command(event: str) -> str:
    config = json.loads((ROOT / "hooks" / "hooks.json").read_text())["hooks"]
    names = {"pre-tool-use": "PreToolUse", "post-tool-use": "PostToolUse", "user-prompt-submit": "UserPromptSubmit",
             "session-start": "SessionStart", "stop": "Stop"}
    return config[names[event]][0]["hooks"][0]["command"]


def payload(project: Path, event: str, **extra) -> bytes:
    name = {"pre-tool-use": "PreToolUse", "post-tool-use": "PostToolUse", "user-prompt-submit": "UserPromptSubmit",
            "session-start": "SessionStart", "stop": "Stop"}[event]
    base = {"session_id": "bench", "transcript_path": str(project / "no-transcript.jsonl"), "cwd": str(project),
            "permission_mode": "default", "hook_event_name": name, **extra}
    return json.dumps(base).encode()


TOOLS = {
    "Bash": {"tool_name": "Bash", "tool_input": {"command": "cat plan.md"},
             "tool_use_id": "toolu_bench1"},
    "Edit": {"tool_name": "Edit", "tool_input": {"file_path": "a.py", "old_string": "a", "new_string": "b"},
             "tool_use_id": "toolu_bench2"},
    "Read": {"tool_name": "Read", "tool_input": {"file_path": "plan.md"}, "tool_use_id": "toolu_bench3"},
    "codex": {"tool_name": "Bash", "tool_input": {"command": "codex exec 'task 3'"}, "tool_use_id": "toolu_bench4"},
    "sed -i": {"tool_name": "Bash", "tool_input": {"command": "sed -i 's/a/b/' src/x.py"},
               "tool_use_id": "toolu_bench5"},
    "clavain-cli run": {"tool_name": "Bash", "tool_input": {"command": "clavain-cli run status"},
                        "tool_use_id": "toolu_bench6"},
    "~/.claude": {"tool_name": "Bash", "tool_input": {"command": "tail -n 2 ~/.claude/projects/p/s.jsonl"},
                  "tool_use_id": "toolu_bench7"},
}
RESPONSE = {"tool_response": {"stdout": "ok\n", "stderr": "", "interrupted": False, "isImage": False}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--python", help="the interpreter to measure (default: the plugin's own environment)")
    args = parser.parse_args()
    python = bench_python(args.python)
    compiled(python)
    env = bench_env(python, CLAUDE_PLUGIN_ROOT=str(ROOT))
    table = Table("Claude Code hooks", python, args.rounds)   # notes the load average before the runs
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        idle = Project(base, "idle", 3, env)
        active = Project(base, "active", 9, env)
        active.prepare(full=True)   # saves "verified" (running, task 1 started) and "approvable" (waiting)
        cases: dict[str, Case] = {"bare": bare_case(python, base, env),
                                  "bare -S": Case([python, "-S", "-I", "-c", "pass"], base, env)}

        config = base / "claude-config"   # a Claude Code folder whose user settings turn the sandbox on
        config.mkdir()
        (config / "settings.json").write_text(json.dumps(SANDBOX_ON))
        remembered = base / "sandbox-probe.json"   # the probe's success, kept aside from the put-back state

        def hook(label: str, event: str, project: Project, state: str | None, expect: int = 0,
                 before: bytes | None = None, env: dict | None = None, keep: Path | None = None, **extra) -> None:
            """One hook call; ``expect``: its exit code (0 lets the call go ahead, 2 blocks it); ``keep``: a file
            put back into the state home after the run's state (the probe's remembered success)."""
            restore = project.restorer(state) if state else None
            data = payload(project.dir, event, **extra)
            argv = ["sh", "-c", hook_command(event)]
            env = env or project.env

            def prepare() -> None:
                if restore is not None:
                    restore()
                if keep is not None and keep.exists():
                    target = project.state_home / "clavain" / keep.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(keep.read_bytes())
                if before is not None:   # the PreToolUse call Claude Code makes first (untimed)
                    Case(["sh", "-c", hook_command("pre-tool-use")], project.dir, env, stdin=before,
                         ok=None).run_once()

            cases[label] = Case(argv, project.dir, env, stdin=data, ok=(expect,), prepare=prepare)

        for where, project, state in (("no run", idle, None), ("run active", active, "verified"),
                                      ("run waiting", active, "approvable")):
            waiting = where == "run waiting"
            for tool in ("Bash", "Edit", "Read", "codex", "sed -i", "clavain-cli run", "~/.claude"):
                blocked = tool == "codex" and where != "no run" or waiting and tool in ("Edit", "sed -i")
                hook(f"pre-tool-use {tool}, {where}", "pre-tool-use", project, state, 2 if blocked else 0,
                     **TOOLS[tool])
            for tool in ("Bash", "clavain-cli run"):
                before = payload(project.dir, "pre-tool-use", **TOOLS[tool])
                hook(f"post-tool-use {tool}, {where}", "post-tool-use", project, state, before=before,
                     **TOOLS[tool], **RESPONSE)
            hook(f"user-prompt-submit, {where}", "user-prompt-submit", project, state, prompt="looks good")
            hook(f"session-start, {where}", "session-start", project, state, source="startup")
            if project is active:
                sandboxed = {**project.env, "CLAUDE_CONFIG_DIR": str(config)}
                hook(f"session-start, {where}, sandbox on", "session-start", project, state, env=sandboxed,
                     keep=remembered, source="startup")
                if state == "verified":
                    hook(PROBED, "session-start", project, state, env=sandboxed, source="startup")
            hook(f"stop, {where}", "stop", project, state, 2 if where == "run active" else 0,   # mid-batch: go on
                 stop_hook_active=False)
        cases["via the CLI: clavain-cli hook pre-tool-use Bash, no run"] = Case(
            [CLI, "hook", "pre-tool-use"], idle.dir, idle.env, stdin=payload(idle.dir, "pre-tool-use", **TOOLS["Bash"]))
        cases[PROBED].run_once()   # probes bwrap and remembers its success: the sandbox-on cases start from it
        found = active.state_home / "clavain" / remembered.name
        if found.exists():
            remembered.write_bytes(found.read_bytes())
        probed = "for scale: once, then remembered" if remembered.exists() else \
            "for scale: nothing remembered (the probe failed, or this is not Linux)"
        interleave(cases, args.rounds)

    bare = cases["bare"]
    table.add("python -I -c pass", bare, bare)
    table.add("python -S -I -c pass (the hooks' own start)", cases["bare -S"], bare)
    for name, case in cases.items():
        if name.startswith(("pre-", "post-", "user-", "session-", "stop")) and name != PROBED:
            table.add(name, case, bare, TARGET, "blocks" if case.ok == (2,) else "")
    table.add(PROBED, cases[PROBED], bare, note=probed)
    table.add("via the CLI: clavain-cli hook pre-tool-use Bash, no run",
              cases["via the CLI: clavain-cli hook pre-tool-use Bash, no run"], bare, note="for scale")
    table.print()
    return 1 if table.missed else 0


if __name__ == "__main__":
    sys.exit(main())
