"""The protection level: the sandbox settings a session would apply (user, project, local, managed, in
Claude Code's order), what the caller's environment says about the session, and a real bwrap start.

Every case runs the real bwrap and socat of this machine, reached through a folder of links that holds only
the tools the case gives the machine."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from clavain.core.sandbox import HOOKS_ONLY, SANDBOXED, Protection, install_command, protection_level

REAL = {name: shutil.which(name) for name in ("bwrap", "socat", "true")}
pytestmark = pytest.mark.skipif(not all(REAL.values()), reason="needs bubblewrap and socat (.ci/run installs them)")

FULL = {"sandbox": {"enabled": True, "allowUnsandboxedCommands": False}}
OFF = {"sandbox": {"enabled": False}}
INVALID = '{"sandbox": {"enabled": true,}'


class Machine:
    """A home folder, a project, a managed-settings folder and a PATH of chosen tools, all under tmp_path."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.home, self.project, self.managed = tmp / "home", tmp / "project", tmp / "managed"
        for folder in (self.home, self.project, self.managed):
            folder.mkdir()
        self.os_release = tmp / "os-release"
        self.os_release.write_text('NAME="Debian GNU/Linux"\nID=debian\n')
        self.env = {"HOME": str(self.home), "PATH": str(self.tools("bwrap", "socat", "true"))}

    def tools(self, *names: str) -> Path:
        folder = self.tmp / ("bin-" + "-".join(names))
        folder.mkdir(exist_ok=True)
        for name in names:
            if not (folder / name).exists():
                (folder / name).symlink_to(REAL[name])
        return folder

    def path_of(self, scope: str) -> Path:
        return {"user": self.home / ".claude" / "settings.json",
                "config": self.tmp / "config" / "settings.json",
                "project": self.project / ".claude" / "settings.json",
                "local": self.project / ".claude" / "settings.local.json",
                "managed": self.managed / "managed-settings.json",
                "managed.d": self.managed / "managed-settings.d" / "50-sandbox.json"}[scope]

    def write(self, files: dict) -> None:
        for scope, content in files.items():
            path = self.path_of(scope)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content if isinstance(content, str) else json.dumps(content))

    def level(self, **kw) -> Protection:
        return protection_level(self.project, self.env, system=kw.pop("system", "linux"), managed_dir=self.managed,
                                plugin=self.tmp / "plugin", os_release=self.os_release, **kw)


@pytest.fixture
def machine(tmp_path) -> Machine:
    return Machine(tmp_path)


SETTINGS_CASES = [
    # (id, files by scope, extra env, level, words in the reason)
    ("no settings", {}, {}, HOOKS_ONLY, "sandbox is off for this project"),
    ("user", {"user": FULL}, {}, SANDBOXED, "bwrap works"),
    ("CLAUDE_CONFIG_DIR", {"config": FULL}, {"CLAUDE_CONFIG_DIR": "config"}, SANDBOXED, "bwrap works"),
    ("~/.claude unread when CLAUDE_CONFIG_DIR is set", {"user": FULL}, {"CLAUDE_CONFIG_DIR": "config"},
     HOOKS_ONLY, "off for this project"),
    ("project", {"project": FULL}, {}, SANDBOXED, "bwrap works"),
    ("local", {"local": FULL}, {}, SANDBOXED, "bwrap works"),
    ("local off over user on", {"user": FULL, "local": OFF}, {}, HOOKS_ONLY,
     "sandbox.enabled is false in .claude/settings.local.json"),
    ("project off over user on", {"user": FULL, "project": OFF}, {}, HOOKS_ONLY,
     "sandbox.enabled is false in .claude/settings.json"),
    ("local on over project off", {"project": OFF, "local": FULL}, {}, SANDBOXED, "bwrap works"),
    ("managed off over local on", {"local": FULL, "managed": OFF}, {}, HOOKS_ONLY, "managed-settings.json"),
    ("managed.d after managed", {"managed": OFF, "managed.d": FULL}, {}, SANDBOXED, "bwrap works"),
    ("keys merge across files", {"user": {"sandbox": {"enabled": True}},
                                 "local": {"sandbox": {"allowUnsandboxedCommands": False}}}, {}, SANDBOXED, "bwrap"),
    ("invalid JSON is ignored, as Claude Code does", {"user": FULL, "local": INVALID}, {}, SANDBOXED, "bwrap works"),
    ("invalid JSON alone", {"local": INVALID}, {}, HOOKS_ONLY, "off for this project"),
    ("a wrongly typed value voids the file", {"local": {"sandbox": {"enabled": "true",
                                                                    "allowUnsandboxedCommands": False}}},
     {}, HOOKS_ONLY, "off for this project"),
    ("the model may leave the sandbox", {"local": {"sandbox": {"enabled": True}}}, {}, HOOKS_ONLY,
     "allowUnsandboxedCommands is not false"),
    ("excludedCommands escape", {"local": FULL, "user": {"sandbox": {"excludedCommands": ["docker:*"]}}}, {},
     HOOKS_ONLY, "sandbox.excludedCommands ('docker:*' in ~/.claude/settings.json)"),
    ("allowWrite opens the home folder", {"local": {"sandbox": {**FULL["sandbox"], "filesystem": {"allowWrite": ["~"]}}}},
     {}, HOOKS_ONLY, "lets sandboxed commands write Claude Code's folder"),
    ("allowWrite opens clavain's records", {"local": {"sandbox": {**FULL["sandbox"],
                                                                  "filesystem": {"allowWrite": ["~/.local/state/**"]}}}},
     {}, HOOKS_ONLY, "clavain's own records"),
    ("allowWrite opens the plugin", {"local": {"sandbox": {**FULL["sandbox"],
                                                           "filesystem": {"allowWrite": ["//PLUGIN"]}}}},
     {}, HOOKS_ONLY, "this plugin's folder"),
    ("allowWrite of a cache is fine", {"local": {"sandbox": {**FULL["sandbox"],
                                                             "filesystem": {"allowWrite": ["~/.npm", "./build"]}}}},
     {}, SANDBOXED, "bwrap works"),
    # the caller's environment: inside Claude Code's Bash tool the session itself answers
    ("inside the sandbox", {"local": FULL}, {"CLAUDECODE": "1", "SANDBOX_RUNTIME": "1"}, SANDBOXED,
     "runs inside Claude Code's Bash sandbox"),
    ("a session started before setup", {"local": FULL}, {"CLAUDECODE": "1"}, HOOKS_ONLY,
     "settings are read when a session starts"),
    ("a hook of that session", {"local": FULL}, {"CLAUDECODE": "1", "CLAUDE_PROJECT_DIR": "project"}, SANDBOXED,
     "bwrap works"),
    ("inside the sandbox, but the settings now say off", {"local": OFF}, {"CLAUDECODE": "1", "SANDBOX_RUNTIME": "1"},
     HOOKS_ONLY, "sandbox.enabled is false"),
]


@pytest.mark.parametrize("files, extra, level, words", [c[1:] for c in SETTINGS_CASES],
                         ids=[c[0] for c in SETTINGS_CASES])
def test_level_follows_the_settings_a_session_would_apply(machine, files, extra, level, words):
    plugin = str(machine.tmp / "plugin")
    machine.write({scope: json.loads(json.dumps(content).replace("PLUGIN", plugin.lstrip("/")))
                   if not isinstance(content, str) else content for scope, content in files.items()})
    machine.env.update({k: str(machine.tmp / v) if k in ("CLAUDE_CONFIG_DIR", "CLAUDE_PROJECT_DIR") else v
                        for k, v in extra.items()})
    got = machine.level()
    assert (got.level, words in got.reason) == (level, True), got
    assert bool(got.upgrade) == (level == HOOKS_ONLY), got


MACHINE_CASES = [
    # (id, tools on PATH, os-release, extra sandbox settings, words in the reason, words in the upgrade)
    ("bwrap missing", ("socat", "true"), "ID=ubuntu\nID_LIKE=debian\n", {},
     "bubblewrap (bwrap) is not installed", "sudo apt-get install bubblewrap"),
    ("socat missing", ("bwrap", "true"), "ID=fedora\n", {}, "socat is not installed", "sudo dnf install socat"),
    ("both missing, unknown distribution", ("true",), "ID=plan9\n", {},
     "bubblewrap (bwrap) and socat are not installed", "Debian: sudo apt-get install bubblewrap socat; Fedora: sudo dnf"),
    ("bwrapPath names a missing file", ("bwrap", "socat", "true"), "ID=arch\n", {"bwrapPath": "/nonexistent/bwrap"},
     "bubblewrap (bwrap) is not installed", "sudo pacman -S bubblewrap"),
]


@pytest.mark.parametrize("tools, release, extra, reason, upgrade", [c[1:] for c in MACHINE_CASES],
                         ids=[c[0] for c in MACHINE_CASES])
def test_a_machine_without_the_sandbox_tools_gets_hooks_only_and_the_package_to_install(
        machine, tools, release, extra, reason, upgrade):
    machine.write({"local": {"sandbox": {**FULL["sandbox"], **extra}}})
    machine.env["PATH"] = str(machine.tools(*tools))
    machine.os_release.write_text(release)
    got = machine.level()
    assert got.level == HOOKS_ONLY and reason in got.reason and upgrade in got.upgrade, got
    assert got.line().startswith(f"protection: hooks only, best effort (the sandbox is on in the settings, but {reason}")


def test_a_bwrap_that_cannot_start_a_sandbox_gets_hooks_only(machine):
    """A machine where bwrap is installed but may not create namespaces: this stands in for that bwrap,
    failing as it does there."""
    machine.write({"local": FULL})
    broken = machine.tmp / "broken"
    broken.mkdir()
    (broken / "bwrap").write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    (broken / "bwrap").chmod(0o755)
    (broken / "socat").symlink_to(REAL["socat"])
    machine.env["PATH"] = str(broken)
    got = machine.level()
    assert got.level == HOOKS_ONLY
    assert got.reason.endswith("bwrap cannot start a sandbox on this machine: bwrap: No permissions to create new "
                               "namespace"), got


@pytest.mark.parametrize("system, reason", [("win32", "Claude Code's sandbox does not run on win32"),
                                            ("darwin", "Seatbelt cannot start a sandbox: sandbox-exec not found")])
def test_other_systems(machine, system, reason):
    machine.write({"local": FULL})
    got = machine.level(system=system)
    assert got.level == HOOKS_ONLY and reason in got.reason, got


def test_the_level_line(machine):
    machine.write({"local": FULL})
    assert machine.level().line() == ("protection: sandboxed (Claude Code's Bash sandbox is on for this project "
                                      "and bwrap works)")
    machine.write({"local": OFF})
    assert machine.level().line() == ("protection: hooks only, best effort (Claude Code's Bash sandbox is off for "
                                      "this project: sandbox.enabled is false in .claude/settings.local.json); to "
                                      "upgrade: run `clavain-cli setup sandbox`, then start a new Claude Code session")


@pytest.mark.parametrize("release, missing, command", [
    ("ID=debian\n", ["bwrap", "socat"], "sudo apt-get install bubblewrap socat"),
    ('ID="ubuntu"\nID_LIKE=debian\n', ["socat"], "sudo apt-get install socat"),
    ("ID=linuxmint\nID_LIKE='ubuntu debian'\n", ["bwrap"], "sudo apt-get install bubblewrap"),
    ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', ["bwrap", "socat"], "sudo dnf install bubblewrap socat"),
    ("ID=fedora\n", ["bwrap"], "sudo dnf install bubblewrap"),
    ("ID=manjaro\nID_LIKE=arch\n", ["bwrap"], "sudo pacman -S bubblewrap"),
    ('ID="opensuse-tumbleweed"\nID_LIKE="opensuse suse"\n', ["socat"], "sudo zypper install socat"),
    ("ID=alpine\n", ["bwrap", "socat"], "sudo apk add bubblewrap socat"),
    ("", ["socat"], "Debian: sudo apt-get install socat; Fedora: sudo dnf install socat; Arch: sudo pacman -S socat; "
                    "Suse: sudo zypper install socat; Alpine: sudo apk add socat"),
])
def test_install_command_names_the_distribution_package_manager(release, missing, command):
    assert install_command(missing, release) == command


def test_the_level_reads_no_settings_of_a_parent_folder(machine):
    """Claude Code reads a session's project settings from the folder it starts in (measured: a session
    in a subfolder of a git repository does not apply the repository's .claude/settings.local.json)."""
    machine.write({"local": FULL})
    sub = machine.project / "sub"
    sub.mkdir()
    got = protection_level(sub, machine.env, system="linux", managed_dir=machine.managed, plugin=machine.tmp / "p")
    assert got.level == HOOKS_ONLY and "off for this project" in got.reason
    assert os.path.isdir(machine.project / ".claude")
