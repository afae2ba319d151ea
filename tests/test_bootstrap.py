"""The plugin's own environment outside Claude Code: readiness (shell and Python agree), the SessionStart
entry's quick path, the offline and no-venv messages, clavain-cli waiting for a build or saying why it
cannot build. Real subprocesses, real venv and pip, a real read-only mount (bubblewrap) for the sandbox.
The whole build through the real `claude` is in test_install.py."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from install_support import fake_ready_env, fresh_clone

from clavain.bootstrap.envdir import EnvDir


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    return fresh_clone(tmp_path_factory.mktemp("bootstrap") / "clavain")


def bare_env(tmp_path: Path, **extra) -> dict:
    """A user's environment: a throwaway HOME, the system PATH (Debian's bare python3, no pydantic)."""
    env = {"HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    env.update(extra)
    return env


def run(argv, env, *, cwd=None, timeout=60, stdin=""):
    return subprocess.run([str(a) for a in argv], env=env, cwd=cwd, input=stdin, capture_output=True, text=True,
                          timeout=timeout)


# ----------------------------------------------------------------- readiness: one rule in sh and in Python

def _none(plugin, data):
    pass


def _half_built(plugin, data):
    fake_ready_env(plugin, data)
    (data / "venv" / "clavain-ready").unlink()


def _broken(plugin, data):
    fake_ready_env(plugin, data, python=False)
    (data / "venv" / "bin" / "python").symlink_to(data / "gone" / "python3.11")


def _other_lock(plugin, data):
    fake_ready_env(plugin, data, lock_line="# lock-id 0000000000000000")


def _ready(plugin, data):
    fake_ready_env(plugin, data)


@pytest.mark.parametrize("make,ready,why", [
    (_none, False, "not built yet"),
    (_half_built, False, "half-built (no completion marker)"),
    (_broken, False, "broken"),
    (_other_lock, False, "built for another version of requirements.lock"),
    (_ready, True, "ready"),
])
def test_the_shell_check_and_the_python_check_agree(clone, tmp_path, make, ready, why):
    data = tmp_path / "data"
    make(clone, data)
    where = EnvDir(str(clone), str(data))
    assert where.is_ready() is ready
    assert where.why_not_ready().startswith(why)
    shell = run(["sh", "-c", '. "$root/hooks/env.sh" && clavain_ready'],
                {"PATH": "/usr/bin:/bin", "root": str(clone), "CLAVAIN_PLUGIN_DATA": str(data)})
    assert (shell.returncode == 0) is ready, shell.stderr
    assert shell.stderr == ""


@pytest.mark.parametrize("env,where", [
    ({"CLAVAIN_PLUGIN_DATA": "/a", "CLAUDE_PLUGIN_DATA": "/b", "XDG_DATA_HOME": "/x", "HOME": "/h"}, "/a"),
    ({"CLAUDE_PLUGIN_DATA": "/b", "XDG_DATA_HOME": "/x", "HOME": "/h"}, "/b"),
    ({"XDG_DATA_HOME": "/x", "HOME": "/h"}, "/x/clavain"),
    ({"HOME": "/h"}, "/h/.local/share/clavain"),
])
def test_the_data_folder_is_found_the_same_way_in_sh_and_python(clone, env, where):
    from clavain.bootstrap.envdir import data_dir

    shell = run(["sh", "-c", '. "$root/hooks/env.sh" && printf %s "$clavain_data"'],
                {"PATH": "/usr/bin:/bin", "root": str(clone), **env})
    assert shell.stdout == where == data_dir(env)


# ----------------------------------------------------------------- the SessionStart entry

def test_session_start_with_a_ready_environment_starts_no_python_and_tells_bash_where_it_is(clone, tmp_path):
    data = tmp_path / "it's data"  # a quote in the path must survive the env file
    fake_ready_env(clone, data)
    env_file = tmp_path / "session-env.sh"
    empty = tmp_path / "no-python"
    empty.mkdir()
    r = run(["/bin/sh", clone / "hooks" / "clavain-env", "session-start"],
            {"PATH": str(empty), "HOME": str(tmp_path), "CLAUDE_PLUGIN_DATA": str(data),
             "CLAUDE_ENV_FILE": str(env_file)}, stdin='{"hook_event_name": "SessionStart"}')
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")  # no python3 on PATH was needed
    sourced = run(["sh", "-c", '. "$1" && printf %s "$CLAVAIN_PLUGIN_DATA"', "sh", env_file], {"PATH": "/usr/bin:/bin"})
    assert sourced.stdout == str(data)


def test_session_start_with_no_python3_still_lets_the_session_start(clone, tmp_path):
    empty = tmp_path / "no-python"
    empty.mkdir()
    r = run(["/bin/sh", clone / "hooks" / "clavain-env", "session-start"],
            {"PATH": str(empty), "HOME": str(tmp_path), "CLAUDE_PLUGIN_DATA": str(tmp_path / "data")})
    assert r.returncode == 0
    assert r.stderr.strip() == "clavain: no python3 on PATH; the plugin needs Python 3.10-3.13 (or set CLAVAIN_PYTHON)"


# ----------------------------------------------------------------- builds that cannot succeed: one line each

def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_offline_the_build_names_the_exact_command_to_run_once_online(clone, tmp_path):
    data = tmp_path / "data"
    env = bare_env(tmp_path, PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL=f"http://127.0.0.1:{closed_port()}/simple",
                   PIP_FIND_LINKS="", PIP_RETRIES="1", PIP_NO_CACHE_DIR="1")
    r = run([clone / "hooks" / "clavain-env", "build", data], env, timeout=300)
    assert r.returncode == 3, r.stderr
    command = f"{clone}/hooks/clavain-env build {data}"
    line = ("clavain: could not download the plugin's Python dependencies (no connection to the package index); "
            f"once online, run: {command}")
    assert r.stderr.splitlines()[-1] == line
    assert (data / "build-failed").read_text().strip() == line
    assert not (data / "venv").exists() and not (data / "venv.new").exists()
    # clavain-cli, started after that, tries again and says the same
    cli = run([clone / "bin" / "clavain-cli", "plan", "validate", clone / "examples" / "sample-plan.md"],
              {**env, "CLAVAIN_PLUGIN_DATA": str(data)}, timeout=300)
    assert cli.returncode == 3
    assert cli.stderr.splitlines()[-1] == line.replace("clavain:", "clavain-cli:", 1)


def test_a_python_without_venv_gets_one_line_naming_python3_venv(clone, tmp_path):
    """Debian's python3 without the python3-venv package: ensurepip cannot be imported."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "ensurepip.py").write_text("raise ModuleNotFoundError(\"No module named 'ensurepip'\")\n")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    wrapper = bindir / "python3"
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH="{shadow}" exec /usr/bin/python3 "$@"\n')
    wrapper.chmod(0o755)
    data = tmp_path / "data"
    r = run([clone / "hooks" / "clavain-env", "build", data], bare_env(tmp_path, PATH=f"{bindir}:/usr/bin:/bin"))
    assert r.returncode == 3
    last = r.stderr.splitlines()[-1]
    assert "/usr/bin/python3 cannot create virtual environments" in last
    assert "install the python3-venv package or python3.11-venv (Debian/Ubuntu: sudo apt install python3-venv)" in last
    assert f"then run: {clone}/hooks/clavain-env build {data}" in last
    assert not (data / "venv").exists()


# ----------------------------------------------------------------- clavain-cli before the environment is ready

def test_clavain_cli_waits_for_a_build_in_progress(clone, tmp_path):
    data = tmp_path / "data"
    where = EnvDir(str(clone), str(data))
    fd = where.take_lock()  # this test plays the build

    def finish():
        time.sleep(1.5)
        fake_ready_env(clone, data)
        os.close(fd)

    threading.Thread(target=finish).start()
    start = time.monotonic()
    r = run([clone / "bin" / "clavain-cli", "--version"], bare_env(tmp_path, CLAVAIN_PLUGIN_DATA=str(data)))
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - start >= 1.4
    assert r.stdout.startswith("clavain-cli ")
    (line,) = r.stderr.splitlines()
    assert line.startswith("clavain-cli: waiting for the plugin's Python environment, which is being built")


def test_a_build_that_ends_without_finishing_is_reported_not_waited_on_forever(clone, tmp_path):
    data = tmp_path / "data"
    where = EnvDir(str(clone), str(data))
    fd = where.take_lock()
    (data / "build-failed").write_text("clavain: could not build the plugin's Python environment: pip install "
                                       "exited 1: boom; then run: X\n")
    threading.Timer(0.5, os.close, (fd,)).start()
    r = run([clone / "bin" / "clavain-cli", "--version"], bare_env(tmp_path, CLAVAIN_PLUGIN_DATA=str(data)))
    assert r.returncode == 3
    assert r.stderr.splitlines()[-1].endswith("pip install exited 1: boom; then run: X")


@pytest.mark.skipif(not shutil.which("bwrap"), reason="bubblewrap mounts the data folder read-only")
def test_in_a_read_only_sandbox_clavain_cli_says_the_hook_builds_it_and_what_to_run(clone, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    r = run(["bwrap", "--dev-bind", "/", "/", "--ro-bind", data, data, clone / "bin" / "clavain-cli", "run", "status"],
            bare_env(tmp_path, CLAVAIN_PLUGIN_DATA=str(data)))
    assert r.returncode == 3
    (line,) = r.stderr.splitlines()
    assert f"is not built yet, and {data} cannot be written here (Read-only file system" in line
    assert f"start a new session, or run once: {clone}/hooks/clavain-env build {data}" in line


# ----------------------------------------------------------------- a command of the full Clavain plugin

def other_cli(folder: Path, name: str = "clavain-cli") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text('#!/bin/sh\necho "other: $*"\n')
    script.chmod(0o755)
    return script


def test_an_unknown_subcommand_goes_to_the_next_clavain_cli_on_path_never_to_itself(clone, tmp_path):
    link = tmp_path / "link"
    link.mkdir()
    (link / "clavain-cli").symlink_to(clone / "bin" / "clavain-cli")  # the same script under another name
    other_cli(tmp_path / "other")
    path = f"{clone / 'bin'}:{link}:{tmp_path / 'other'}:/usr/bin:/bin"
    r = run(["clavain-cli", "factory-status", "--json"], bare_env(tmp_path, PATH=path, CLAVAIN_PYTHON="/nonexistent"))
    assert (r.returncode, r.stdout, r.stderr) == (0, "other: factory-status --json\n", "")


def test_two_copies_of_this_plugin_do_not_hand_a_command_back_and_forth(clone, tmp_path):
    second = fresh_clone(tmp_path / "second")
    path = f"{clone / 'bin'}:{second / 'bin'}:/usr/bin:/bin"
    r = run(["clavain-cli", "factory-status"], bare_env(tmp_path, PATH=path, CLAVAIN_PYTHON="/nonexistent"), timeout=10)
    assert r.returncode == 2 and r.stdout == ""
    (line,) = r.stderr.splitlines()
    assert line.startswith("clavain-cli: 'factory-status' is not a command of this plugin")


def test_with_no_other_clavain_cli_one_line_and_exit_2_without_starting_python(clone, tmp_path):
    from clavain.cli import unknown_command

    r = run([clone / "bin" / "clavain-cli", "factory-status"], bare_env(tmp_path, CLAVAIN_PYTHON="/nonexistent"))
    assert r.returncode == 2
    assert r.stderr == unknown_command("factory-status") + "\n"  # the shell and the CLI say the same


def test_the_shell_knows_the_same_commands_as_the_cli():
    import re

    from clavain.cli import COMMAND_MODULES, build_parser

    text = (Path(__file__).parent.parent / "bin" / "clavain-cli").read_text()
    (listed,) = re.findall(r'^  ([a-z|-]+)\|-\*\|""\) ;;$', text, re.M)
    top = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction").choices
    assert listed.split("|") == list(COMMAND_MODULES) == list(top)


def test_a_known_command_is_never_handed_over(clone, tmp_path):
    other_cli(tmp_path / "other")
    r = run([clone / "bin" / "clavain-cli", "--version"],
            bare_env(tmp_path, PATH=f"{tmp_path / 'other'}:/usr/bin:/bin", CLAVAIN_PYTHON=sys.executable))
    assert r.returncode == 0 and r.stdout.startswith("clavain-cli ")


# ----------------------------------------------------------------- which Python builds it

def test_a_python_outside_3_10_to_3_13_looks_for_one_on_path_or_says_what_to_install(tmp_path):
    from clavain.bootstrap.build import BuildFailed, base_python

    assert base_python({}, (3, 11), "/x/python3") == "/x/python3"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python3.12").symlink_to(sys.executable if sys.version_info[:2] == (3, 12) else "/nonexistent")
    real = bindir / f"python3.{sys.version_info[1]}"
    if not real.exists():
        real.symlink_to(sys.executable)
    assert base_python({"PATH": str(bindir)}, (3, 9), "/old/python3") == str(real)
    with pytest.raises(BuildFailed) as caught:
        base_python({"PATH": str(tmp_path / "empty")}, (3, 14), "/new/python3")
    assert str(caught.value) == ("needs Python 3.10-3.13, and python3 here is 3.14 (/new/python3) with no "
                                 "python3.13 ... python3.10 on PATH; install one of those")


def test_session_start_while_a_build_runs_says_so_in_one_line_for_the_user_and_the_model(clone, tmp_path):
    import json

    data = tmp_path / "data"
    fd = EnvDir(str(clone), str(data)).take_lock()
    try:
        r = run(["/bin/sh", clone / "hooks" / "clavain-env", "session-start"],
                bare_env(tmp_path, CLAUDE_PLUGIN_DATA=str(data)))
    finally:
        os.close(fd)
    assert r.returncode == 0 and r.stderr == ""
    output = json.loads(r.stdout)
    line = output["systemMessage"]
    assert output["hookSpecificOutput"] == {"hookEventName": "SessionStart", "additionalContext": line}
    assert line.startswith("clavain: the plugin's Python environment is still being built (started 0 s ago; "
                           "it usually takes 5-30 seconds). Log: ")
    assert "\n" not in line
