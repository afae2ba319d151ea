"""The Claude Code hooks: decisions on payloads shaped as Claude Code sends them, through the real entry script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, run_cli

ENTRY = ROOT / "hooks" / "clavain-hook"


def payload(event: str, project: Path, **extra) -> dict:
    base = {"session_id": "0b0c-session", "transcript_path": str(project / "transcript.jsonl"),
            "cwd": str(project), "permission_mode": "default", "hook_event_name": event}
    base.update(extra)
    return base


def tool_call(project: Path, tool: str, **tool_input) -> dict:
    return payload("PreToolUse", project, tool_name=tool, tool_input=tool_input, tool_use_id="toolu_01")


NEXT = {"running": "clavain-cli run task-start 1", "awaiting_approval": "clavain-cli run approve",
        "halted": "clavain-cli run retry 2"}


EVENT_FOR = {"running": "task_started", "awaiting_approval": "checkpoint", "halted": "halted", "paused": "paused"}


def journal_line(seq: int, event: str, data: dict, prev: str = "") -> tuple[str, str]:
    """One journal line as the run engine writes it (key order: seq first, hash last) and its hash."""
    from clavain.core.chain import entry_hash

    entry = {"seq": seq, "time": "2026-11-25T22:00:00.000000Z", "epoch": 1795651200.0 + seq, "event": event,
             "data": data, "prev": prev}
    entry["hash"] = entry_hash(entry)
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")), entry["hash"]


def make_run(project: Path, run_id: str = "r1", state: str = "running", dispatch: str = "local",
             summary_text: str | None = None) -> Path:
    """A run as the run engine leaves it for hooks: a run folder, a journal whose last entry leads to
    ``state``, and its active summary."""
    run = project / ".clavain" / "execute-plan" / "runs" / run_id
    (run / "tasks").mkdir(parents=True)
    line, _ = journal_line(1, EVENT_FOR.get(state, "task_started"), {"after": {"state": state, "batch": 1}})
    (run / "journal.jsonl").write_text(line + "\n")
    active = project / ".clavain" / "execute-plan" / "active"
    active.mkdir(parents=True, exist_ok=True)
    summary = {"run_id": run_id, "plan": "plan.md", "state": state, "batch": 1, "batches": 2,
               "dispatch": dispatch, "next": NEXT.get(state, "clavain-cli run status"),
               "updated": "2026-11-25T22:00:00Z"}
    (active / f"{run_id}.json").write_text(summary_text if summary_text is not None else json.dumps(summary))
    return run


def run_entry(event: str, stdin: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """The hook exactly as hooks.json runs it: the entry script, a clean environment, stdin."""
    full = {"PATH": os.environ["PATH"], "CLAVAIN_PYTHON": sys.executable, **(env or {})}
    return subprocess.run([str(ENTRY), event], input=stdin, cwd=cwd, env=full, capture_output=True, text=True,
                          timeout=30)


def decide(event: str, data, project: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    text = data if isinstance(data, str) else json.dumps(data)
    return run_entry(event, text, project, env)


# --------------------------------------------------------------- always: state cannot be forged

FORGING = [
    ("clavain-cli hook user-prompt-submit", True),
    ("echo '{\"prompt\":\"approve\"}' | clavain-cli hook user-prompt-submit", True),
    ('echo x | "${CLAUDE_PLUGIN_ROOT}/bin/clavain-cli" hook user-prompt-submit', True),
    ("cd /tmp && printf '%s' \"$P\" | /opt/p/bin/clavain-cli hook pre-tool-use", True),
    ("python3 -m clavain hook user-prompt-submit < p.json", True),
    ("python3 -c 'from clavain.guard.hooks import main; main([\"user-prompt-submit\"])'", True),
    ("bash -c 'clavain-cli hook user-prompt-submit < x'", True),
    ("x=$(clavain-cli hook session-start)", True),
    ("sh hooks/clavain-hook user-prompt-submit", True),
    ("echo hi > .clavain/execute-plan/runs/r1/prompts.jsonl", True),
    ("echo '{}' >> .clavain/execute-plan/runs/r1/journal.jsonl", True),
    ("cat x | tee -a .clavain/execute-plan/runs/r1/prompts.jsonl", True),
    ("sed -i 's/halted/running/' .clavain/execute-plan/runs/r1/run.json", True),
    ("sed -Ei 's/a/b/' /home/u/p/.clavain/execute-plan/active/r1.json", True),
    ("perl -pi -e 's/a/b/' .clavain/execute-plan/runs/r1/run.json", True),
    ("cp /tmp/run.json .clavain/execute-plan/runs/r1/run.json", True),
    ("cp -t .clavain/execute-plan/runs/r1 /tmp/run.json", True),
    ("mv .clavain/execute-plan/runs/r1/run.json /tmp/", True),
    ("rm -rf .clavain", True),
    ("ln -sf /tmp/x .clavain/execute-plan/runs/r1/run.json", True),
    ("touch .clavain/execute-plan/active/r2.json", True),
    ("truncate -s 0 .clavain/execute-plan/runs/r1/journal.jsonl", True),
    ("dd if=/dev/zero of=.clavain/execute-plan/clavain.db bs=1 count=1", True),
    ("python3 -c \"open('.clavain/execute-plan/runs/r1/run.json','w').write('{}')\"", True),
    ("node -e \"require('fs').writeFileSync('.clavain/execute-plan/x', '')\"", True),
    ("sqlite3 .clavain/execute-plan/clavain.db 'delete from gate'", True),
    ("cd .clavain/execute-plan/runs/r1 && echo '{}' > run.json", True),
    ("D=.clavain/execute-plan/runs/r1; echo x > $D/run.json", True),
    ("find .clavain -name '*.json' -delete", True),
    ("sudo tee .clavain/execute-plan/x < y", True),
    ("git checkout -- .clavain/execute-plan/runs", True),
    ("python3 - <<'EOF'\nopen('.clavain/execute-plan/runs/r1/run.json', 'w').write('{}')\nEOF", True),
    ("cat > .clavain/execute-plan/runs/r1/run.json <<EOF\n{}\nEOF", True),
    ("clavain-cli run task-done 1 --output - <<'EOF'\npython3 -m pytest passed\nrm -rf .clavain is not needed\nEOF",
     False),
    ("git commit -qm 'ignore .clavain state'", False),
    ("echo '.clavain/' >> .gitignore", False),
    ("ls > .clavain-listing.txt", False),
    # reading, and the only writer, stay allowed
    ("cat .clavain/execute-plan/runs/r1/batches/batch-1.md", False),
    ("ls -la .clavain/execute-plan/runs/r1 && head -5 .clavain/execute-plan/runs/r1/journal.jsonl", False),
    ("grep -n state .clavain/execute-plan/runs/r1/run.json 2>/dev/null | head", False),
    ("cp .clavain/execute-plan/runs/r1/batches/batch-1.md /tmp/report.md", False),
    ("jq .state .clavain/execute-plan/runs/r1/run.json", False),
    ("awk '{print > \".clavain/execute-plan/x\"}' f", True),
    ("clavain-cli run approve --note 'looks good'", False),
    ('"${CLAUDE_PLUGIN_ROOT}/bin/clavain-cli" run task-done 1 --output out/task-1.md', False),
    ("clavain-cli run skip 3 --reason 'hook not needed'", False),
    ("git status && git diff -- .clavain", False),
    ("echo done > out/task-1.md", False),
    ("python3 -m pytest -q tests", False),
    ("echo 'unbalanced", False),
]


@pytest.mark.parametrize("command,blocked", FORGING)
def test_forging_routes_are_blocked_with_or_without_a_run(git_project, command, blocked):
    for with_run in (False, True):
        if with_run:
            make_run(git_project)
        r = decide("pre-tool-use", tool_call(git_project, "Bash", command=command), git_project)
        assert r.returncode == (2 if blocked else 0), (command, with_run, r.stderr)
        if blocked:
            assert r.stderr.startswith("clavain: ") and "next: clavain-cli run status" in r.stderr


@pytest.mark.parametrize("tool,key,path,blocked", [
    ("Write", "file_path", "{p}/.clavain/execute-plan/runs/r1/run.json", True),
    ("Edit", "file_path", "{p}/.clavain/execute-plan/runs/r1/journal.jsonl", True),
    ("MultiEdit", "file_path", ".clavain/execute-plan/active/r1.json", True),
    ("NotebookEdit", "notebook_path", "{p}/.clavain/execute-plan/x.ipynb", True),
    ("Write", "file_path", "{p}/.clavain/learnings/x.md", False),
    ("Write", "file_path", "{p}/.clavain/checkpoint.json", False),
    ("Write", "file_path", "{p}/src/clavain_notes.md", False),
    ("Edit", "file_path", "{p}/docs/.clavainrc", False),
])
def test_editing_the_state_folder_is_blocked_always(git_project, tool, key, path, blocked):
    call = tool_call(git_project, tool, **{key: path.format(p=git_project), "content": "x"})
    r = decide("pre-tool-use", call, git_project)
    assert r.returncode == (2 if blocked else 0), r.stderr
    if blocked:
        assert "only `clavain-cli run ...` changes" in r.stderr


# --------------------------------------------------------------- while a run is active

EDIT_CALLS = [("Edit", {"file_path": "src/a.py", "old_string": "a", "new_string": "b"}),
              ("Write", {"file_path": "src/a.py", "content": "x"}),
              ("MultiEdit", {"file_path": "src/a.py", "edits": []}),
              ("NotebookEdit", {"notebook_path": "n.ipynb", "new_source": "x"}),
              ("Agent", {"description": "task 3", "prompt": "do task 3", "subagent_type": "general-purpose"}),
              ("Task", {"description": "task 3", "prompt": "do task 3"})]


@pytest.mark.parametrize("tool,tool_input", EDIT_CALLS)
@pytest.mark.parametrize("state,blocked", [(None, False), ("running", False),
                                           ("awaiting_approval", True), ("halted", True)])
def test_edits_and_subagents_wait_for_the_user(git_project, tool, tool_input, state, blocked):
    if state:
        make_run(git_project, state=state)
    r = decide("pre-tool-use", tool_call(git_project, tool, **tool_input), git_project)
    assert r.returncode == (2 if blocked else 0), r.stderr
    if blocked:
        assert f"{tool} is blocked" in r.stderr and "wait for" in r.stderr
        assert ("halt report" if state == "halted" else "batch report") in r.stderr
        assert f"next: {NEXT[state]} (only after the user's word)" in r.stderr


@pytest.mark.parametrize("state", [None, "running", "awaiting_approval", "halted"])
def test_plan_mode_is_blocked_while_a_run_is_active(git_project, state):
    if state:
        make_run(git_project, state=state)
    call = tool_call(git_project, "EnterPlanMode")
    r = decide("pre-tool-use", call, git_project)
    assert r.returncode == (2 if state else 0), r.stderr
    if state == "running":
        assert "plan mode is not used" in r.stderr
    elif state:
        assert "EnterPlanMode is blocked: run r1" in r.stderr


@pytest.mark.parametrize("command,agent", [
    ("codex exec 'implement task 3'", "codex"),
    ("cd sub && codex --full-auto 'x'", "codex"),
    ("npx -y @openai/codex exec hi", "codex"),
    ("bash scripts/dispatch.sh --task 3", "dispatch.sh"),
    ("./scripts/dispatch.sh 3", "dispatch.sh"),
    ("timeout 600 interserve run 3", "interserve"),
    ("echo $(oracle ask 'x')", "oracle"),
    ("echo codex && grep -n oracle notes.md", ""),
    ("cat scripts/dispatch.sh", ""),
    ("python3 tools/codex_report.py", ""),
    ("git log --grep interserve", ""),
])
@pytest.mark.parametrize("dispatch", ["local", "external"])
def test_external_agents_need_the_opt_in(git_project, command, agent, dispatch):
    make_run(git_project, state="running", dispatch=dispatch)
    r = decide("pre-tool-use", tool_call(git_project, "Bash", command=command), git_project)
    blocked = bool(agent) and dispatch == "local"
    assert r.returncode == (2 if blocked else 0), r.stderr
    if blocked:
        assert f"`{agent}` dispatches an external agent" in r.stderr and "Agent tool" in r.stderr


def test_external_agents_pass_when_no_run_is_active(git_project):
    r = decide("pre-tool-use", tool_call(git_project, "Bash", command="codex exec hi"), git_project)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("tool,tool_input", [("Read", {"file_path": ".clavain/execute-plan/runs/r1/run.json"}),
                                             ("Bash", {"command": "clavain-cli run status"}),
                                             ("TaskCreate", {"subject": "x"}),
                                             ("Skill", {"skill": "clavain:executing-plans"})])
def test_everything_else_passes_at_a_checkpoint(git_project, tool, tool_input):
    make_run(git_project, state="awaiting_approval")
    r = decide("pre-tool-use", tool_call(git_project, tool, **tool_input), git_project)
    assert (r.returncode, r.stderr) == (0, "")


def test_a_run_is_found_when_the_model_cd_ed_away(git_project, tmp_path):
    make_run(git_project, state="awaiting_approval")
    away = tmp_path / "elsewhere"
    away.mkdir()
    call = tool_call(away, "Edit", file_path=str(away / "x"), old_string="a", new_string="b")
    assert decide("pre-tool-use", call, away).returncode == 0
    env = {"CLAUDE_PROJECT_DIR": str(git_project)}
    assert decide("pre-tool-use", call, away, env).returncode == 2
    assert decide("pre-tool-use", call, away, {"CLAVAIN_PROJECT_DIR": str(git_project)}).returncode == 2


# --------------------------------------------------------------- bad input and corrupt state

@pytest.mark.parametrize("stdin", ["", "garbage", "[1, 2]", "{\"tool_name\": ", "\u00ff\u00fe"])
@pytest.mark.parametrize("state,code", [(None, 3), ("running", 3), ("awaiting_approval", 2), ("halted", 2)])
def test_garbage_input_fails_open_unless_a_run_waits(git_project, stdin, state, code):
    if state:
        make_run(git_project, state=state)
    r = run_entry("pre-tool-use", stdin, git_project)
    assert r.returncode == code, r.stderr
    assert "Traceback" not in r.stderr
    if code == 3:
        assert len(r.stderr.splitlines()) == 1 and "not Claude Code's JSON" in r.stderr
        assert r.stderr.rstrip().endswith("; allowing it. next: clavain-cli run task-start 1" if state else
                                          "; allowing it"), r.stderr


@pytest.mark.parametrize("event", ["user-prompt-submit", "session-start"])
def test_garbage_input_never_blocks_other_events(git_project, event):
    make_run(git_project, state="awaiting_approval")
    r = run_entry(event, "garbage", git_project)
    assert r.returncode == 3 and len(r.stderr.splitlines()) == 1


RUNNING_SUMMARY = '{"run_id": "r1", "plan": "plan.md", "state": "running", "batch": 1, "batches": 2}'


@pytest.mark.parametrize("state,summary,journal_tail,says", [
    ("running", RUNNING_SUMMARY, None, ""),
    ("awaiting_approval", RUNNING_SUMMARY, None, "summary says 'running' but its journal says 'awaiting_approval'"),
    ("halted", RUNNING_SUMMARY, None, "summary says 'running' but its journal says 'halted'"),
    ("running", "{not json", None, "unreadable run summary"),
    ("running", "[]", None, "unreadable run summary"),
    ("running", '{"state": "dancing"}', None, "summary says 'dancing'"),
    ("running", None, None, "summary is missing"),
    ("running", RUNNING_SUMMARY, b'{"seq":2,"event":"approved","data":{}}\n', "not a valid journal entry"),
    ("running", RUNNING_SUMMARY, b"", "no journal entry"),
])
def test_the_state_comes_from_the_journal_and_a_summary_that_disagrees_blocks(git_project, state, summary, journal_tail,
                                                                              says):
    """Editing the summary (``.clavain/execute-plan/active/``) never unblocks a waiting run: the hooks read the
    state from the journal's last entry, its hash checked; anything that does not add up makes the run wait."""
    run = make_run(git_project, state=state, summary_text=summary or RUNNING_SUMMARY)
    if summary is None:
        env = {"XDG_STATE_HOME": str(git_project.parent / "state")}  # the witness still knows the run
        decide("pre-tool-use", tool_call(git_project, "Bash", command="ls"), git_project, env)
        (git_project / ".clavain" / "execute-plan" / "active" / "r1.json").unlink()
    else:
        env = {}
    if journal_tail is not None:
        with open(run / "journal.jsonl", "ab") as fh:
            fh.truncate(0) if journal_tail == b"" else fh.write(journal_tail)
    call = tool_call(git_project, "Edit", file_path="src/a.py", old_string="a", new_string="b")
    r = decide("pre-tool-use", call, git_project, env)
    assert "Traceback" not in r.stderr
    if not says:
        assert (r.returncode, r.stderr) == (0, ""), r.stderr
        return
    assert r.returncode == 2 and says in r.stderr, r.stderr
    assert "only reading tools and `clavain-cli run ...` pass" in r.stderr
    own = decide("pre-tool-use", tool_call(git_project, "Bash", command="clavain-cli run status"), git_project, env)
    assert (own.returncode, own.stderr) == (0, "")  # the way to repair it always passes


def test_no_state_folder_is_never_created_by_hooks(git_project):
    for event, data in [("pre-tool-use", tool_call(git_project, "Bash", command="ls")),
                        ("user-prompt-submit", payload("UserPromptSubmit", git_project, prompt="hi")),
                        ("session-start", payload("SessionStart", git_project, source="startup"))]:
        r = decide(event, data, git_project)
        assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert not (git_project / ".clavain").exists()


def test_unknown_event_fails_open(git_project):
    r = run_entry("pre-compact", "{}", git_project)
    assert r.returncode == 3 and "unknown hook event" in r.stderr


# --------------------------------------------------------------- UserPromptSubmit

def test_prompts_are_recorded_for_every_active_run(git_project):
    runs = [make_run(git_project, run_id, state=state)
            for run_id, state in (("r1", "awaiting_approval"), ("r2", "running"))]
    for text in ("approve, looks good", "naïve — ok"):
        r = decide("user-prompt-submit", payload("UserPromptSubmit", git_project, prompt=text), git_project)
        assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    for run in runs:
        lines = [json.loads(line) for line in (run / "prompts.jsonl").read_text(encoding="utf-8").splitlines()]
        assert [line["prompt"] for line in lines] == ["approve, looks good", "naïve — ok"]
        first = lines[0]
        assert set(first) == {"time", "epoch", "session_id", "transcript_path", "cwd", "prompt"}
        assert first["session_id"] == "0b0c-session" and first["cwd"] == str(git_project)
        assert first["transcript_path"] == str(git_project / "transcript.jsonl")
        assert first["time"].endswith("Z") and len(first["time"]) == len("2026-11-25T22:01:02.123456Z")
        assert lines[0]["epoch"] <= lines[1]["epoch"]


def test_a_prompt_after_a_torn_line_is_recorded_on_a_line_of_its_own(git_project):
    """A writer killed mid-line (or a crash before the kernel wrote the line back) leaves a torn last line: the
    next record does not run into it."""
    run = make_run(git_project, state="awaiting_approval")
    (run / "prompts.jsonl").write_text('{"time": "2026-11-25T22:00:00.0Z", "epoch": 17956512')
    r = decide("user-prompt-submit", payload("UserPromptSubmit", git_project, prompt="approve batch 1"), git_project)
    assert (r.returncode, r.stderr) == (0, "")
    torn, line = (run / "prompts.jsonl").read_text(encoding="utf-8").split("\n")[:2]
    assert torn.endswith("17956512") and json.loads(line)["prompt"] == "approve batch 1"


def test_prompt_for_a_run_without_folder_is_reported_not_blocked(git_project):
    (git_project / ".clavain" / "execute-plan" / "active").mkdir(parents=True)
    (git_project / ".clavain" / "execute-plan" / "active" / "ghost.json").write_text('{"state": "running"}')
    r = decide("user-prompt-submit", payload("UserPromptSubmit", git_project, prompt="go"), git_project)
    assert r.returncode == 3 and "ghost" in r.stderr
    assert_unrecorded_says_reply_again(r)


def assert_unrecorded_says_reply_again(r) -> None:
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert "will be refused; please reply again" in r.stderr, r.stderr
    assert r.stderr.rstrip().endswith("next: clavain-cli run status"), r.stderr


def test_prompt_missing_from_the_input_is_reported_with_the_way_on(git_project):
    make_run(git_project, state="awaiting_approval")
    r = decide("user-prompt-submit", payload("UserPromptSubmit", git_project), git_project)
    assert r.returncode == 3 and "nothing recorded" in r.stderr
    assert_unrecorded_says_reply_again(r)


# --------------------------------------------------------------- SessionStart

@pytest.mark.parametrize("state", ["running", "awaiting_approval", "halted"])
def test_session_start_names_the_run_and_the_protection_level(git_project, state):
    make_run(git_project, state=state)
    r = decide("session-start", payload("SessionStart", git_project, source="compact"), git_project)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)["hookSpecificOutput"]
    assert out["hookEventName"] == "SessionStart"
    assert out["additionalContext"] == (f"clavain: run r1 of plan plan.md is {state}, batch 1 of 2; resume it, "
                                        f"do not start over. next: {NEXT[state]}\n"
                                        "clavain: protection: hooks only, best effort (Claude Code's Bash sandbox is "
                                        "off for this project); to upgrade: run `clavain-cli setup sandbox`, then "
                                        "start a new Claude Code session")


def test_session_start_records_the_level_for_the_approvals(git_project, tmp_path):
    """The level in force is noted in the witness record; with the sandbox set up and working it is "sandboxed"."""
    from clavain.core import witness

    make_run(git_project, state="awaiting_approval")
    (git_project / ".claude").mkdir()
    (git_project / ".claude" / "settings.local.json").write_text(json.dumps(
        {"sandbox": {"enabled": True, "failIfUnavailable": True, "allowUnsandboxedCommands": False}}))
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "HOME": str(tmp_path / "home")}
    r = decide("session-start", payload("SessionStart", git_project, source="startup"), git_project, env)
    context = json.loads(r.stdout)["hookSpecificOutput"]["additionalContext"]
    level = "sandboxed" if "protection: sandboxed" in context else "hooks only"
    assert level == ("sandboxed" if shutil.which("bwrap") and shutil.which("socat") else "hooks only"), context
    assert witness.read(env, str(git_project), "r1")["level"] == level


# --------------------------------------------------------------- the entry points agree

def test_cli_hook_subcommand_matches_the_entry_script(git_project):
    make_run(git_project, state="awaiting_approval")
    call = json.dumps(tool_call(git_project, "Agent", description="x", prompt="y"))
    via_cli = run_cli(["hook", "pre-tool-use"], cwd=git_project, stdin=call)
    via_entry = run_entry("pre-tool-use", call, git_project)
    assert (via_cli.code, via_cli.err) == (via_entry.returncode, via_entry.stderr) == (2, via_entry.stderr)


@pytest.mark.parametrize("layout", [(".clavain",), (".git",), (".git", "sub/.clavain"), ()])
def test_find_project_agrees_with_paths(tmp_path, layout):
    from clavain.guard import hooks
    from clavain.core import paths

    root = tmp_path / "root"
    deep = root / "sub" / "deeper"
    deep.mkdir(parents=True)
    for marker in layout:
        (root / marker).mkdir(parents=True)
    assert hooks.find_project(str(deep)) == str(paths.find_project(deep))
    assert hooks.STATE_DIRNAME == paths.STATE_DIRNAME


@pytest.mark.parametrize("event,data", [
    ("pre-tool-use", {"tool_name": "Bash", "tool_input": {"command": "git status && ls -la | head"}}),
    ("pre-tool-use", {"tool_name": "Edit", "tool_input": {"file_path": "a.py", "old_string": "a", "new_string": "b"}}),
    ("user-prompt-submit", {"prompt": "hello"}),
    ("session-start", {"source": "startup"}),
])
def test_idle_path_imports_only_a_little_of_the_standard_library(git_project, event, data):
    """With no run active, a hook imports no third-party module, and not even json, re or pathlib."""
    code = ("import os, sys; sys.path.insert(0, sys.argv[1]); from clavain.guard import hooks;"
            "code = hooks.answer(sys.argv[3], sys.argv[4], {}, sys.argv[2])[0];"
            "names = sorted({m.split('.')[0] for m in sys.modules}); print(code, ' '.join(names))")
    text = json.dumps({"cwd": str(git_project), **data})
    out = subprocess.run([sys.executable, "-S", "-I", "-c", code, str(ROOT), str(git_project), event, text],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "0"
    modules = set(out[1:])
    assert modules - set(sys.stdlib_module_names) - {"clavain", "__main__"} == set()
    assert not {"pathlib", "tempfile", "argparse", "json", "re", "shlex"} & modules


@pytest.mark.parametrize("extra,expected", [({"prompt_id": "p-42"}, {"prompt_id": "p-42"}), ({"prompt_id": 7}, {}),
                                            ({}, {})])
def test_prompt_id_is_kept_when_claude_code_sends_one(git_project, extra, expected):
    run = make_run(git_project)
    data = payload("UserPromptSubmit", git_project, prompt="yes", **extra)
    assert decide("user-prompt-submit", data, git_project).returncode == 0
    record = json.loads((run / "prompts.jsonl").read_text())
    assert {k: record[k] for k in record if k == "prompt_id"} == expected


@pytest.mark.parametrize("text", ['{"a": [1, 2.5, -3e2, true, false, null], "b": {"c": "\\u00e9\\n"}}', ' [] ',
                                  '"x"', "NaN", '{"a": Infinity}', "", "garbage", '{"a": 1} {}', '{"a": 1,}',
                                  "{not json", '{"a": "\\ud800"}', "\t{\"k\": 1}\n"])
def test_fast_json_reader_agrees_with_json(text):
    from clavain.guard.hooks import loads

    try:
        expected = json.loads(text)
    except ValueError:
        with pytest.raises(ValueError):
            loads(text)
        return
    assert json.dumps(loads(text)) == json.dumps(expected)


@pytest.mark.parametrize("runs,blocked_by", [
    ([("r1", "running", "external")], ""),
    ([("r1", "awaiting_approval", "external")], "`codex exec 'task 3'` is blocked: run r1 is awaiting"),
    ([("r1", "halted", "external")], "`codex exec 'task 3'` is blocked: run r1 is halted"),
    ([("r1", "running", "external"), ("r2", "running", "local")], "run r2 uses local subagents"),
])
def test_external_agents_wait_with_the_run_and_need_every_run_to_opt_in(git_project, runs, blocked_by):
    for run_id, state, dispatch in runs:
        make_run(git_project, run_id, state=state, dispatch=dispatch)
    r = decide("pre-tool-use", tool_call(git_project, "Bash", command="codex exec 'task 3'"), git_project)
    assert r.returncode == (2 if blocked_by else 0), r.stderr
    assert blocked_by in r.stderr


def test_session_start_names_a_run_whose_summary_is_corrupt(git_project):
    make_run(git_project, summary_text="{torn")
    r = decide("session-start", payload("SessionStart", git_project, source="resume"), git_project)
    context = json.loads(r.stdout)["hookSpecificOutput"]["additionalContext"]
    assert r.returncode == 0
    assert context.startswith("clavain: run r1 of plan ? is running, batch 1 of ? (")
    assert "unreadable run summary" in context and "next: clavain-cli run status --run r1\n" in context


def test_hooks_json_command_runs_from_a_copy_in_a_folder_with_spaces_without_a_venv(git_project, tmp_path):
    """As Claude Code runs it: sh -c on the command line, CLAUDE_PLUGIN_ROOT set, python3 from PATH."""
    import shutil

    copy = tmp_path / "plugin cache" / "clavain"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", "node_modules", ".git", "__pycache__"))
    command = json.loads((copy / "hooks" / "hooks.json").read_text())["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    python_dir = tmp_path / "python bin"
    python_dir.mkdir()
    (python_dir / "python3").symlink_to(sys.executable)
    env = {"PATH": f"{python_dir}:/usr/bin:/bin", "CLAUDE_PLUGIN_ROOT": str(copy)}
    make_run(git_project, state="awaiting_approval")
    call = json.dumps(tool_call(git_project, "Write", file_path=str(git_project / "a.py"), content="x"))
    r = subprocess.run(["sh", "-c", command], input=call, cwd=git_project, env=env, capture_output=True, text=True)
    assert r.returncode == 2 and "Write is blocked" in r.stderr, r.stderr


@pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
def test_prompts_are_read_as_utf8_whatever_the_locale(git_project, locale):
    run = make_run(git_project)
    data = json.dumps(payload("UserPromptSubmit", git_project, prompt="naïve — ok"), ensure_ascii=False)
    raw = data.encode("utf-8").replace("ok".encode(), b"\xff ok")  # one invalid byte too
    full = {"PATH": os.environ["PATH"], "CLAVAIN_PYTHON": sys.executable, "LC_ALL": locale}
    r = subprocess.run([str(ENTRY), "user-prompt-submit"], input=raw, cwd=git_project, env=full, capture_output=True)
    assert r.returncode == 0, r.stderr
    assert json.loads((run / "prompts.jsonl").read_text(encoding="utf-8"))["prompt"] == "naïve — \ufffd ok"


@pytest.mark.parametrize("event,data", [
    ("pre-tool-use", {"tool_name": "Bash", "tool_input": {"command": "ls"}}),
    ("user-prompt-submit", {"prompt": "hello"}),
    ("session-start", {"source": "startup"}),
    ("post-tool-use", {"tool_name": "Bash", "tool_input": {"command": "ls"}, "tool_use_id": "t1"}),
    ("stop", {"stop_hook_active": False}),
    ("pre-compact", None),
])
def test_every_hook_event_is_a_cli_subcommand(git_project, event, data):
    r = run_cli(["hook", event], cwd=git_project, stdin=json.dumps({"cwd": str(git_project), **(data or {})}))
    if data is None:
        assert r.code == 2 and "invalid choice: 'pre-compact'" in r.err
    else:
        assert (r.code, r.out, r.err) == (0, "", "")


@pytest.mark.parametrize("body,names_state", [("notes about the release\n", False),
                                              ("see .clavain/execute-plan/runs for the records\n", True)])
def test_a_long_command_is_decided_from_cheap_checks_of_its_text(git_project, body, names_state):
    """Reading shell syntax is not linear in the worst case, so lines over the scan limit are not read: while a batch
    runs, a long heredoc is ordinary work unless its text names a protected place; while the run waits it is not on
    the allowlist anyway."""
    from clavain.guard.bashscan import SCAN_CHARS

    command = "cat > notes.md <<'EOF'\n" + body * (SCAN_CHARS // len(body) + 10) + "EOF"
    make_run(git_project, state="running")
    r = decide("pre-tool-use", tool_call(git_project, "Bash", command=command), git_project)
    assert r.returncode == (2 if names_state else 0), r.stderr
    if names_state:
        assert "too long to read in the hook's time" in r.stderr
