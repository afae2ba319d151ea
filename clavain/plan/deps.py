"""Task ids and dependencies: no duplicate id, no unknown task, no cycle, nothing that needs a later task.

Tasks run in plan order, so a task may only depend on tasks before it. Each dependency arrives as an
``(id, path, line)`` triple naming where it was written, so the error points there.
"""

from __future__ import annotations

from clavain.core.errors import BadInput


def check(tasks: list[dict], plan_path: str) -> None:
    if _earlier_only(tasks):
        return
    _unique(tasks, plan_path)
    index = {task["id"]: position for position, task in enumerate(tasks)}
    for task in tasks:
        for dep, path, line in task["depends"]:
            if dep not in index:
                known = ", ".join(t["id"] for t in tasks[:12]) + (" ..." if len(tasks) > 12 else "")
                raise _error(f"task {task['id']} depends on unknown task {dep!r} (tasks: {known})", path, line,
                             plan_path)
    _acyclic(tasks, index, plan_path)
    for position, task in enumerate(tasks):
        for dep, path, line in task["depends"]:
            if index[dep] >= position:
                raise _error(f"task {task['id']} depends on task {dep}, which comes after it; tasks run in plan "
                             f"order, so move task {dep} before task {task['id']}", path, line, plan_path)


def _earlier_only(tasks: list[dict]) -> bool:
    """Every id once and every dependency on an earlier task: nothing to report, and so no cycle either (one pass
    over the tasks; the checks below find and name what is wrong otherwise, in their order)."""
    seen: set[str] = set()
    for task in tasks:
        for dep, _, _ in task["depends"]:
            if dep not in seen:
                return False
        if task["id"] in seen:
            return False
        seen.add(task["id"])
    return True


def _unique(tasks: list[dict], plan_path: str) -> None:
    first: dict[str, dict] = {}
    for task in tasks:
        if task["id"] in first:
            raise _error(f"duplicate task id {task['id']!r} (first on line {first[task['id']]['line']}); "
                         "give each task its own number", task.get("id_path", plan_path), task["line"], plan_path)
        first[task["id"]] = task


def _acyclic(tasks: list[dict], index: dict[str, int], plan_path: str) -> None:
    """Iterative depth-first search; reports the first cycle found as ``a -> b -> a``."""
    state = [0] * len(tasks)          # 0 new, 1 on the path, 2 finished
    for root in range(len(tasks)):
        if state[root]:
            continue
        path = [root]
        edges = [iter(tasks[root]["depends"])]
        state[root] = 1
        while path:
            step = next(edges[-1], None)
            if step is None:
                state[path.pop()] = 2
                edges.pop()
                continue
            target = index[step[0]]
            if state[target] == 1:
                cycle = [tasks[i]["id"] for i in path[path.index(target):]] + [tasks[target]["id"]]
                raise _error("dependency cycle: " + " -> ".join(cycle), step[1], step[2], plan_path)
            if state[target] == 0:
                state[target] = 1
                path.append(target)
                edges.append(iter(tasks[target]["depends"]))


def _error(message: str, path: str, line: int, plan_path: str) -> BadInput:
    return BadInput(message, path=path, line=line, next_command=f"fix it, then: clavain-cli plan validate {plan_path}")
