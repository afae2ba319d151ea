"""The plugin as Claude Code loads it: the real `claude` validator and loader, and the checks they miss."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import CLAUDE, ROOT, needs_claude

COMMAND = ROOT / "commands" / "execute-plan.md"
SKILL = ROOT / "skills" / "executing-plans" / "SKILL.md"
COPY_IGNORE = shutil.ignore_patterns(".venv", "node_modules", ".git", "__pycache__", ".pytest_cache", "*.egg-info")


def claude(*args: str, home: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {"HOME": str(home), "PATH": os.environ["PATH"], "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
           "DISABLE_AUTOUPDATER": "1"}
    return subprocess.run([str(CLAUDE), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def plugin_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "clavain"
    shutil.copytree(ROOT, copy, ignore=COPY_IGNORE)
    return copy


def frontmatter(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    match = re.match(r"---\n(.*?)\n---\n(.*)", text, re.S)
    assert match, f"{path}: no frontmatter"
    return yaml.safe_load(match.group(1)), match.group(2)


# --------------------------------------------------------------- the real validator and loader

@needs_claude
@pytest.mark.parametrize("manifest", [".claude-plugin/plugin.json", ".claude-plugin/marketplace.json"])
def test_claude_validates_the_manifests_strictly(tmp_path, manifest):
    r = claude("plugin", "validate", "--strict", manifest, home=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Validation passed" in r.stdout


@needs_claude
def test_the_validator_catches_a_broken_marketplace(tmp_path):
    copy = plugin_copy(tmp_path)
    market = copy / ".claude-plugin" / "marketplace.json"
    data = json.loads(market.read_text())
    del data["plugins"]
    market.write_text(json.dumps(data))
    r = claude("plugin", "validate", "--strict", str(market), home=tmp_path)
    assert r.returncode == 1


@needs_claude
def test_claude_loads_the_command_skill_and_hooks_without_errors(tmp_path):
    listed = claude("--plugin-dir", str(ROOT), "plugin", "list", "--json", home=tmp_path)
    assert listed.returncode == 0, listed.stderr
    (entry,) = [p for p in json.loads(listed.stdout) if p["id"] == "clavain@inline"]
    assert entry.get("errors", []) == [] and entry["enabled"] is True
    details = claude("--plugin-dir", str(ROOT), "plugin", "details", "clavain@inline", home=tmp_path)
    assert details.returncode == 0, details.stderr
    assert re.search(r"Skills \(2\)\s+execute-plan, executing-plans", details.stdout), details.stdout
    assert re.search(r"Hooks \(6\)\s+PreToolUse, PostToolUse, PostToolUseFailure, UserPromptSubmit, SessionStart, Stop",
                     details.stdout), details.stdout


@needs_claude
def test_loader_errors_would_show(tmp_path):
    copy = plugin_copy(tmp_path)
    (copy / "hooks" / "hooks.json").write_text('{"hooks": {"PreToolUse": "not a list"}}')
    listed = claude("--plugin-dir", str(copy), "plugin", "list", "--json", home=tmp_path)
    (entry,) = [p for p in json.loads(listed.stdout) if p["id"] == "clavain@inline"]
    assert any("Hook load failed" in e for e in entry["errors"])


@needs_claude
def test_marketplace_add_and_install(tmp_path):
    copy = plugin_copy(tmp_path)
    added = claude("plugin", "marketplace", "add", str(copy), home=tmp_path)
    assert added.returncode == 0, added.stdout + added.stderr
    installed = claude("plugin", "install", "clavain@clavain", home=tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    listed = json.loads(claude("plugin", "list", "--json", home=tmp_path).stdout)
    (entry,) = [p for p in listed if p["id"] == "clavain@clavain"]
    assert entry.get("errors", []) == [] and entry["version"] == "0.1.0"
    assert os.access(Path(entry["installPath"]) / "hooks" / "clavain-hook", os.X_OK)


# --------------------------------------------------------------- what the validator misses

def test_every_skill_is_spelled_SKILL_md_and_named_after_its_folder():
    folders = [p for p in (ROOT / "skills").iterdir() if p.is_dir()]
    assert folders
    for folder in folders:
        assert [p.name for p in folder.iterdir() if p.name.lower() == "skill.md"] == ["SKILL.md"], folder
        meta, _ = frontmatter(folder / "SKILL.md")
        assert meta["name"] == folder.name
        assert meta["description"].startswith("Use when ")


def test_command_frontmatter_and_zero_based_arguments():
    meta, body = frontmatter(COMMAND)
    assert meta["name"] == "execute-plan" == COMMAND.stem
    assert meta["argument-hint"].startswith("[plan-file]") and meta["description"]  # the plan is optional
    assert re.search(r"\$(0|ARGUMENTS)\b", body)
    assert not re.search(r"\$[1-9]", body), "arguments are 0-based: $0 is the plan"
    for rule in meta["allowed-tools"].split(", "):
        assert re.fullmatch(r"Bash\(clavain-cli [a-z-]+:\*\)|Skill\(clavain:[a-z-]+\)", rule), rule


def test_the_command_hands_over_to_the_skill_that_exists():
    meta, body = frontmatter(COMMAND)
    skill_meta, _ = frontmatter(SKILL)
    assert f"clavain:{skill_meta['name']}" in body
    assert f"Skill(clavain:{skill_meta['name']})" in meta["allowed-tools"]


def test_command_and_skill_stay_within_5000_bytes():
    assert COMMAND.stat().st_size + SKILL.stat().st_size <= 5000


def _subcommands(parser: argparse.ArgumentParser) -> dict:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


def _named_commands(text: str) -> set[tuple[str, ...]]:
    named = {tuple(m.group(1, 2)) for m in re.finditer(r"clavain-cli ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?", text)}
    named |= {("run", m.group(1)) for m in re.finditer(r"`run ([a-z][a-z-]*)", text)}
    return named


@pytest.mark.parametrize("path", [COMMAND, SKILL], ids=lambda p: p.name)
def test_every_clavain_cli_call_the_markdown_names_exists(path):
    from clavain.cli import build_parser

    top = _subcommands(build_parser())
    named = _named_commands(path.read_text(encoding="utf-8"))
    assert named
    for first, second in named:
        assert first in top, f"{path.name}: clavain-cli {first} does not exist"
        inner = _subcommands(top[first])
        if inner and second is not None:  # "clavain-cli run ..." names the family
            assert second in inner, f"{path.name}: clavain-cli {first} {second} does not exist"


def test_the_name_check_would_catch_a_missing_subcommand():
    from clavain.cli import build_parser

    top = _subcommands(build_parser())
    assert ("run", "teleport") in _named_commands("then `clavain-cli run teleport 3`")
    assert "teleport" not in _subcommands(top["run"])


def test_executables_are_executable():
    for path in [*(ROOT / "bin").iterdir(), ROOT / "hooks" / "clavain-hook"]:
        assert os.access(path, os.X_OK), f"{path} is not executable (chmod +x)"


def test_hooks_json_runs_the_entry_for_each_event_and_matches_every_guarded_tool():
    from clavain.guard import hooks

    config = json.loads((ROOT / "hooks" / "hooks.json").read_text())["hooks"]
    events = {"PreToolUse": "pre-tool-use", "PostToolUse": "post-tool-use", "PostToolUseFailure": "post-tool-use",
              "UserPromptSubmit": "user-prompt-submit", "SessionStart": "session-start", "Stop": "stop"}
    assert set(config) == set(events)
    for name, event in events.items():
        commands = [hook["command"] for group in config[name] for hook in group["hooks"]]
        # the guard's entry, sourced into Claude Code's /bin/sh (one shell, then Python), and at session start
        # the environment's own entry (a script of its own)
        expected = [f'set -- {event}; . "${{CLAUDE_PLUGIN_ROOT}}/hooks/clavain-hook"']
        if name == "SessionStart":
            expected.append('"${CLAUDE_PLUGIN_ROOT}/hooks/clavain-env" session-start')
        assert commands == expected
        assert all(hook["timeout"] <= 10 for group in config[name] for hook in group["hooks"])
    # every tool: while a run waits, whatever is not on the allowlist is blocked (mcp__*, AskUserQuestion ...)
    assert config["PreToolUse"][0]["matcher"] == "*"
    # the witness compares around Bash calls, the failing ones too (a failing run verify moves the journal)
    assert [group["matcher"] for name in ("PostToolUse", "PostToolUseFailure") for group in config[name]] == \
        ["Bash", "Bash"]
