"""A halt whose output shows the sandbox at work names the sandbox as the likely cause, and how to allow
what failed. The failure texts are those measured under Claude Code's sandbox."""

from __future__ import annotations

import pytest

from conftest import check_golden
from clavain.run.folder import RunFolder
from clavain.run.report import write_halt_report
from clavain.run.sandboxhint import sandbox_hint
from test_run_support import cli, normalise, ok, run_dir, write_plan

RO, REFUSED, PROXY = "`Read-only file system`", "A refused connection", "The sandbox's proxy refused a domain"

CASES = [
    # (id, output, ran under the sandbox, the hints' openings, words that must be in them)
    ("touch into the home folder", "touch: cannot touch '/home/u/.npm/x': Read-only file system", True, [RO],
     "(`/home/u/.npm/x`)"),
    ("the same, not sandboxed", "touch: cannot touch '/home/u/.npm/x': Read-only file system", False, [], ""),
    ("python", "OSError: [Errno 30] Read-only file system: '/tmp/out.txt'", True, [RO], "(`/tmp/out.txt`)"),
    ("mkdir, two paths, each once", "mkdir: cannot create directory '/h/.cache/pip': Read-only file system\n"
     "mkdir: cannot create directory '/h/.cache/pip': Read-only file system\n"
     "error: '/h/.npm': Read-only file system", True, [RO], "(`/h/.cache/pip`, `/h/.npm`)"),
    ("no path in the line", "write failed: Read-only file system", True, [RO], "a write outside them fails"),
    ("python socket", "ConnectionRefusedError: [Errno 111] Connection refused", True, [REFUSED], "127.0.0.1"),
    ("psql", 'psql: error: connection to server at "127.0.0.1", port 5432 failed: connection refused', True,
     [REFUSED], "local database"),
    ("curl", "curl: (7) Failed to connect to 127.0.0.1 port 8000 after 0 ms: Couldn't connect to server", True,
     [REFUSED], "dev server"),
    ("node", "Error: connect ECONNREFUSED 127.0.0.1:5432", True, [REFUSED], "hooks only"),
    ("git through the proxy", "fatal: unable to access 'https://github.com/x/y/': CONNECT tunnel failed, response 403",
     True, [PROXY], "--registries"),
    ("pip through the proxy", "ProxyError('Cannot connect to proxy.', OSError('Tunnel connection failed: 403 "
     "Forbidden'))", True, [PROXY], "sandbox.network.allowedDomains"),
    ("two effects at once", "Read-only file system\nConnection refused", True, [RO, REFUSED], ""),
    ("an ordinary failure", "AssertionError: expected 3, got 2", True, [], ""),
]


@pytest.mark.parametrize("output, sandboxed, openings, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_sandbox_hint(output, sandboxed, openings, words):
    hints = sandbox_hint(output, sandboxed)
    assert [h[: len(o)] for h, o in zip(hints, openings)] == openings and len(hints) == len(openings), hints
    assert words in " ".join(hints)


PLAN = """\
# Cache Plan

### Task 1: Install the dependencies

- [ ] **Step 1: npm ci**

<verify>
- run: `echo "npm ERR! code EROFS" && echo "touch: cannot touch '/home/user/.npm/_cacache': Read-only file system" >&2 && exit 1`
  expect: exit 0
</verify>

### Task 2: Build

- [ ] **Step 1: npm run build**
"""


def test_the_halt_report_names_the_sandbox_when_the_failure_ran_under_it(project):
    write_plan(project, PLAN)
    ok(project, "start", "plan.md")
    ok(project, "task-start", "1")
    assert cli(project, "verify", "1").code == 1
    report = run_dir(project) / "batches" / "halt-1.md"
    assert "Read-only file system" in report.read_text() and "Likely cause" not in report.read_text()
    folder = RunFolder(project, run_dir(project).name)
    write_halt_report(folder, folder.load().state, sandboxed=True)
    check_golden("run", "halt-sandbox.md", normalise(report.read_text(), project))
