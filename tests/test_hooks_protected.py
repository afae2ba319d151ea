"""Claude Code's session transcripts are protected like the state folder: approvals read them as the user's
own words, so the model may read them but never write them, run or no run. Payloads are shaped as Claude
Code sends them (``transcript_path`` under ``$HOME/.claude/projects/<project slug>/<session>.jsonl``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clavain.guard.places import WITNESS, STATE, TRANSCRIPTS, Places
from test_hooks import decide, make_run, payload

SESSION = "5f0c2a1e-8d7b-4c3a-9e61-0a1b2c3d4e5f"


@pytest.fixture
def claude_home(tmp_path: Path, git_project: Path) -> dict:
    """A HOME whose ``.claude/projects`` holds this session's transcript, as Claude Code lays it out."""
    home = tmp_path / "home"
    folder = home / ".claude" / "projects" / str(git_project).replace("/", "-")
    folder.mkdir(parents=True)
    transcript = folder / f"{SESSION}.jsonl"
    transcript.write_text('{"type":"user","message":{"role":"user","content":"hi"}}\n')
    return {"home": home, "transcript": transcript, "project": git_project, "env": {"HOME": str(home)}}


def call(where: dict, tool: str, **tool_input) -> dict:
    return payload("PreToolUse", where["project"], session_id=SESSION, transcript_path=str(where["transcript"]),
                   tool_name=tool, tool_input=tool_input, tool_use_id="toolu_01")


BASH = [
    # writes, in every spelling of the folder
    ("echo '{{\"type\":\"user\"}}' >> {transcript}", True),
    ("echo x >> ~/.claude/projects/{slug}/{session}.jsonl", True),
    ("echo x >> $HOME/.claude/projects/{slug}/{session}.jsonl", True),
    ('printf "%s\\n" "$LINE" >> "${{HOME}}/.claude/projects/{slug}/{session}.jsonl"', True),
    ("cat /tmp/forged.jsonl | tee -a {transcript}", True),
    ("cp /tmp/forged.jsonl {transcript}", True),
    ("sed -i 's/approve/x/' {transcript}", True),
    ("cd ~/.claude && echo x >> projects/{slug}/{session}.jsonl", True),
    ("cd ~/.claude/projects/{slug} && echo x >> {session}.jsonl", True),
    ("cd ~ && rm -rf .claude/projects", True),
    ("python3 -c \"open('{transcript}', 'a').write('x')\"", True),
    ("python3 -c \"import os; open(os.path.expanduser('~/.claude/projects/x.jsonl'), 'a')\"", True),
    ("python3 - <<'EOF'\nimport os\np = os.path.join(os.environ['HOME'], '.claude', 'projects')\nEOF", True),
    ("echo x >> /other/home/.claude/projects/p/s.jsonl", True),
    ("echo x >> /tmp/{session}.jsonl && mv /tmp/{session}.jsonl {folder}/", True),
    ("echo x >> \"$HOME/.cla\"\"ude/projects/{slug}/{session}.jsonl\"", True),
    # reading stays allowed
    ("cat {transcript}", False),
    ("tail -n 3 ~/.claude/projects/{slug}/{session}.jsonl | jq -r .type", False),
    ("ls -la ~/.claude/projects/", False),
    ("grep -c user {transcript} > /tmp/count.txt", False),
    ("cp {transcript} /tmp/copy.jsonl", False),
    # near misses
    ("echo x > notes/claude-projects.md", False),
]


def _fill(command: str, where: dict) -> str:
    transcript = where["transcript"]
    return command.format(transcript=transcript, slug=transcript.parent.name, session=SESSION,
                          folder=transcript.parent)


@pytest.mark.parametrize("command,blocked", BASH)
def test_bash_cannot_write_the_transcripts_with_or_without_a_run(claude_home, command, blocked):
    command = _fill(command, claude_home)
    for with_run in (False, True):
        if with_run:
            make_run(claude_home["project"])
        r = decide("pre-tool-use", call(claude_home, "Bash", command=command), claude_home["project"],
                   claude_home["env"])
        assert r.returncode == (2 if blocked else 0), (command, with_run, r.stderr)
        if blocked:
            assert r.stderr.startswith("clavain: this command (") and TRANSCRIPTS in r.stderr, r.stderr
            assert r.stderr.rstrip().endswith("next: clavain-cli run status")


def test_claude_config_dir_is_protected_when_set(claude_home, tmp_path):
    config = tmp_path / "cc config"
    env = {**claude_home["env"], "CLAUDE_CONFIG_DIR": str(config)}
    for command, blocked in [(f"echo x >> '{config}/projects/p/s.jsonl'", True),
                             ("echo x >> $CLAUDE_CONFIG_DIR/projects/p/s.jsonl", True),
                             (f"echo x >> '{config}/notes.txt'", False),
                             (f"cat '{config}/projects/p/s.jsonl'", False)]:
        r = decide("pre-tool-use", call(claude_home, "Bash", command=command), claude_home["project"], env)
        assert r.returncode == (2 if blocked else 0), (command, r.stderr)


@pytest.mark.parametrize("tool,key,path,blocked", [
    ("Write", "file_path", "{transcript}", True),
    ("Edit", "file_path", "{transcript}", True),
    ("MultiEdit", "file_path", "{home}/.claude/projects/{slug}/other-session.jsonl", True),
    ("NotebookEdit", "notebook_path", "{home}/.claude/projects/x.ipynb", True),
    ("Write", "file_path", "{project}/link-to-transcript.jsonl", True),  # a symlink into the folder
    ("Write", "file_path", "{home}/.claude/CLAUDE.md", False),
    ("Write", "file_path", "{project}/notes/projects.md", False),
    ("Read", "file_path", "{transcript}", False),
])
def test_edit_tools_cannot_write_the_transcripts(claude_home, tool, key, path, blocked):
    project, transcript = claude_home["project"], claude_home["transcript"]
    (project / "link-to-transcript.jsonl").symlink_to(transcript)
    path = path.format(transcript=transcript, home=claude_home["home"], slug=transcript.parent.name,
                       project=project)
    r = decide("pre-tool-use", call(claude_home, tool, **{key: path, "content": "x"}), project, claude_home["env"])
    assert r.returncode == (2 if blocked else 0), r.stderr
    if blocked:
        assert f"{tool} on {path} is blocked: {TRANSCRIPTS} are written only by Claude Code" in r.stderr


def test_the_payloads_transcript_is_protected_wherever_it_lives(git_project, tmp_path):
    """A transcript outside any .claude folder (a custom layout) is still the one the payload names."""
    transcript = tmp_path / "elsewhere" / f"{SESSION}.jsonl"
    transcript.parent.mkdir()
    transcript.write_text("")
    where = {"project": git_project, "transcript": transcript}
    for tool, tool_input in [("Bash", {"command": f"echo x >> {transcript}"}),
                             ("Write", {"file_path": str(transcript), "content": "x"})]:
        r = decide("pre-tool-use", call(where, tool, **tool_input), git_project, {"HOME": str(tmp_path / "h")})
        assert r.returncode == 2 and TRANSCRIPTS in r.stderr, r.stderr


# ------------------------------------------------------------ the place reader, in process

PLACES = Places(project="/p", cwd="/p", home="/home/u", config_dir="/cfg",
                transcript=f"/home/u/.claude/projects/-p/{SESSION}.jsonl", tmpdir="/var/folders/t")


@pytest.mark.parametrize("word,cd,place", [
    (".clavain/execute-plan/runs/r1/run.json", "", STATE),
    ("of=/p/.clavain/execute-plan/clavain.db", "", STATE),
    ("run.json", ".clavain/execute-plan/runs/r1", STATE),
    (".clavain", "", STATE),                         # removing it takes this plugin's state along
    (".clavain/*", "", STATE),
    (".clavain/learnings/x.md", "", ""),             # Clavain's own files are the project's
    (".clavain/runs/r1/run.json", "", ""),           # where 0.1 kept runs: Clavain's name, not ours any more
    ("/home/u/.local/state/clavain/witness/x.json", "", WITNESS),
    ("$XDG_STATE_HOME/clavain/x", "", WITNESS),      # read as its default, ~/.local/state
    ("run.json", "src", ""),
    (".clavain-notes.txt", "", ""),
    ("~/.claude/projects/-p/x.jsonl", "", TRANSCRIPTS),
    ("$HOME/.claude/projects", "", TRANSCRIPTS),
    ("/home/u/.claude/projects/../projects/x", "", TRANSCRIPTS),
    ("${CLAUDE_CONFIG_DIR}/projects/x", "", TRANSCRIPTS),
    ("/cfg/projects", "", TRANSCRIPTS),
    ("/cfg/settings.json", "", ""),
    (f"{SESSION}.jsonl", "", TRANSCRIPTS),
    ("projects/-p/x.jsonl", "~/.claude", TRANSCRIPTS),
    ("projects/-p/x.jsonl", "/srv", ""),
    ("~/.claude/settings.json", "", ""),
])
def test_which_words_name_a_protected_place(word, cd, place):
    assert PLACES.word(word, cd) == place
    if place:  # the hook's fast path may skip the scan only when the text cannot name a place
        assert PLACES.might_name_protected(f"{'cd ' + cd + ' && ' if cd else ''}echo x > {word}")


@pytest.mark.parametrize("text", ["git status && ls -la src | head", "python3 -m pytest -q", "echo > out.txt"])
def test_the_fast_path_skips_commands_that_name_no_place(text):
    assert not PLACES.might_name_protected(text)


@pytest.mark.parametrize("target,cd,inside", [
    ("out.txt", "", True),
    ("/p/src/a.py", "", True),
    ("/p", "", True),
    ("/pq/a", "", False),
    ("/tmp/x", "", False),
    ("/var/tmp/x", "", False),
    ("$TMPDIR/x", "", False),
    ("/var/folders/t/x", "", False),
    ("/dev/null", "", False),
    ("/dev/stderr", "", False),
    ("~/notes.txt", "", False),
    ("a", "/tmp/work", False),
    ("a", "..", False),
    ("a", "src", True),
    ("$OUT", "", True),
    ("a", "$DIR", True),
    ("", "", True),
])
def test_which_writes_land_in_the_project(target, cd, inside):
    assert PLACES.in_project(target, cd) is inside


def test_without_a_cwd_every_relative_write_counts_as_the_projects():
    assert Places(project="/p").in_project("x") and not Places(project="/p").in_project("/elsewhere/x")
    assert os.sep == "/"  # the hooks read POSIX paths; Claude Code runs them under a POSIX shell
