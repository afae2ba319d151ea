"""The README's first command runs the main job: examples/demo.sh reaches the checkpoint and the
self-approval is refused, on the embedded store (no bd on PATH)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT


def test_demo_reaches_the_checkpoint_and_cannot_approve_itself(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "CLAVAIN_PYTHON": sys.executable,
           "GIT_CONFIG_GLOBAL": os.devnull}
    project = tmp_path / "demo"
    proc = subprocess.run(["bash", str(ROOT / "examples" / "demo.sh"), str(project)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "gate passed" in proc.stdout
    assert "needs the user's own reply" in proc.stderr and "(exit 1)" in proc.stdout
    assert (project / ".clavain" / "execute-plan" / "clavain.db").is_file()
    (summary,) = (project / ".clavain" / "execute-plan" / "active").glob("*.json")
    state = json.loads(summary.read_text())
    assert state["state"] == "awaiting_approval" and state["batch"] == 1 and state["batches"] == 2
    assert (project / "greet" / "__init__.py").read_text().count("Hello") == 1
