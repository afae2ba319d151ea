"""The sandbox probe's success, remembered while nothing it depends on changes. Standard library only (the
SessionStart hook reads it).

``clavain.core.sandbox`` starts one real ``bwrap ... true`` to see that Claude Code's sandbox can run here: a
subprocess, about twice a bare interpreter start with the ``subprocess`` import, on every session start of a
project with the sandbox on. A success is remembered in ``${XDG_STATE_HOME:-~/.local/state}/clavain/
sandbox-probe.json``, beside the witness records: outside the project, read-only to sandboxed commands, and a
place the hooks keep every tool from writing. It is kept under a digest of everything the probe's outcome
depends on (``facts``):

- the probe's command line, and each program it runs (bwrap, true): path and identity (device, inode, mode,
  owner, size, modification and change times), so a program replaced, upgraded, linked elsewhere or given
  other permission bits (bwrap's setuid bit) is a new one;
- the kernel: its boot id (a reboot, a new kernel) and each setting that allows or refuses the namespaces
  bwrap creates (``user.max_*_namespaces``, ``kernel.unprivileged_userns_clone``, the AppArmor user-namespace
  restrictions, SELinux enforcing);
- the process the probe starts from, as Claude Code's hooks start it: its user and group ids, capabilities,
  seccomp mode and no-new-privileges flag, its security label, and the namespaces it runs in (another
  container, or another machine sharing the home folder, is another place).

A remembered success counts for ``MAX_AGE`` at most and never when it is dated in the future. A failure is
never remembered: a machine where the probe fails probes again at every session start, so the level is
"hooks only" exactly as long as a fresh probe would say so. Measured with claude 2.1.197: where bwrap is
installed but cannot start a sandbox, Claude Code does not fall back to running Bash unsandboxed (every Bash
command fails with bwrap's error, ``failIfUnavailable`` or not), so even a success remembered across a change
none of the facts show leaves the model no command outside the sandbox. Linux only (``facts`` is None
elsewhere: the probe runs every time).
"""

from __future__ import annotations

import os

from clavain.core.chain import canonical, loads
from clavain.core.digest import sha256_hex

CACHE_NAME = "sandbox-probe.json"
VERSION = 1
MAX_AGE = 12 * 3600.0      # seconds a remembered success counts: a working day, then one fresh probe
MAX_ENTRIES = 8            # successes kept (projects may name another bwrap with sandbox.bwrapPath)

# kernel settings that allow or refuse the namespaces bwrap creates (absent ones count as absent)
KERNEL_FILES = ("sys/kernel/random/boot_id",
                "sys/user/max_user_namespaces", "sys/user/max_mnt_namespaces", "sys/user/max_pid_namespaces",
                "sys/user/max_net_namespaces", "sys/kernel/unprivileged_userns_clone",
                "sys/kernel/apparmor_restrict_unprivileged_userns",
                "sys/kernel/apparmor_restrict_unprivileged_unconfined",
                "sys/kernel/unprivileged_userns_apparmor_policy", "self/attr/current")
SYS_FILES = ("fs/selinux/enforce",)
NAMESPACES = ("user", "mnt", "pid", "net")   # the ones the probe's bwrap creates, and the process's own
STATUS_KEYS = ("Uid:", "Gid:", "CapEff:", "CapBnd:", "NoNewPrivs:", "Seccomp:", "Seccomp_filters:")


def cache_path(env) -> str:
    """Where the successes are kept; "" when the state home is unknown (nothing is remembered then)."""
    from clavain.core.witness import state_home

    base = state_home(env)
    return os.path.join(base, "clavain", CACHE_NAME) if base else ""


def _read(path: str, limit: int = 4096) -> str | None:
    """The start of a file as text, or None when it cannot be read (``os`` calls: a dozen reads a session start)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, limit).decode("utf-8", "replace")
    except OSError:
        return None
    finally:
        os.close(fd)


def _identity(path: str) -> list | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_dev, st.st_ino, st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def facts(argv: list[str], *, proc: str = "/proc", sys_dir: str = "/sys") -> dict | None:
    """What the outcome of running ``argv`` as the probe depends on (see the module's doc): its first word is
    the sandbox program, its last the program run inside. None when this is not a Linux machine with ``/proc``
    (nothing is remembered then)."""
    status = _read(os.path.join(proc, "self", "status"))
    if status is None:
        return None
    namespaces = {}
    for name in NAMESPACES:
        try:
            namespaces[name] = os.readlink(os.path.join(proc, "self", "ns", name))
        except OSError:
            namespaces[name] = None
    return {"version": VERSION, "argv": list(argv),
            "programs": [_identity(argv[0]), _identity(argv[-1])],
            "kernel": {name: _read(os.path.join(proc, name)) for name in KERNEL_FILES},
            "sys": {name: _read(os.path.join(sys_dir, name)) for name in SYS_FILES},
            "process": [line for line in status.splitlines() if line.startswith(STATUS_KEYS)],
            "namespaces": namespaces}


def key(found: dict | None) -> str:
    """The digest a success is remembered under ("" for no facts)."""
    return sha256_hex(canonical(found).encode("utf-8")) if found is not None else ""


def _entries(path: str) -> dict:
    """The successes kept in ``path``, by digest (anything unreadable keeps none)."""
    text = _read(path, 65536)
    try:
        data = loads(text) if text else None
    except ValueError:
        return {}
    works = data.get("works") if isinstance(data, dict) and data.get("version") == VERSION else None
    return {k: v for k, v in works.items() if isinstance(v, (int, float)) and not isinstance(v, bool)} \
        if isinstance(works, dict) else {}


def remembered(digest: str, env, now: float) -> bool:
    """Whether a success of the probe is remembered under ``digest``, dated no later than ``now`` and no
    earlier than ``MAX_AGE`` before it."""
    path = cache_path(env) if digest else ""
    if not path:
        return False
    at = _entries(path).get(digest)
    return at is not None and now - MAX_AGE < at <= now


def remember(digest: str, env, now: float) -> None:
    """Keep a success under ``digest`` (with the newest others, up to ``MAX_ENTRIES``). Never raises: a success
    not kept only means the next session start probes again."""
    path = cache_path(env) if digest else ""
    if not path:
        return
    try:
        entries = {k: v for k, v in _entries(path).items() if now - MAX_AGE < v <= now}
        entries[digest] = now
        kept = dict(sorted(entries.items(), key=lambda item: item[1], reverse=True)[:MAX_ENTRIES])
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(canonical({"version": VERSION, "works": kept}) + "\n")
        os.replace(tmp, path)
    except (OSError, ValueError):
        try:
            os.unlink(f"{path}.{os.getpid()}.tmp")
        except OSError:
            pass
