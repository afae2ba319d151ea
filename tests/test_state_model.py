"""The run state's plain models (``clavain.core.model``) against the pydantic models built from the same
declarations (``clavain.plan.schema``): the same JSON, so the same digests; run.json taken as written when its
digest matches the journal, validated by pydantic when it does not; digests an earlier version recorded still
count."""

from __future__ import annotations

import hashlib
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clavain.run import state as model
from clavain.run.folder import RunFolder
from clavain.plan.schema import pydantic_json, pydantic_model
from test_run_support import ok, run_dir, write_plan

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
# the floats a state holds: epochs, and durations rounded to milliseconds (below 1e-4 the writers differ: see below)
EPOCH = st.floats(min_value=1e-4, max_value=4e9) | st.just(0.0)
SMALL = st.floats(min_value=0, max_value=3600).map(lambda s: round(s, 3))


def task(**extra):
    return st.builds(dict, id=TEXT, title=TEXT, line=st.integers(0, 10**6), batch=st.integers(1, 99),
                     status=st.sampled_from(model.LITERALS["TaskStatus"]), attempts=st.integers(0, 5),
                     ask_user=st.none() | TEXT, files_changed=st.none() | st.lists(TEXT, max_size=3),
                     verify=st.lists(st.builds(dict, run=TEXT, passed=st.booleans(), duration=SMALL,
                                               exit_code=st.none() | st.integers(-255, 255)), max_size=2),
                     snapshot_start=st.none() | TEXT, **extra)


STATES = st.builds(
    dict, run_id=TEXT, plan=TEXT, plan_sha256=TEXT, batch_size=st.integers(1, 50), batches=st.lists(
        st.lists(TEXT, max_size=3), max_size=3), groups=st.just([]), tasks=st.lists(task(), max_size=4),
    started_epoch=EPOCH, created=TEXT, updated=TEXT, halts=st.integers(0, 3),
    halt=st.none() | st.builds(dict, n=st.integers(1, 3), kind=st.sampled_from(model.LITERALS["HaltKind"]),
                               reason=TEXT, epoch=EPOCH, time=TEXT, report=TEXT),
    decisions=st.lists(st.builds(dict, action=TEXT, batch=st.integers(1, 9), time=TEXT,
                                 evidence=st.builds(dict, text=TEXT, time=TEXT, epoch=EPOCH, source=TEXT,
                                                    how=st.none() | TEXT)), max_size=2),
    checklist=st.lists(TEXT, max_size=2), verdicts_seen=st.integers(0, 2),
    must_haves=st.none() | st.dictionaries(TEXT, st.integers() | TEXT | st.booleans(), max_size=3),
    pause=st.none() | st.dictionaries(TEXT, TEXT, max_size=2))


@settings(max_examples=300, deadline=None)
@given(STATES)
def test_a_plain_state_dumps_as_pydantic_dumps_it(fields):
    plain = model.RunState(**fields)
    validated = pydantic_model(model.RunState)(**fields)
    assert plain.model_dump_json() == validated.model_dump_json()
    assert plain.model_dump_json(indent=1) == validated.model_dump_json(indent=1)
    assert plain.model_dump() == json.loads(validated.model_dump_json())
    assert model.state_digest(plain) == hashlib.sha256(validated.model_dump_json().encode()).hexdigest()
    assert model.RunState.trusted(json.loads(plain.model_dump_json())) == plain


def test_the_plain_models_refuse_unknown_and_missing_fields_as_pydantic_refuses_extra_ones():
    with pytest.raises(TypeError, match="unknown field"):
        model.TaskState(id="1", title="t", line=1, batch=1, colour="red")
    with pytest.raises(TypeError, match="missing field 'title'"):
        model.TaskState(id="1", line=1, batch=1)
    task = model.TaskState(id="1", title="t", line=1, batch=1, verify=[{"run": "true", "passed": True}])
    assert isinstance(task.verify[0], model.VerifyRecord) and task.verify[0].duration == 0.0
    assert model.VerifyRecord(run="x", passed=True, duration=2).duration == 2.0   # an int read as a float


def test_the_two_writers_differ_on_tiny_floats_and_an_earlier_digest_still_counts():
    """pydantic writes 1e-05 as 0.00001: a state holding such a value, recorded by an earlier version (whose digest
    is of pydantic's JSON), is still the state its entry records."""
    from clavain.run.folder import _leads_to

    state = model.RunState(run_id="r", plan="p", plan_sha256="0", batch_size=1, batches=[["1"]], groups=[],
                           tasks=[model.TaskState(id="1", title="t", line=1, batch=1,
                                                  verify=[model.VerifyRecord(run="x", passed=True, duration=1e-05)])],
                           started_epoch=1.0, created="t", updated="t")
    earlier = hashlib.sha256(pydantic_json(state).encode()).hexdigest()
    assert earlier != model.state_digest(state)
    assert _leads_to(state, earlier) and _leads_to(state, model.state_digest(state))
    assert not _leads_to(state, "0" * 64)


@pytest.fixture
def running(project):
    write_plan(project)
    ok(project, "start", "plan.md")
    ok(project, "task-start", "1")
    return project


@pytest.fixture
def earlier_running(project, monkeypatch):
    """A run recorded as versions before the state's parts recorded it (every task in run.json and its journal)."""
    from clavain.run import engine

    monkeypatch.setattr(engine, "LAYOUT", 1)
    write_plan(project)
    ok(project, "start", "plan.md")
    ok(project, "task-start", "1")
    return project


def test_run_json_is_written_compact_and_taken_as_written_when_the_journal_records_its_digest(running, monkeypatch):
    folder = RunFolder(running, run_dir(running).name)
    text = folder.run_json.read_text()
    assert text.count("\n") == 1 and text.startswith('{"journal_seq":')
    from clavain.plan import schema

    def no_pydantic(*args):
        raise AssertionError("a state that matches its digest is not validated again")

    monkeypatch.setattr(schema, "validate_json", no_pydantic)
    loaded = folder.load()
    assert loaded.tamper is None and loaded.state.tasks[0].status == "running"


def test_a_run_json_an_earlier_version_wrote_is_read_by_pydantic_and_goes_on(earlier_running):
    """Indented, as pydantic wrote it: not the bytes the digest is of, so pydantic reads it; it matches the journal."""
    running = earlier_running
    folder = RunFolder(running, run_dir(running).name)
    data = json.loads(folder.run_json.read_text())
    rf = pydantic_model(model.RunFile)(**data)
    folder.run_json.write_text(rf.model_dump_json(indent=1) + "\n")
    loaded = folder.load()
    assert loaded.tamper is None and loaded.notes == [] and loaded.state.tasks[0].status == "running"
    ok(running, "task-fail", "1", "--reason", "the step needs a decision")   # a step recorded on top of it


@pytest.mark.parametrize("layout", ["parts", "earlier"])
def test_a_hand_edit_with_its_digest_recomputed_is_still_caught(request, layout):
    """The state's own digest rewritten to match the edit: the journal's entry records another one."""
    running = request.getfixturevalue("running" if layout == "parts" else "earlier_running")
    folder = RunFolder(running, run_dir(running).name)
    data = json.loads(folder.run_json.read_text())
    if layout == "parts":
        data["state"]["tasks"]["marks"] = "d" + data["state"]["tasks"]["marks"][1:]
    else:
        data["state"]["tasks"][0]["status"] = "done"
    body = json.dumps(data["state"], separators=(",", ":"), ensure_ascii=False)
    data["state_sha256"] = hashlib.sha256(body.encode()).hexdigest()
    folder.run_json.write_text(json.dumps(data))
    loaded = folder.load()
    assert loaded.tamper is not None and "run.json does not match journal entry" in loaded.tamper.reason


@settings(max_examples=500, deadline=None)
@given(st.floats(min_value=0, max_value=2**34, allow_nan=False, allow_infinity=False))
def test_journal_stamps_are_datetime_s(epoch):
    from datetime import datetime, timezone

    from clavain.run.journal import utc_stamp

    assert utc_stamp(epoch) == datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert math.isfinite(epoch)


def test_values_json_has_no_type_for_are_written_as_pydantic_writes_them():
    """Dates and times YAML reads (UTC as Z), bytes and sets, in a dict field, and keys that are not text."""
    import datetime

    value = {"day": datetime.date(2025, 1, 5), "at": datetime.datetime(2025, 1, 6, 10, tzinfo=datetime.timezone.utc),
             "local": datetime.datetime(2025, 1, 6, 10, 0, 0, 100000), "raw": b"hello", "set": {"x"}, 1: "one"}
    plain = model.RunState(run_id="r", plan="p", plan_sha256="0", batch_size=1, batches=[], groups=[], tasks=[],
                           started_epoch=1.0, created="t", updated="t", must_haves=value)
    validated = pydantic_model(model.RunState)(**plain.model_dump())
    assert plain.model_dump_json() == validated.model_dump_json()
    assert plain.model_dump(mode="json") == validated.model_dump(mode="json")
    assert '"at":"2025-01-06T10:00:00Z"' in plain.model_dump_json()


def test_a_state_read_from_its_dump_dumps_as_read_until_a_field_is_set():
    """Read back, a task dumps as the dict it was read from (no field by field work for thousands of tasks); set a
    field, on it or on a copy, and it dumps what it now holds."""
    task = model.TaskState(id="1", title="t", line=1, batch=1, verify=[model.VerifyRecord(run="x", passed=True)])
    read = model.TaskState.trusted(json.loads(task.model_dump_json()))
    assert read.model_dump() == task.model_dump() and read == task
    copy = read.model_copy()
    copy.status = "running"
    read.title = "changed"
    assert json.loads(copy.model_dump_json())["status"] == "running" and copy.title == "t"
    assert json.loads(read.model_dump_json())["title"] == "changed" and read.status == "pending"
    state = model.RunState.trusted(json.loads(model.RunState(
        run_id="r", plan="p", plan_sha256="0", batch_size=1, batches=[["1"]], groups=[], tasks=[task],
        started_epoch=1.0, created="t", updated="t").model_dump_json()))
    after = model.apply(state, "task_started", {"task": "1", "at": 2.0, "time": "t2"})
    assert after.tasks[0].status == "running" and state.tasks[0].status == "pending"
    assert json.loads(after.model_dump_json())["tasks"][0]["status"] == "running"
    assert json.loads(state.model_dump_json())["tasks"][0]["status"] == "pending"
