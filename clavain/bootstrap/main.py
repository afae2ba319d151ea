"""Entry points: ``session-start`` (the SessionStart hook), ``wait`` (bin/clavain-cli before its first
run) and ``build`` (a user in a terminal). Each prints at most one line for the user and returns an exit code
from the CLI's table (0 done, 2 usage, 3 environment problem).

    session-start  ready: nothing (compiles the plugin's bytecode if a new plugin folder lacks it).
                   Otherwise starts the build in the background, detached (a hook has 10 s), and says so in
                   one line: JSON with ``systemMessage`` for the user and ``additionalContext`` for the model.
                   Always exits 0: a session must start even when the environment cannot be built.
    wait           a build in progress: waits for it (at most WAIT_SECONDS), saying so once on stderr.
                   None: builds in the foreground, or says why it cannot (Claude Code's sandbox keeps the data
                   folder read-only for the model's commands) and what to run.
    build          rebuilds in the foreground, whatever the state.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from clavain.bootstrap.build import BuildFailed, build, compile_plugin, record_failure
from clavain.bootstrap.envdir import USUALLY, EnvDir, data_dir

WAIT_SECONDS = 90.0  # below the 120 s a Bash tool call gets by default
POLL = 0.2
ENTRY = "import sys; sys.path.insert(0, sys.argv[1]); from clavain.bootstrap.main import main; sys.exit(main())"


def failure_line(where: EnvDir, problem: str) -> str:
    if problem == "offline":
        return ("clavain: could not download the plugin's Python dependencies (no connection to the package index); "
                f"once online, run: {where.build_command()}")
    return f"clavain: could not build the plugin's Python environment: {problem}; then run: {where.build_command()}"


def started_line(where: EnvDir) -> str:
    return (f"clavain: building the plugin's Python environment (pydantic, PyYAML, Jinja2) in the "
            f"background; {USUALLY}, and clavain-cli waits for it. Log: {where.log}")


def _hook_output(line: str) -> str:
    return json.dumps({"systemMessage": line,
                       "hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": line}})


def _fresh_log(where: EnvDir):
    """The build log, emptied, opened for appending (a detached build's stray output appends to it too)."""
    open(where.log, "w").close()
    return open(where.log, "a", encoding="utf-8")


def _build_logged(where: EnvDir, env, built_by: str) -> str:
    """Build with the lock already held; returns "" or the failure line (also recorded in build-failed)."""
    with open(where.log, "a", encoding="utf-8") as log:
        try:
            build(where, env, built_by, log)
            return ""
        except BuildFailed as exc:
            line = failure_line(where, str(exc))
        except OSError as exc:
            line = failure_line(where, f"{type(exc).__name__}: {exc}")
        log.write(line + "\n")
    record_failure(where, line)
    return line


def session_start(where: EnvDir, env, out) -> int:
    if where.is_ready():
        if where.bytecode_missing():
            with open(where.log, "a", encoding="utf-8") as log:
                compile_plugin(where.python, where, log)
        return 0
    since = where.building_since()
    if since is not None:
        out.write(_hook_output(f"clavain: the plugin's Python environment is still being built (started "
                               f"{time.time() - since:.0f} s ago; {USUALLY}). Log: {where.log}") + "\n")
        return 0
    try:
        fd = where.take_lock()
    except OSError as exc:
        out.write(_hook_output(failure_line(where, f"cannot write {where.data} ({exc.strerror or exc})")) + "\n")
        return 0
    if fd is None:  # another session started it a moment ago
        out.write(_hook_output(started_line(where)) + "\n")
        return 0
    with _fresh_log(where) as log:
        # the child inherits the locked file, so the lock is held from now until the build ends
        subprocess.Popen([sys.executable, "-S", "-I", "-c", ENTRY, where.root, "build-locked", str(fd), where.data,
                          "the SessionStart hook"], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         pass_fds=(fd,), start_new_session=True, env=dict(env))
    os.close(fd)
    out.write(_hook_output(started_line(where)) + "\n")
    return 0


def _wait_for_build(where: EnvDir, since: float, err) -> int:
    err.write(f"clavain-cli: waiting for the plugin's Python environment, which is being built (started "
              f"{time.time() - since:.0f} s ago; {USUALLY}). Log: {where.log}\n")
    err.flush()
    deadline = time.time() + WAIT_SECONDS
    while time.time() < deadline:
        if where.building_since() is None:
            break
        time.sleep(POLL)
    else:
        err.write(f"clavain-cli: the plugin's Python environment is still being built after {WAIT_SECONDS:.0f} s "
                  f"of waiting; see {where.log}\nnext: run the same clavain-cli command again\n")
        return 3
    if where.is_ready():
        return 0
    err.write((where.last_failure() or failure_line(where, f"the build ended without finishing; see {where.log}"))
              + "\n")
    return 3


def wait(where: EnvDir, env, err) -> int:
    if where.is_ready():
        return 0
    since = where.building_since()
    if since is not None:
        return _wait_for_build(where, since, err)
    try:
        fd = where.take_lock()
    except OSError as exc:
        err.write(f"clavain-cli: the plugin's Python environment is not built yet, and {where.data} cannot be written "
                  f"here ({exc.strerror or exc}; Claude Code's sandbox keeps it read-only for commands). The plugin's "
                  f"SessionStart hook builds it: start a new session, or run once: {where.build_command()}\n")
        return 3
    if fd is None:
        return _wait_for_build(where, time.time(), err)
    try:
        err.write(f"clavain-cli: building the plugin's Python environment in {where.venv} first; {USUALLY}. "
                  f"Log: {where.log}\n")
        err.flush()
        _fresh_log(where).close()
        line = _build_logged(where, env, "clavain-cli")
    finally:
        os.close(fd)
    if line:
        err.write(line.replace("clavain:", "clavain-cli:", 1) + "\n")
        return 3
    return 0


def build_now(where: EnvDir, env, err, built_by: str) -> int:
    try:
        fd = where.take_lock()
    except OSError as exc:
        err.write(failure_line(where, f"cannot write {where.data} ({exc.strerror or exc})") + "\n")
        return 3
    if fd is None:
        since = where.building_since()
        return _wait_for_build(where, since if since is not None else time.time(), err)
    try:
        err.write(f"clavain: building the plugin's Python environment in {where.venv}; {USUALLY}\n")
        err.flush()
        _fresh_log(where).close()
        line = _build_logged(where, env, built_by)
    finally:
        os.close(fd)
    if line:
        err.write(line + "\n")
        return 3
    err.write(f"clavain: the plugin's Python environment is ready: {where.python}\n")
    return 0


def main(argv=None, env=None, out=None, err=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    out = out or sys.stdout
    err = err or sys.stderr
    if len(argv) < 2:
        err.write("usage: clavain-env ROOT session-start | wait | build [DATA_DIR]\n")
        return 2
    root, command, rest = argv[0], argv[1], argv[2:]
    if command == "build-locked":  # the detached child of session-start: fd, data folder, who started it
        fd, data, built_by = int(rest[0]), rest[1], rest[2]
        where = EnvDir(root, data)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {time.time():.3f}\n".encode())
        return 0 if not _build_logged(where, env, built_by) else 3
    where = EnvDir(root, rest[0] if command == "build" and rest else data_dir(env))
    if command == "session-start":
        return session_start(where, env, out)
    if command == "wait":
        return wait(where, env, err)
    if command == "build":
        return build_now(where, env, err, "a build from the terminal")
    err.write(f"clavain-env: unknown command {command!r}; use session-start, wait or build\n")
    return 2
