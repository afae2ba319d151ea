"""At a checkpoint or a halt, Bash cannot change the project either: commands the scanner sees writing inside
the project are blocked until the user answers. Reads, writes elsewhere and `clavain-cli run ...` pass."""

from __future__ import annotations

import pytest

from test_hooks import NEXT, decide, make_run, tool_call

# command -> whether it changes the project (the cwd is the project)
COMMANDS = [
    ("sed -i 's/a/b/' src/x.py", True),
    ("perl -pi -e 's/a/b/' src/x.py", True),
    ("echo 'print(1)' > src/x.py", True),
    ("printf x >> notes/one.md", True),
    ("cat > notes/three.md <<'EOF'\nthird note\nEOF", True),
    ("echo x | tee notes/three.md", True),
    ("touch notes/three.md", True),
    ("mkdir -p notes && cp /tmp/three.md notes/", True),
    ("mv notes/one.md notes/uno.md", True),
    ("rm -rf build", True),
    ("ls | xargs rm", True),
    ("find . -name '*.orig' -delete", True),
    ("find . -name '*.py' -exec sed -i 's/a/b/' {} +", True),
    ("git commit -qam 'task 3'", True),
    ("git add -A", True),
    ("git checkout -- src/x.py", True),
    ("git stash", True),
    ("git -C sub reset --hard", True),
    ("git tag v1", True),
    ("git push origin main", True),
    ("python3 -c \"open('src/x.py', 'w').write('x')\"", True),
    ("python3 - <<'EOF'\nfrom pathlib import Path\nPath('notes/three.md').write_text('x')\nEOF", True),
    ("node -e \"require('fs').writeFileSync('a.txt', 'x')\"", True),
    ("tar xzf vendor.tgz", True),
    ("curl -sSo vendor.js https://example.com/v.js", True),
    ("dd if=/dev/zero of=disk.img count=1", True),
    ("echo x > $OUT", True),  # where $OUT points cannot be seen: counted as the project's
    ("cd src && echo x > y.py", True),
    ("clavain-cli run status --json > status.json", True),
    # reads, writes outside the project, and the run's own commands
    ("git status && git diff --stat && git log --oneline | head -5", False),
    ("git branch -v && git stash list && git config user.name", False),
    ("cat notes/one.md && ls -la notes", False),
    ("grep -rn TODO src 2>/dev/null | head", False),
    ("python3 -m pytest -q > /tmp/pytest.log 2>&1", False),
    ("python3 -c 'import sys; print(sys.version)'", False),
    ("python3 -c 'd = {}; d.update(a=1); print(len(d) > 0)'", False),
    ("sqlite3 app.db 'select count(*) from users'", False),
    ("sqlite3 app.db 'delete from users'", True),
    ("awk '$3 > 10 {print $1}' data.txt", False),
    ("awk '{print $1 > \"out.txt\"}' data.txt", True),
    ("echo x > /tmp/scratch.txt && cp src/x.py /tmp/", False),
    ("mkdir -p /tmp/work && cd /tmp/work && touch a", False),
    ("echo x > \"$TMPDIR/x\"", False),
    ("diff -u src/x.py /tmp/x.py > /dev/null || true", False),
    ("cp src/x.py /tmp/ 2>/dev/null", False),
    ("python3 - <<'EOF'\nprint(open('notes/one.md').read())\nEOF", False),
    ("clavain-cli run status", False),
    ("clavain-cli run approve --note 'looks good'", False),
    ("clavain-cli run next --json", False),
    ("clavain-cli run abort", False),
    ('"${CLAUDE_PLUGIN_ROOT}/bin/clavain-cli" run retry 2', False),
]


@pytest.mark.parametrize("command,writes", COMMANDS)
@pytest.mark.parametrize("state", ["running", "awaiting_approval", "halted"])
def test_bash_writes_wait_for_the_user(git_project, command, writes, state):
    make_run(git_project, state=state)
    r = decide("pre-tool-use", tool_call(git_project, "Bash", command=command), git_project)
    blocked = writes and state != "running"
    assert r.returncode == (2 if blocked else 0), (command, r.stderr)
    if blocked:
        assert r.stderr.startswith("clavain: `") and "` is blocked: run r1 is" in r.stderr, r.stderr
        assert ("halt report" if state == "halted" else "batch report") in r.stderr
        assert f"next: {NEXT[state]} (only after the user's word)" in r.stderr
    else:
        assert r.stderr == ""


def test_no_run_means_no_checkpoint(git_project):
    r = decide("pre-tool-use", tool_call(git_project, "Bash", command="git commit -qam x && rm -rf build"),
               git_project)
    assert (r.returncode, r.stderr) == (0, "")


@pytest.mark.parametrize("cwd_is_project", [True, False])
def test_writes_are_read_from_the_sessions_cwd(git_project, tmp_path, cwd_is_project):
    """Claude Code runs Bash in the session's cwd: a relative write from outside the project is not the
    project's, while an absolute path into the project is."""
    make_run(git_project, state="awaiting_approval")
    away = tmp_path / "scratch"
    away.mkdir()
    cwd = git_project if cwd_is_project else away
    env = {"CLAUDE_PROJECT_DIR": str(git_project)}
    relative = decide("pre-tool-use", tool_call(cwd, "Bash", command="echo x > out.txt"), cwd, env)
    absolute = decide("pre-tool-use", tool_call(cwd, "Bash", command=f"echo x > {git_project}/out.txt"), cwd, env)
    assert relative.returncode == (2 if cwd_is_project else 0), relative.stderr
    assert absolute.returncode == 2, absolute.stderr
