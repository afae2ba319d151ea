"""Batching: plan order, at most batch-size, never across a checkpoint, parallel groups of independent neighbours."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clavain.core.errors import BadInput


def plan_of(specs, checkpoints=()):
    """specs: 'id' (sequential) or 'id:P' (parallel), optional '<dep' suffixes and '@file'."""
    from clavain.plan.model import Plan, Task

    tasks = []
    for n, spec in enumerate(specs, 1):
        head, *files = spec.split("@")
        head, *deps = head.split("<")
        task_id, _, mark = head.partition(":")
        tasks.append(Task(id=task_id, title=task_id, line=n, end_line=n, parallel=mark == "P", depends=deps,
                          files=files))
    return Plan(path="p.md", title="t", format="superpowers", sha256="0", tasks=tasks,
                checkpoints_after=list(checkpoints))


TABLE = [
    # tasks, checkpoints, batch size, expected groups per batch
    (["1", "2", "3", "4"], [], 3, [[["1"], ["2"], ["3"]], [["4"]]]),
    (["1", "2", "3", "4"], ["1"], 3, [[["1"]], [["2"], ["3"], ["4"]]]),
    (["1", "2", "3", "4", "5"], ["2", "4"], 10, [[["1"], ["2"]], [["3"], ["4"]], [["5"]]]),
    (["1", "2:P", "3:P", "4:P", "5"], [], 5, [[["1"], ["2", "3", "4"], ["5"]]]),
    (["1:P", "2:P", "3:P", "4:P"], [], 3, [[["1", "2", "3"]], [["4"]]]),
    (["1:P", "2:P<1", "3:P"], [], 3, [[["1"], ["2", "3"]]]),
    (["1:P@a.py", "2:P@a.py", "3:P@b.py"], [], 3, [[["1"], ["2", "3"]]]),
    (["1:P", "2:P", "3:P", "4:P"], ["2"], 3, [[["1", "2"]], [["3", "4"]]]),
    (["1:P", "2", "3:P"], [], 3, [[["1"], ["2"], ["3"]]]),
    (["1", "2", "3"], [], 1, [[["1"]], [["2"]], [["3"]]]),
    (["1"], ["1"], 3, [[["1"]]]),
]


@pytest.mark.parametrize("specs, checkpoints, size, expected", TABLE)
def test_make_batches(specs, checkpoints, size, expected):
    from clavain.plan.batching import make_batches

    batches = make_batches(plan_of(specs, checkpoints), size)
    assert [b.groups for b in batches] == expected
    assert [b.index for b in batches] == list(range(1, len(expected) + 1))
    assert [b.tasks for b in batches] == [[t for g in groups for t in g] for groups in expected]


@pytest.mark.parametrize("size", [0, -1, True, 2.5])
def test_bad_batch_size(size):
    from clavain.plan.batching import make_batches

    with pytest.raises(BadInput, match="batch size"):
        make_batches(plan_of(["1"]), size)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans()), min_size=1, max_size=30),
       st.integers(min_value=1, max_value=6))
def test_batching_invariants(flags, size):
    """For any plan: order kept, every task once, size respected, checkpoints end batches, groups independent."""
    from clavain.plan.batching import make_batches

    specs, checkpoints = [], []
    for n, (parallel, checkpoint, depends_on_previous) in enumerate(flags, 1):
        spec = f"{n}:P" if parallel else str(n)
        if depends_on_previous and n > 1:
            spec += f"<{n - 1}"
        specs.append(spec)
        if checkpoint:
            checkpoints.append(str(n))
    plan = plan_of(specs, checkpoints)
    batches = make_batches(plan, size)
    flat = [t for b in batches for t in b.tasks]
    assert flat == [t.id for t in plan.tasks]
    for batch in batches:
        assert 1 <= len(batch.tasks) <= size
        assert [t for g in batch.groups for t in g] == batch.tasks
        assert not set(batch.tasks[:-1]) & set(checkpoints)
        for group in batch.groups:
            if len(group) > 1:
                members = [plan.task(t) for t in group]
                assert all(m.parallel for m in members)
                assert not any(set(m.depends) & set(group) for m in members)
    ends = [b.tasks[-1] for b in batches]
    assert set(checkpoints) <= set(ends)
