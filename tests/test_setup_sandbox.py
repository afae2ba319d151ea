"""`clavain-cli setup sandbox`: the merge into .claude/settings.local.json, its refusals, and its text.

The command runs in this process with its own environment (a home folder under tmp_path, a PATH holding
this machine's real bwrap and socat)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import check_golden, run_cli

REAL = {name: shutil.which(name) for name in ("bwrap", "socat", "true")}
pytestmark = pytest.mark.skipif(not all(REAL.values()), reason="needs bubblewrap and socat (.ci/run installs them)")

ASK = ["Edit(/.clavain/execute-plan/runs/**)", "Edit(/.clavain/execute-plan/active/**)",
       "Edit(/.clavain/execute-plan/clavain.db)", "Edit(/.clavain/execute-plan/clavain.db-wal)",
       "Edit(/.clavain/execute-plan/clavain.db-shm)", "Edit(/.clavain/execute-plan/clavain.db-journal)",
       "Edit(/.clavain/execute-plan/start.lock)"]
SANDBOX = {"enabled": True, "failIfUnavailable": True, "allowUnsandboxedCommands": False}
FRESH = {"sandbox": SANDBOX, "permissions": {"ask": ASK}}
LEAKS = ("CLAUDECODE", "SANDBOX_RUNTIME", "CLAUDE_PROJECT_DIR", "CLAUDE_CONFIG_DIR", "CLAUDE_PLUGIN_ROOT",
         "CLAUDE_PLUGIN_DATA", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "npm_config_cache",
         "YARN_CACHE_FOLDER", "BUN_INSTALL_CACHE_DIR", "CARGO_HOME", "GOCACHE", "GOMODCACHE", "GOPATH",
         "PIP_CACHE_DIR", "UV_CACHE_DIR", "POETRY_CACHE_DIR", "GRADLE_USER_HOME", "COMPOSER_CACHE_DIR")


class Setup:
    def __init__(self, tmp: Path) -> None:
        self.tmp, self.home, self.project = tmp, tmp / "home", tmp / "project"
        self.home.mkdir()
        self.project.mkdir()
        (self.project / ".git").mkdir()
        self.settings = self.project / ".claude" / "settings.local.json"
        # the test's own environment must not leak in (a test run inside Claude Code, a moved cache)
        self.env = {**{name: "" for name in LEAKS}, "HOME": str(self.home),
                    "PATH": str(self.tools("bwrap", "socat", "true"))}

    def tools(self, *names: str) -> Path:
        folder = self.tmp / ("bin-" + "-".join(names))
        folder.mkdir(exist_ok=True)
        for name in names:
            (folder / name).symlink_to(REAL[name])
        return folder

    def run(self, *argv: str, **env: str):
        return run_cli(["setup", "sandbox", *argv], cwd=self.project, env={**self.env, **env})

    def write(self, text: str) -> None:
        self.settings.parent.mkdir(exist_ok=True)
        self.settings.write_text(text)

    def read(self) -> dict:
        return json.loads(self.settings.read_text())

    def normalise(self, text: str) -> str:
        return text.replace(str(self.project), "PROJECT").replace(str(self.home), "HOME")


@pytest.fixture
def setup(tmp_path) -> Setup:
    return Setup(tmp_path)


MERGE_CASES = [
    # (id, the file before (None: no file), arguments, the settings after)
    ("no file", None, [], FRESH),
    ("empty file", "", [], FRESH),
    ("blank file", "\n  \n", [], FRESH),
    ("empty object", "{}", [], FRESH),
    ("the user's keys stay, in their order",
     '{"model": "opus", "sandbox": {"network": {"allowedDomains": ["example.org"]}},\n'
     ' "permissions": {"allow": ["Bash(ls)"], "deny": ["Read(./.env)"]}, "hooks": {"Stop": []}}', [],
     {"model": "opus", "sandbox": {"network": {"allowedDomains": ["example.org"]}, **SANDBOX},
      "permissions": {"allow": ["Bash(ls)"], "deny": ["Read(./.env)"], "ask": ASK}, "hooks": {"Stop": []}}),
    ("lists gain only what they lack",
     json.dumps({"permissions": {"ask": [ASK[1], "Bash(rm:*)", ASK[0]]},
                 "sandbox": {"filesystem": {"allowWrite": ["~/.npm", "/data"]}}}), ["--caches"],
     {"permissions": {"ask": [ASK[1], "Bash(rm:*)", ASK[0], *ASK[2:]]},
      "sandbox": {"filesystem": {"allowWrite": ["~/.npm", "/data"]}, **SANDBOX}}),
    ("the user's sandbox switches are overruled",
     json.dumps({"sandbox": {"allowUnsandboxedCommands": True, "enabled": False, "autoAllowBashIfSandboxed": False}}),
     [], {"sandbox": {"allowUnsandboxedCommands": False, "enabled": True, "autoAllowBashIfSandboxed": False,
                      "failIfUnavailable": True}, "permissions": {"ask": ASK}}),
    ("caches and registries of package.json", None, ["--caches", "--registries"],
     {"sandbox": {**SANDBOX, "filesystem": {"allowWrite": ["~/.npm"]},
                  "network": {"allowedDomains": ["registry.npmjs.org"]}}, "permissions": {"ask": ASK}}),
]


@pytest.mark.parametrize("before, argv, after", [c[1:] for c in MERGE_CASES], ids=[c[0] for c in MERGE_CASES])
def test_merge_into_the_local_settings(setup, before, argv, after):
    (setup.project / "package.json").write_text("{}")
    if before is not None:
        setup.write(before)
    result = setup.run(*argv)
    assert result.code == 0, result.err
    assert setup.read() == after
    assert list(setup.read()) == list(after)                       # key order, top level ...
    assert list(setup.read()["sandbox"]) == list(after["sandbox"])  # ... and inside
    assert setup.settings.read_text().endswith("}\n")
    # a second run changes nothing: same bytes, same file
    before_second = setup.settings.stat()
    again = setup.run(*argv)
    assert again.code == 0 and "already holds these settings; nothing was written" in again.out, again.out
    assert setup.settings.stat().st_mtime_ns == before_second.st_mtime_ns
    assert setup.settings.stat().st_ino == before_second.st_ino


def test_the_changes_are_listed_old_value_first(setup):
    setup.write('{"sandbox": {"enabled": false}}')
    out = setup.run().out
    assert "  sandbox.enabled = false -> true\n  sandbox.failIfUnavailable = true\n" in out
    assert '  permissions.ask += "Edit(/.clavain/execute-plan/runs/**)"' in out


BAD_CASES = [
    # (id, the file, the location named, words of the message)
    ("invalid JSON", '{\n  "model": "opus",\n  "sandbox": {"enabled": true,}\n}\n', ":3: not valid JSON",
     "Expecting property name enclosed in double quotes"),
    ("a list, not an object", '[\n  "sandbox"\n]\n', ":1: holds a JSON list, not an object", "nothing was written"),
    ("sandbox is not an object", '{\n  "model": "opus",\n  "sandbox": true\n}\n', ":3: sandbox is true",
     "Claude Code expects an object"),
    ("ask is not a list", '{"permissions": {\n  "ask": "Edit(x)"\n}}', ':2: permissions.ask is "Edit(x)"',
     "expects a list"),
    ("allowWrite is not a list", '{"sandbox": {"filesystem": {"allowWrite": "~"}}}',
     ':1: sandbox.filesystem.allowWrite is "~"', "expects a list"),
]


@pytest.mark.parametrize("text, where, words", [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES])
def test_a_file_that_cannot_be_merged_is_named_with_its_line_and_left_alone(setup, text, where, words):
    (setup.project / "package.json").write_text("{}")
    setup.write(text)
    result = setup.run("--caches")
    assert result.code == 2, result.out + result.err
    first, second = result.err.splitlines()
    assert first.startswith(f"{setup.settings}{where}") and words in first, result.err
    assert second.startswith("next: fix ") and second.endswith(", then clavain-cli setup sandbox"), result.err
    assert "Traceback" not in result.err and result.out == ""
    assert setup.settings.read_text() == text
    assert sorted(p.name for p in setup.settings.parent.iterdir()) == ["settings.local.json"]
    assert not (setup.home / ".npm").exists()                    # nothing created either


def test_a_file_that_is_not_text_is_named_and_left_alone(setup):
    setup.settings.parent.mkdir()
    setup.settings.write_bytes(b'{"model": "\xff"}')
    result = setup.run()
    assert result.code == 2 and result.err.startswith(f"{setup.settings}: cannot read it: ") and "Traceback" not in result.err
    assert result.err.splitlines()[-1] == f"next: fix or move {setup.settings} aside, then clavain-cli setup sandbox"
    assert setup.settings.read_bytes() == b'{"model": "\xff"}'


@pytest.mark.parametrize("tools, words", [
    (("socat", "true"), "bubblewrap (bwrap) is not installed"),
    (("bwrap", "true"), "socat is not installed"),
])
def test_without_the_sandbox_tools_nothing_is_written_and_the_package_is_named(setup, tools, words):
    result = setup.run(PATH=str(setup.tools(*tools)))
    assert result.code == 3, result.out + result.err
    assert words in result.err and "nothing was written (the next session would refuse to start)" in result.err
    assert "install" in result.err.splitlines()[-1] and result.err.splitlines()[-1].startswith("next: ")
    assert not setup.settings.parent.exists()


@pytest.mark.parametrize("value, what", [
    ("~", "Claude Code's folder"),
    ("~/.claude/projects", "Claude Code's folder"),
    ("~/.local/state", "clavain's own records"),
    ("/", "Claude Code's folder"),
])
def test_allow_write_refuses_what_must_stay_closed(setup, value, what):
    result = setup.run("--allow-write", value)
    assert result.code == 2 and f"would let sandboxed commands write {what}" in result.err
    assert result.err.splitlines()[0].endswith("; nothing was written") and not setup.settings.exists()


def test_allow_write_of_the_plugin_folder_is_refused(setup, tmp_path):
    plugin = tmp_path / "plugin"
    result = setup.run("--allow-write", str(plugin / "hooks"), CLAUDE_PLUGIN_ROOT=str(plugin))
    assert result.code == 2 and "this plugin's folder" in result.err


def test_caches_and_allow_write_create_their_folders(setup, tmp_path):
    (setup.project / "Cargo.toml").write_text("[package]\n")
    extra = tmp_path / "outside" / "data"
    result = setup.run("--caches", "--allow-write", str(extra))
    assert result.code == 0, result.err
    assert setup.read()["sandbox"]["filesystem"]["allowWrite"] == ["~/.cargo", str(extra)]
    assert (setup.home / ".cargo").is_dir() and extra.is_dir()
    assert "  created ~/.cargo (the sandbox opens only a folder that exists)" in result.out


def test_a_cache_inside_a_protected_folder_is_not_offered(setup):
    (setup.project / "go.mod").write_text("module x\n")
    result = setup.run("--caches", GOCACHE=str(setup.home / ".claude" / "go-build"))
    assert result.code == 0, result.err
    assert setup.read()["sandbox"]["filesystem"]["allowWrite"] == ["~/go/pkg/mod"]
    assert "Not offered: ~/.claude/go-build would let sandboxed commands write Claude Code's folder" in result.out


def test_dry_run_writes_nothing(setup):
    (setup.project / "package.json").write_text("{}")
    result = setup.run("--dry-run", "--caches")
    assert result.code == 0 and "would write .claude/settings.local.json (--dry-run" in result.out
    assert "would create ~/.npm" in result.out
    assert not setup.settings.parent.exists() and not (setup.home / ".npm").exists()


def test_an_allow_write_entry_of_the_user_that_opens_too_much_is_warned_about(setup):
    setup.write('{"sandbox": {"filesystem": {"allowWrite": ["~"]}}}')
    result = setup.run()
    assert result.code == 0
    assert "warning: sandbox.filesystem.allowWrite '~' lets sandboxed commands write Claude Code's folder" in result.out
    assert "For a new session: protection: hooks only, best effort (sandbox.filesystem.allowWrite '~'" in result.out


@pytest.mark.parametrize("rule, warned", [
    ("Edit(./.clavain/**)", True),
    ("Edit(/.clavain/execute-plan/runs/**)", True),
    ("Edit(.clavain)", True),
    ("Edit(//PROJECT/.clavain/execute-plan/active)", True),
    ("Edit(/.clavain/config.yaml)", False),
    ("Edit(*.env)", False),
    ("Read(./.clavain/**)", False),
    ("Edit(/src/**)", False),
])
def test_a_deny_rule_on_what_clavain_cli_writes_is_warned_about(setup, rule, warned):
    """Claude Code turns Edit deny rules into sandbox write denials: clavain-cli in the sandbox could not
    record a run."""
    rule = rule.replace("/PROJECT", str(setup.project))
    setup.write(json.dumps({"permissions": {"deny": [rule]}}))
    result = setup.run()
    assert result.code == 0
    assert (f"warning: permissions.deny {rule!r} also makes it read-only to sandboxed commands" in result.out) == warned
    assert setup.read()["permissions"]["deny"] == [rule]


def test_setup_text(setup):
    """What the user reads: the changes, that a new session is needed, what changes for ordinary work, the
    tools found and the flags that open their caches and registries, and the level a new session gets."""
    (setup.project / "package.json").write_text("{}")
    (setup.project / "api").mkdir()
    (setup.project / "api" / "requirements-dev.txt").write_text("pytest\n")
    result = setup.run()
    assert result.code == 0, result.err
    check_golden("setup", "sandbox.txt", setup.normalise(result.out))
    again = setup.run("--caches", "--registries")
    check_golden("setup", "sandbox-caches.txt", setup.normalise(again.out))


def test_setup_without_a_verb_names_it(setup):
    result = run_cli(["setup"], cwd=setup.project, env=setup.env)
    assert result.code == 2 and result.err == "clavain-cli setup: name a verb: sandbox\nnext: clavain-cli setup sandbox\n"
