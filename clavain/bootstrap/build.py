"""Building the environment: a venv, requirements.lock installed with pip (hashes required, wheels only),
the plugin's own modules compiled to bytecode, and the completion marker written last.

The build goes into ``venv.new`` and replaces ``venv`` only when complete, so a command that is using the
old environment keeps a working one, and a build cut short leaves no marker behind. The plugin folder gets
its bytecode here because commands that the model runs in Claude Code's Bash sandbox cannot write it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

from clavain.bootstrap.envdir import SUPPORTED, EnvDir

IMPORTS = "import pydantic, yaml, jinja2"
# pip's words for a package index it cannot reach (requests/urllib3 errors, proxies, DNS, TLS)
OFFLINE_SIGNS = ("NewConnectionError", "Failed to establish a new connection", "Temporary failure in name resolution",
                 "Name or service not known", "nodename nor servname", "Network is unreachable", "ConnectTimeout",
                 "Read timed out", "ProxyError", "Connection refused", "No route to host", "ConnectionError",
                 "Could not fetch URL", "SSLError",
                 "(from versions: none)")  # every pin exists on PyPI: an index that lists none was not read
STEP_TIMEOUT = 900  # seconds for one step (venv, pip, compile): a hung download must end some time


class BuildFailed(Exception):
    """A build step failed; the message is the one line the user reads."""


def version_of(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run([python, "-S", "-I", "-c", "import sys; print('%d %d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30).stdout.split()
        return int(out[0]), int(out[1])
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return None


def base_python(env, current: tuple = tuple(sys.version_info[:2]), executable: str = sys.executable) -> str:
    """A Python 3.10-3.13 to build the venv from: this one if it fits, else python3.13 ... python3.10 on PATH."""
    low, high = SUPPORTED
    if low <= current <= high:
        return executable
    path = env.get("PATH", os.defpath)
    for minor in range(high[1], low[1] - 1, -1):
        found = shutil.which(f"python3.{minor}", path=path)
        if found and version_of(found) == (3, minor):
            return found
    raise BuildFailed(f"needs Python {low[0]}.{low[1]}-{high[0]}.{high[1]}, and python3 here is "
                      f"{current[0]}.{current[1]} ({executable}) with no python3.{high[1]} ... "
                      f"python3.{low[1]} on PATH; install one of those")


def check_venv_module(python: str) -> None:
    """Debian and Ubuntu ship ``venv``'s ensurepip in a package of its own."""
    probe = subprocess.run([python, "-c", "import venv, ensurepip"], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        minor = version_of(python)
        versioned = f" or python3.{minor[1]}-venv" if minor else ""
        raise BuildFailed(f"{python} cannot create virtual environments (its venv/ensurepip module is missing); "
                          f"install the python3-venv package{versioned} (Debian/Ubuntu: sudo apt install python3-venv)")


def _run(argv: list[str], log, what: str) -> str:
    log.write(f"$ {' '.join(argv)}\n")
    log.flush()
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=STEP_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BuildFailed(f"{what} took more than {STEP_TIMEOUT} s") from None
    except OSError as exc:
        raise BuildFailed(f"{what} could not start: {exc}") from None
    log.write(proc.stdout)
    log.flush()
    if proc.returncode != 0:
        if what == "pip install" and any(sign in proc.stdout for sign in OFFLINE_SIGNS):
            raise BuildFailed("offline")
        last = [line.strip() for line in proc.stdout.splitlines() if line.strip()]
        raise BuildFailed(f"{what} exited {proc.returncode}: {last[-1] if last else 'no output'}")
    return proc.stdout


# the templates compiled into Jinja2's bytecode cache beside them (clavain.run.report), as Python's bytecode is, and
# the plugin's fingerprint kept with its files' stat (clavain.run.plugin), which sandboxed commands only read
WARM = ("import sys; sys.path.insert(0, sys.argv[1]); from clavain.run.report import warm_templates; "
        "from clavain.run.plugin import fingerprint; "
        "print(len(warm_templates()), 'templates compiled; fingerprint', fingerprint()['digest'][:12])")


def compile_plugin(python: str, where: EnvDir, log) -> None:
    """Bytecode for the plugin's own modules and its templates, for the environment's Python (errors are logged,
    not fatal: a read-only plugin folder only costs start-up time)."""
    for argv in ([python, "-m", "compileall", "-q", os.path.join(where.root, "clavain")],
                 [python, "-c", WARM, where.root]):
        log.write(f"$ {' '.join(argv)}\n")
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=STEP_TIMEOUT)
        log.write(proc.stdout)
        log.flush()


def build(where: EnvDir, env, built_by: str, log) -> float:
    """Build (or rebuild) the environment; returns the seconds it took. Raises BuildFailed."""
    start = time.time()
    log.write(f"clavain: building {where.venv} for {where.requirements} ({built_by}; was: {where.why_not_ready()})\n")
    python = base_python(env)
    check_venv_module(python)
    fresh = where.venv + ".new"
    shutil.rmtree(fresh, ignore_errors=True)
    _run([python, "-m", "venv", fresh], log, "python -m venv")
    new_python = os.path.join(fresh, "bin", "python")
    _run([new_python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--require-hashes",
          "--only-binary", ":all:", "--no-deps", "-r", where.requirements], log, "pip install")
    _run([new_python, "-c", IMPORTS], log, "the import check")
    tag = _run([new_python, "-c", "import sys; print(sys.implementation.cache_tag)"], log, "python").strip()
    compile_plugin(new_python, where, log)
    seconds = time.time() - start
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with open(os.path.join(fresh, "clavain-ready"), "w", encoding="utf-8") as handle:
        handle.write(f"{where.lock_id()}\n{tag}\nbuilt by {built_by} at {stamp} in {seconds:.1f} s\n")
    old = where.venv + ".old"
    shutil.rmtree(old, ignore_errors=True)
    if os.path.lexists(where.venv):
        os.rename(where.venv, old)
    os.rename(fresh, where.venv)
    shutil.rmtree(old, ignore_errors=True)
    try:
        os.remove(where.failed)
    except OSError:
        pass
    log.write(f"clavain: environment ready in {seconds:.1f} s\n")
    return seconds


def record_failure(where: EnvDir, line: str) -> None:
    try:
        with open(where.failed, "w", encoding="utf-8") as handle:
            handle.write(line + "\n")
    except OSError:
        pass
    shutil.rmtree(where.venv + ".new", ignore_errors=True)
