"""Helpers for the run tests (no tests here): a project with a plan, the user's voice, the CLI."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from conftest import run_cli

SKIP_GATE = {"CLAVAIN_SKIP_GATE": "run tests"}

SMALL_PLAN = """\
# Small Plan

**Goal:** exercise the run.

## Global Constraints

- Standard library only.

### Task 1: Make a file

**Files:**
- Create: `a.txt`

- [ ] **Step 1: Write a.txt**

<verify>
- run: `test -f a.txt`
  expect: exit 0
</verify>

### Task 2: Check its content

**Files:**
- Modify: `a.txt`

- [ ] **Step 1: Put hello in a.txt**

<verify>
- run: `grep -q hello a.txt && echo found-hello`
  expect: contains "found-hello"
</verify>

### Task 3: No verify here

- [ ] **Step 1: Think**

### Task 4: Last one

- [ ] **Step 1: Wrap up**
"""


OPT_IN = "approval: {evidence: prompt-record}\n"


def write_plan(project: Path, text: str = SMALL_PLAN, name: str = "plan.md", *, opt_in: bool = True) -> Path:
    """The plan, and (``opt_in``) the config a project without Claude Code's transcripts needs: the user's
    replies are read from the prompt records (only canonical replies count then)."""
    path = project / name
    path.write_text(text)
    if opt_in:
        (project / ".clavain").mkdir(exist_ok=True)
        (project / ".clavain" / "config.yaml").write_text(OPT_IN)
    return path


def cli(project: Path, *argv, stdin: str = "", env: dict | None = None):
    return run_cli(["run", *argv], cwd=project, env={**SKIP_GATE, **(env or {})}, stdin=stdin)


def ok(project: Path, *argv, stdin: str = ""):
    r = cli(project, *argv, stdin=stdin)
    assert r.code == 0, f"{argv}: exit {r.code}\n{r.out}\n{r.err}"
    return r


def js(project: Path, *argv) -> dict:
    return json.loads(ok(project, *argv, "--json").out)


def run_dir(project: Path) -> Path:
    runs = sorted((project / ".clavain" / "execute-plan" / "runs").iterdir())
    return runs[-1]


def _with_parts(data: dict, store: Path) -> dict:
    """``data`` with its tasks read from the parts it keeps them in (each checked against its digest; the ids
    in the header, or else the batches' ids in order)."""
    import hashlib

    kept = data["tasks"]
    if isinstance(kept, dict):
        tasks = []
        for count, sha in kept["parts"]:
            raw = (store / f"{sha}.json").read_bytes()
            assert hashlib.sha256(raw).hexdigest() == sha
            part = json.loads(raw)
            assert len(part) == count
            tasks += part
        ids = kept["ids"] if "ids" in kept else [i for batch in data["batches"] for i in batch]
        assert [t["id"] for t in tasks] == ids and len(kept["marks"]) == len(ids)
        data["tasks"] = tasks
    return data


def disk_state(project: Path) -> dict:
    """run.json's state as plain data, its tasks read from the parts it keeps them in, as a reader of the files
    would."""
    folder = run_dir(project)
    return _with_parts(json.loads((folder / "run.json").read_text())["state"], folder / "parts")


def disk_plan(project: Path) -> dict:
    """The run's plan.json as plain data, its tasks read from the parts it keeps them in (``records/``)."""
    folder = run_dir(project)
    return _with_parts(json.loads((folder / "plan.json").read_text()), folder / "records")


def say(project: Path, text: str, *, transcript: Path | None = None, session_id: str = "s-1") -> float:
    """The user writes a prompt: one prompts.jsonl line, as the UserPromptSubmit hook records it."""
    time.sleep(0.002)
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"
    line = {"time": stamp, "epoch": now, "session_id": session_id,
            "transcript_path": str(transcript) if transcript else None, "cwd": str(project), "prompt": text}
    with open(run_dir(project) / "prompts.jsonl", "a") as fh:
        fh.write(json.dumps(line) + "\n")
    return now


def transcript_line(text: str, epoch: float, **extra) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch % 1 * 1000):03d}Z"
    entry = {"parentUuid": None, "isSidechain": False, "userType": "external", "cwd": "/p", "sessionId": "s-1",
             "version": "2.1.197", "type": "user", "message": {"role": "user", "content": text},
             "uuid": f"u-{epoch}", "timestamp": stamp, **extra}
    return json.dumps(entry)


def do_task(project: Path, task: str, content: str = "did it\n", verify: bool = False,
            files: dict | None = None) -> None:
    """Task ``task`` from start to done; ``files`` (path -> text) is its work, written after it starts."""
    ok(project, "task-start", task)
    for name, text in (files or {}).items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    if verify:
        ok(project, "verify", task)
    out = project / f"out-{task}.md"
    out.write_text(content)
    ok(project, "task-done", task, "--output", str(out))


def to_checkpoint(project: Path) -> None:
    """Batch 1 of the small plan (batch size 2) done and closed: task 1 creates a.txt, task 2 changes it."""
    do_task(project, "1", verify=True, files={"a.txt": "hi\n"})
    do_task(project, "2", verify=True, files={"a.txt": "hi\nhello\n"})
    ok(project, "checkpoint")


_VOLATILE = [
    (re.compile(r"\d{8}-\d{6}-[a-z0-9-]+-[0-9a-f]{4}"), "RUN-ID"),
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z"), "TIME"),
    (re.compile(r"\d+\.\ds\)"), "N.Ns)"),
]


def normalise(text: str, project: Path) -> str:
    text = text.replace(str(project), "PROJECT")
    for pattern, repl in _VOLATILE:
        text = pattern.sub(repl, text)
    return text


def events(folder: Path) -> list[tuple[str, str]]:
    """The run's journal as (event, task or batch), the chain verified."""
    from clavain.run.journal import Journal

    return [(e["event"], str(e["data"].get("task") or e["data"].get("batch") or ""))
            for e in Journal(folder / "journal.jsonl").verify()]


def assert_in_step(project: Path, folder: Path, env: dict) -> None:
    """The run as commands run one after another leave it: the chain verifies with no torn line, every entry
    leads to the state it records, and run.json, the active summary, the report the state calls for and the
    hooks' witness record all stand at the journal's head (a run that is over: no summary; the hooks no longer
    look at its record), with no verdict."""
    from clavain.core import witness
    from clavain.run.folder import RunFolder
    from clavain.run.journal import Journal

    journal = Journal(folder / "journal.jsonl")
    entries = journal.verify()
    assert journal.torn is None, "a torn line is left at the journal's end"
    loaded = RunFolder(project, folder.name).load(full=True)
    assert loaded.tamper is None, f"the journal does not fold to its states: {loaded.tamper.reason}"
    assert not loaded.notes, f"run.json is not at the journal's head: {loaded.notes}"
    st = loaded.state
    over = st.state in ("finished", "aborted")
    active = project / ".clavain" / "execute-plan" / "active" / f"{folder.name}.json"
    if over:
        assert not active.exists(), "a run that is over still has its summary"
    else:
        summary = json.loads(active.read_text())
        assert (summary["state"], summary["batch"], summary["updated"]) == (st.state, st.batch, st.updated), \
            "the active summary is stale"
    from clavain.run.report import checkpoint_report

    report = {"awaiting_approval": checkpoint_report(st), "halted": st.halt and st.halt.report,
              "finished": "batches/final.md", "aborted": "batches/final.md"}.get(st.state)
    if report:
        assert (folder / report).exists(), f"{report} is missing"
    record = witness.read(env, str(project), folder.name) or {}
    if not over:
        assert (record.get("head") or {}).get("seq") == entries[-1]["seq"], "the witness record lags the journal"
    assert not record.get("verdicts"), f"the hooks saw a move they could not account for: {record['verdicts']}"
