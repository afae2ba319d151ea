"""Helpers for the gate and store tests: a valid plan, the stand-in `bd` on PATH, the store's rows."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

STANDIN = Path(__file__).resolve().parent / "standin"

PLAN = """# Demo plan

**Bead:** `demo-abc1`

### Task 1: Write the file

Create `out.txt`.

### Task 2: Check it

Run the check.
"""


def write_plan(folder: Path, name: str = "plan.md", text: str = PLAN) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def bd_env(tmp_path: Path, issues: Optional[dict] = None, **behaviour: str) -> tuple[dict, Path]:
    """Environment with the stand-in `bd` first on PATH; ``behaviour`` sets BD_STANDIN_* (shape, fail, sleep)."""
    state = tmp_path / "bd-state.json"
    state.write_text(json.dumps({"issues": issues or {}}))
    env = {"PATH": f"{STANDIN}{os.pathsep}{os.environ.get('PATH', '')}", "BD_STANDIN_STATE": str(state)}
    env.update({f"BD_STANDIN_{key.upper()}": value for key, value in behaviour.items()})
    return env, state


def bd_state(state: Path) -> dict:
    return json.loads(state.read_text())


def set_phase(project: Path, kind: str, subject: str, phase: str) -> None:
    from clavain.gate.store import Store

    with Store.open(project) as store:
        store.record_phase(kind, subject, phase, "test setup", None)


def decisions(project: Path):
    from clavain.gate.store import Store

    with Store.open(project) as store:
        return store.decisions()


def history(project: Path, kind: str, subject: str):
    from clavain.gate.store import Store

    with Store.open(project) as store:
        return store.history(kind, subject)


