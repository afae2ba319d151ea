"""The run's tasks kept in parts (``clavain.core.parts``): run.json holds a header, each batch's tasks live in a
content-addressed part file, the tasks of the run's start are kept beside the journal. A command reads the parts it
needs and writes the part it changed; a missing or edited part is rebuilt from the journal or refused, never
taken; runs an earlier version recorded (every task in run.json) go on as they were."""

from __future__ import annotations

import json

import pytest

from clavain.core.parts import PartDamaged, Parts, Store, sizes
from clavain.run import state as model
from clavain.run.folder import RunFolder
from test_run_support import cli, disk_state, do_task, ok, run_dir, say, to_checkpoint, write_plan


def plan_text(tasks: int) -> str:
    parts = ["# Many tasks\n\n**Goal:** many.\n"]
    for i in range(1, tasks + 1):
        parts.append(f"\n### Task {i}: Step {i}\n\n- [ ] make f{i}\n")
    return "".join(parts)


def tasks(n: int, batch_size: int = 3) -> list:
    return [model.TaskState(id=str(i), title=f"t{i}", line=i, batch=(i - 1) // batch_size + 1) for i in range(1, n + 1)]


# ---------------------------------------------------------------------------------------------- the list itself

@pytest.mark.parametrize("count,size,breaks,expected", [
    (0, 4, None, []),
    (3, 4, None, [3]),
    (9, 4, None, [4, 4, 1]),
    (9, 4, [1, 1, 1, 2, 2, 2, 3, 3, 3], [6, 3]),        # a part ends only where the batch changes
    (5, 1, [1, 1, 2, 2, 2], [2, 3]),
])
def test_part_sizes(count, size, breaks, expected):
    assert sizes(count, size, breaks) == expected


def test_a_copy_shares_its_parts_until_one_changes_and_a_change_is_written_as_a_new_part(tmp_path):
    store = Store(str(tmp_path / "parts"))
    items = tasks(10)
    first = Parts.of(model.TaskState, items, sizes(10, 4, [t.batch for t in items]), model.task_id,
                     model.task_mark)
    header = first.header()
    assert [n for n, _ in header["parts"]] == [6, 4] and header["marks"] == "p" * 10
    assert first.write(store) == set()
    read = Parts.from_header(model.TaskState, json.loads(json.dumps(header)), store, model.task_mark,
                             model.task_id)
    assert list(read) == items and read.position("7") == 6

    changed = read.copy()
    changed.own(6).status = "done"
    changed.own(7).output = "tasks/task-8.md"
    assert read[6].status == "pending" and changed[6].status == "done"      # the original is untouched
    after = changed.header()
    assert after["parts"][0] == header["parts"][0] and after["parts"][1] != header["parts"][1]
    assert after["marks"][6:8] == "dP"                   # an output: upper case
    stale = changed.write(store)
    assert stale == {header["parts"][1][1]}              # the part it replaced: removed once run.json is written
    assert store.has(after["parts"][1][1])


def test_an_edited_part_is_refused_when_read(tmp_path):
    store = Store(str(tmp_path / "parts"))
    items = tasks(4)
    parts = Parts.of(model.TaskState, items, [4], model.task_id, model.task_mark, keyed=False)
    header = parts.header()
    assert set(header) == {"marks", "parts"}
    parts.write(store)
    path = tmp_path / "parts" / f"{header['parts'][0][1]}.json"
    path.write_text(path.read_text().replace('"pending"', '"done"'))
    read = Parts.from_header(model.TaskState, header, store, model.task_mark, model.task_id, ["1", "2", "3", "4"])
    assert read.missing() == [] and read.damaged() == [header["parts"][0][1]]
    with pytest.raises(PartDamaged, match="does not match its digest"):
        read[0]


D = "0" * 64


@pytest.mark.parametrize("header", [
    {"ids": ["1"], "marks": "p"},
    {"ids": ["1"], "marks": "p", "parts": [[2, D]]},
    {"ids": ["1"], "marks": "", "parts": [[1, D]]},
    {"ids": ["1"], "marks": ["p"], "parts": [[1, D]]},
    {"ids": ["1"], "marks": "p", "parts": [[0, D], [1, D]]},
    {"ids": ["1"], "marks": "p", "parts": [["1", D]]},
    {"ids": ["1"], "marks": "p", "parts": [[1, "x"]]},                            # not a digest
    {"ids": ["1"], "marks": "p", "parts": [[1, "../" * 10 + "etc/passwd"]]},
    {"ids": ["1"], "marks": "p", "parts": [[1, "A" * 64]]},
    [],
])
def test_a_header_of_another_shape_is_not_read(tmp_path, header):
    with pytest.raises(ValueError):
        Parts.from_header(model.TaskState, header, Store(str(tmp_path)), model.task_mark, model.task_id)


def test_a_part_whose_items_are_not_the_ones_listed_is_refused(tmp_path):
    store = Store(str(tmp_path / "parts"))
    parts = Parts.of(model.TaskState, tasks(3), [3], model.task_id, model.task_mark, keyed=False)
    header = parts.header()
    parts.write(store)
    read = Parts.from_header(model.TaskState, header, store, model.task_mark, model.task_id, ["1", "3", "2"])
    with pytest.raises(PartDamaged, match="does not hold the items"):
        read[0]


# ---------------------------------------------------------------------------------------------- in a run

@pytest.fixture
def long_run(project):
    write_plan(project, plan_text(300))
    ok(project, "start", "plan.md")
    do_task(project, "1")
    return project


def test_a_long_runs_records_stay_small_and_each_command_reads_the_parts_of_its_batch(long_run, monkeypatch):
    folder = run_dir(long_run)
    journal = (folder / "journal.jsonl").read_text().splitlines()
    assert max(len(line) for line in journal) < 20_000, "a journal entry holds the plan's tasks"
    assert (folder / "run.json").stat().st_size < 40_000
    assert json.loads((folder / "plan.json").read_text())["tasks"].keys() == {"ids", "marks", "parts"}
    reads = []
    real = Store.read
    monkeypatch.setattr(Store, "read", lambda self, sha: reads.append(self.folder) or real(self, sha))
    count = len(json.loads((folder / "run.json").read_text())["state"]["tasks"]["parts"])
    assert count >= 4
    for argv, most in ((("task-start", "2"), 2), (("next",), 3), (("status",), count + 2)):   # status checks all
        reads.clear()
        ok(long_run, *argv)
        assert len(reads) <= most, f"{argv}: read {len(reads)} parts"
    assert disk_state(long_run)["tasks"][1]["status"] == "running"


def test_a_missing_part_is_rebuilt_from_the_journal(long_run):
    folder = RunFolder(long_run, run_dir(long_run).name)
    for part in (folder.dir / "parts").iterdir():
        part.unlink()
    result = ok(long_run, "status")
    assert "missing" in result.out and "rebuilt from the journal" in result.out
    ok(long_run, "task-start", "2")
    assert [t["status"] for t in disk_state(long_run)["tasks"][:3]] == ["done", "running", "pending"]


def test_an_edited_part_stops_the_command_and_status_rebuilds_it(long_run):
    folder = RunFolder(long_run, run_dir(long_run).name)
    header = json.loads(folder.run_json.read_text())["state"]["tasks"]
    first = folder.dir / "parts" / f"{header['parts'][0][1]}.json"
    first.write_text(first.read_text().replace('"pending"', '"done"', 1))
    refused = cli(long_run, "task-start", "2")
    assert refused.code != 0 and "does not match its digest" in refused.err and "Traceback" not in refused.err
    assert "next: clavain-cli run status" in refused.err
    status = ok(long_run, "status")
    assert "rebuilt from the journal" in status.out
    ok(long_run, "task-start", "2")
    assert [t["status"] for t in disk_state(long_run)["tasks"][:3]] == ["done", "running", "pending"]


def test_without_the_tasks_of_its_start_a_run_cannot_be_rebuilt_and_says_where(long_run):
    folder = RunFolder(long_run, run_dir(long_run).name)
    for record in (folder.dir / "records").iterdir():
        record.unlink()
    folder.run_json.unlink()
    result = cli(long_run, "status")
    assert "Traceback" not in result.err
    assert "records/" in result.out + result.err


def test_a_run_an_earlier_version_recorded_goes_on_as_it_was(project, monkeypatch):
    from clavain.run import engine

    monkeypatch.setattr(engine, "LAYOUT", 1)
    write_plan(project)
    ok(project, "start", "plan.md", "--batch-size", "2")
    monkeypatch.setattr(engine, "LAYOUT", 2)       # the plugin updated: the run keeps the layout it started with
    to_checkpoint(project)
    say(project, "approve batch 1")
    ok(project, "approve")
    state = json.loads((run_dir(project) / "run.json").read_text())["state"]
    assert isinstance(state["tasks"], list) and "layout" not in state
    first = json.loads((run_dir(project) / "journal.jsonl").read_text().splitlines()[0])
    assert isinstance(first["data"]["tasks"], list)
    assert not (run_dir(project) / "parts").exists()
    assert "tampering" not in ok(project, "status").out


def test_a_damaged_part_of_the_kept_plan_is_not_taken_the_plan_file_is_read_again(long_run):
    folder = RunFolder(long_run, run_dir(long_run).name)
    header = json.loads(folder.plan_json.read_text())["tasks"]
    first = folder.dir / "records" / f"{header['parts'][0][1]}.json"
    first.write_text(first.read_text().replace("Step 2", "Delete everything"))
    brief = ok(long_run, "next").out
    assert "Task 2: Step 2" in brief and "Delete everything" not in brief


@pytest.mark.parametrize("sha", ["../" * 8 + "etc/hostname", "x" * 64, "0" * 63, ""])
def test_a_store_never_names_a_file_outside_its_folder(tmp_path, sha):
    store = Store(str(tmp_path / "parts"))
    outside = tmp_path / "keep.json"
    outside.write_text("{}")
    with pytest.raises(PartDamaged, match="not a digest"):
        store.read(sha)
    store.remove([sha, "../keep"])
    assert outside.exists() and not store.has(sha) and not store.intact(sha)


def test_a_journal_entry_naming_a_path_as_its_kept_record_is_refused(long_run):
    folder = RunFolder(long_run, run_dir(long_run).name)
    with pytest.raises(PartDamaged):
        folder.event_data({"data": {"kept_sha256": "../run"}})
