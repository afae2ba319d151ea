"""The reader and the cyclic garbage collector (``clavain.plan.reader.collector_paused``): paused while a plan is
read, switched back on as it was, and what the read made is in the oldest generation, so the collector's next
collection does not walk the whole plan once more (the pass that made reading a long plan slower than linear)."""

from __future__ import annotations

import gc

from clavain.plan.reader import parse_plan_text


def plan(tasks: int) -> str:
    return "# Plan\n" + "".join(f"\n### Task {n}: Step {n}\n\n**Files:**\n- Modify: `src/f{n}.py`\n\n"
                                f"- [ ] **Step 1: do {n}**\n" for n in range(1, tasks + 1))


def test_reading_leaves_the_plan_in_the_oldest_generation_and_the_collector_on():
    assert gc.isenabled()
    read = parse_plan_text(plan(200), "plan.md")
    assert gc.isenabled()
    oldest = {id(obj) for obj in gc.get_objects(generation=2)}
    made = [read.tasks[0].__dict__, read.tasks[-1].__dict__, read.tasks[-1].steps, read.warnings]
    assert all(id(obj) in oldest for obj in made)


def test_reading_leaves_a_paused_collector_paused():
    gc.disable()
    try:
        parse_plan_text(plan(3), "plan.md")
        assert not gc.isenabled()
    finally:
        gc.enable()
