"""What a program writes (``clavain.guard.bashwrites``), as the PreToolUse hook decides it: a Bash line that
writes into this plugin's state folder is blocked, run or no run; the same program reading it passes. Each row
is one program's way of naming where it writes: an operand, the last operand, ``-t DIR``, ``-o FILE`` (joined,
bundled, ``--output=FILE``), ``-C DIR``, ``of=``, ``-exec``, git's subcommands and options; and a command run
after ``cd`` into the folder writes there. Conservative by design: a program that may write counts as soon as
an argument names the folder, and inside it every argument does."""

from __future__ import annotations

import json

import pytest

from clavain.guard.hooks import answer

STATE = ".clavain/execute-plan"

# (command line, whether it writes the state folder)
LINES = [
    # a program that changes what it is given
    (f"touch {STATE}/x", True),
    (f"ls {STATE}", False),
    (f"cd {STATE} && touch x", True),
    (f"cd {STATE} && ls -la", False),
    (f"cd {STATE} && tee out < /dev/null", True),
    (f"cd {STATE} && mktemp", False),
    (f"cd {STATE} && mktemp sub/x.XXXX", True),
    (f"cd {STATE} && sed -i s/a/b/ run.json", True),
    (f"cd {STATE} && sed s/a/b/ run.json", False),
    (f"sed -i s/a/b/ {STATE}/runs/r/run.json", True),
    (f"perl -pi -e s/a/b/ {STATE}/runs/r/run.json", True),
    # the destination only
    (f"cp notes.md {STATE}/x", True),
    (f"cp {STATE}/runs/r/run.json /tmp/copy.json", False),
    (f"cp -t {STATE} notes.md", True),
    (f"cp --target-directory={STATE} notes.md", True),
    (f"cd {STATE} && cp /tmp/a --target-directory=.", True),
    (f"rsync -a backup/ {STATE}/", True),
    (f"dd if=/dev/zero of={STATE}/runs/r/journal.jsonl", True),
    (f"dd if={STATE}/runs/r/journal.jsonl of=/tmp/j", False),
    (f"cd {STATE} && dd if=/dev/zero of=x count=1", True),
    (f"cd {STATE} && dd if=journal.jsonl", False),
    # find
    (f"find {STATE} -name '*.tmp' -delete", True),
    (f"find {STATE} -name '*.json'", False),
    (f"cd {STATE} && find . -name x -exec rm {{}} ';'", True),
    (f"cd {STATE} && find . -name x -exec cat {{}} ';'", True),   # -exec may run anything there
    (f"cd {STATE} && find . -fprint list.txt", True),
    # downloads
    (f"cd {STATE} && curl -o out https://example.com/x", True),
    (f"cd {STATE} && curl -sSo out https://example.com/x", True),
    (f"cd {STATE} && curl --output=out https://example.com/x", True),
    (f"cd {STATE} && curl --output out https://example.com/x", True),
    (f"cd {STATE} && curl -O https://example.com/x", True),
    (f"curl -o /dev/null https://example.com/x", False),
    (f"curl -s https://example.com/x", False),
    (f"curl -o {STATE}/x https://example.com/x", True),
    (f"cd {STATE} && curl -s https://example.com/x", True),   # inside the folder, every argument names it
    (f"cd {STATE} && wget https://example.com/x", True),
    (f"cd {STATE} && wget -O x https://example.com/x", True),
    (f"wget -O - https://example.com/x", False),
    (f"cd {STATE} && wget -P sub https://example.com/x", True),
    (f"wget --spider https://example.com/x", False),
    (f"wget -P {STATE} https://example.com/x", True),
    # archives
    (f"cd {STATE} && tar xf /tmp/a.tar", True),
    (f"cd {STATE} && tar -xzf /tmp/a.tgz", True),
    (f"cd {STATE} && tar --extract -f /tmp/a.tar", True),
    (f"tar -tf /tmp/a.tar", False),
    (f"cd {STATE} && tar -tf /tmp/a.tar", True),   # a program that may write, run inside the folder
    (f"tar -C {STATE} -xf /tmp/a.tar", True),
    (f"cd {STATE} && unzip /tmp/a.zip", True),
    (f"unzip -l /tmp/a.zip", False),
    (f"unzip -d {STATE} /tmp/a.zip", True),
    # git: the subcommands that change files, history or settings; those that only read
    (f"git -C {STATE} checkout -- .", True),
    (f"cd {STATE} && git -c user.name=x commit -qm y", True),
    (f"cd {STATE} && git --git-dir=../.git log", False),
    (f"cd {STATE} && git status", False),
    (f"cd {STATE} && git stash", True),
    (f"cd {STATE} && git stash list", True),   # stash may change the work tree: the subcommand is enough
    (f"cd {STATE} && git worktree list", False),
    (f"cd {STATE} && git worktree add ../x", True),
    (f"cd {STATE} && git branch --list", False),
    (f"cd {STATE} && git branch", False),
    (f"cd {STATE} && git branch topic", True),
    (f"cd {STATE} && git branch -D topic", True),
    (f"cd {STATE} && git tag -l", False),
    (f"cd {STATE} && git tag v1", True),
    (f"cd {STATE} && git config --get user.name", False),
    (f"cd {STATE} && git config user.name x", True),
    (f"cd {STATE} && git config --unset user.name", True),
    (f"cd {STATE} && git remote -v", False),
    (f"cd {STATE} && git remote add origin x", True),
    (f"cd {STATE} && git frobnicate", False),
    # interpreters: program text that writes
    (f"cd {STATE} && python3 -c 'open(\"x\", \"w\").write(\"y\")'", True),
    (f"cd {STATE} && python3 -c 'print(1)'", True),   # any program run inside the folder may write it
    (f"python3 -c 'print(1)' {STATE}/runs/r/run.json", True),
    (f"awk '{{print > \"{STATE}/x\"}}' notes.md", True),
]


@pytest.mark.parametrize("line, writes", LINES, ids=[line for line, _ in LINES])
def test_a_line_that_writes_the_state_folder_is_blocked_and_one_that_reads_it_passes(project, line, writes):
    (project / ".clavain" / "execute-plan").mkdir(parents=True)
    payload = {"session_id": "s", "cwd": str(project), "hook_event_name": "PreToolUse", "tool_name": "Bash",
               "tool_input": {"command": line}, "tool_use_id": "toolu_1"}
    code, out, err = answer("pre-tool-use", json.dumps(payload), {"HOME": str(project.parent)}, str(project))
    if writes:
        assert code == 2 and ".clavain/execute-plan/" in err and err.rstrip().endswith("next: clavain-cli run status")
    else:
        assert (code, err) == (0, ""), err
