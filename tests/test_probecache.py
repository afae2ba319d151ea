"""The sandbox probe's remembered success (``clavain.core.probecache``): every fact the probe's outcome depends on
changes the digest it is kept under; a success counts only for its digest, only for ``MAX_AGE`` and never from the
future; a failure is never kept; the protection level starts the real bwrap once, then takes the success, and
again after a change; the hooks keep every tool from writing the file.

The facts are read from a stand-in ``/proc`` and ``/sys`` built under tmp_path (the same names the kernel uses),
so that each one can be changed; the end-to-end cases run the real bwrap of this machine behind a script that
counts its starts."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from clavain.core import probecache
from clavain.core.sandbox import HOOKS_ONLY, SANDBOXED, protection_level

REAL = {name: shutil.which(name) for name in ("bwrap", "socat", "true")}
STATUS = ("Name:\tpython3\nUmask:\t0022\nState:\tR (running)\nUid:\t1000\t1000\t1000\t1000\n"
          "Gid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\n"
          "NoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\nVmRSS:\t  9000 kB\n")


class Machine:
    """A stand-in /proc and /sys, and the probe's two programs, under one folder."""

    def __init__(self, tmp: Path) -> None:
        self.proc, self.sys = tmp / "proc", tmp / "sys"
        self.files = {"sys/kernel/random/boot_id": "6d0b-boot-1\n", "sys/user/max_user_namespaces": "63000\n",
                      "sys/user/max_mnt_namespaces": "63000\n", "sys/user/max_pid_namespaces": "63000\n",
                      "sys/user/max_net_namespaces": "63000\n", "sys/kernel/unprivileged_userns_clone": "1\n",
                      "self/status": STATUS}
        for name, text in self.files.items():
            self.write(name, text)
        for name, ident in (("user", 4026531837), ("mnt", 4026531841), ("pid", 4026531836), ("net", 4026531840)):
            (self.proc / "self" / "ns").mkdir(parents=True, exist_ok=True)
            (self.proc / "self" / "ns" / name).symlink_to(f"{name}:[{ident}]")
        self.bwrap, self.true = tmp / "bin" / "bwrap", tmp / "bin" / "true"
        self.bwrap.parent.mkdir()
        self.bwrap.write_text("#!/bin/sh\nexit 0\n")
        self.true.write_text("#!/bin/sh\n")
        self.bwrap.chmod(0o755)
        self.true.chmod(0o755)
        self.argv = [str(self.bwrap), "--new-session", "--unshare-net", "--", str(self.true)]

    def write(self, name: str, text: str) -> None:
        path = self.proc / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def key(self, argv: list[str] | None = None) -> str:
        return probecache.key(probecache.facts(argv or self.argv, proc=str(self.proc), sys_dir=str(self.sys)))


def _later(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def _replaced(path: Path) -> None:
    """The same bytes in a new file (another inode), as a package upgrade installs a program."""
    fresh = path.with_name(path.name + ".new")
    fresh.write_bytes(path.read_bytes())
    fresh.chmod(path.stat().st_mode & 0o7777)
    os.replace(fresh, path)


def _namespace(m: Machine, name: str, target: str) -> None:
    link = m.proc / "self" / "ns" / name
    link.unlink()
    link.symlink_to(target)


CHANGES = [
    # (what changes, how) - each must make the remembered success count no more
    ("a reboot (boot id)", lambda m: m.write("sys/kernel/random/boot_id", "6d0b-boot-2\n")),
    ("user namespaces turned off", lambda m: m.write("sys/user/max_user_namespaces", "0\n")),
    ("mount namespaces limited", lambda m: m.write("sys/user/max_mnt_namespaces", "0\n")),
    ("pid namespaces limited", lambda m: m.write("sys/user/max_pid_namespaces", "0\n")),
    ("network namespaces limited", lambda m: m.write("sys/user/max_net_namespaces", "0\n")),
    ("Debian's userns switch", lambda m: m.write("sys/kernel/unprivileged_userns_clone", "0\n")),
    ("AppArmor's userns restriction appears", lambda m: m.write("sys/kernel/apparmor_restrict_unprivileged_userns",
                                                               "1\n")),
    ("AppArmor's unconfined restriction", lambda m: m.write("sys/kernel/apparmor_restrict_unprivileged_unconfined",
                                                           "1\n")),
    ("Ubuntu's userns policy", lambda m: m.write("sys/kernel/unprivileged_userns_apparmor_policy", "1\n")),
    ("the process's security label", lambda m: m.write("self/attr/current", "snap.claude (enforce)\n")),
    ("SELinux enforcing", lambda m: (m.sys / "fs" / "selinux").mkdir(parents=True)
     or (m.sys / "fs" / "selinux" / "enforce").write_text("1")),
    ("another user", lambda m: m.write("self/status", STATUS.replace("1000", "1001"))),
    ("a seccomp filter", lambda m: m.write("self/status", STATUS.replace("Seccomp:\t0", "Seccomp:\t2"))),
    ("no new privileges", lambda m: m.write("self/status", STATUS.replace("NoNewPrivs:\t0", "NoNewPrivs:\t1"))),
    ("capabilities", lambda m: m.write("self/status", STATUS.replace("CapEff:\t0000000000000000",
                                                                     "CapEff:\t000001ffffffffff"))),
    ("another user namespace (a container)", lambda m: _namespace(m, "user", "user:[4026532001]")),
    ("another mount namespace", lambda m: _namespace(m, "mnt", "mnt:[4026532002]")),
    ("another pid namespace", lambda m: _namespace(m, "pid", "pid:[4026532003]")),
    ("another network namespace", lambda m: _namespace(m, "net", "net:[4026532004]")),
    ("bwrap modified", lambda m: _later(m.bwrap)),
    ("bwrap replaced by a copy", lambda m: _replaced(m.bwrap)),
    ("bwrap's permission bits (setuid)", lambda m: m.bwrap.chmod(0o4755)),
    ("bwrap grown", lambda m: m.bwrap.write_text("#!/bin/sh\nexit 0\n# another build\n")),
    ("bwrap gone", lambda m: m.bwrap.unlink()),
    ("true replaced", lambda m: _replaced(m.true)),
]


@pytest.fixture
def machine(tmp_path) -> Machine:
    return Machine(tmp_path)


@pytest.mark.parametrize("change", [c[1] for c in CHANGES], ids=[c[0] for c in CHANGES])
def test_every_fact_the_probe_depends_on_changes_the_digest(machine, tmp_path, change):
    env = {"HOME": str(tmp_path / "home")}
    now = time.time()
    before = machine.key()
    probecache.remember(before, env, now)
    assert machine.key() == before and probecache.remembered(machine.key(), env, now)   # nothing changed yet
    change(machine)
    assert machine.key() != before
    assert not probecache.remembered(machine.key(), env, now)


def test_another_probe_command_line_or_program_path_is_another_digest(machine, tmp_path):
    other = tmp_path / "elsewhere" / "bwrap"
    other.parent.mkdir()
    shutil.copy2(machine.bwrap, other)
    keys = {machine.key(), machine.key([*machine.argv[:-1], "--unshare-ipc", str(machine.true)]),
            machine.key([str(other), *machine.argv[1:]])}
    assert len(keys) == 3


def test_a_success_counts_for_its_digest_for_max_age_and_never_from_the_future(tmp_path):
    env = {"HOME": str(tmp_path)}
    now = 1_800_000_000.0
    probecache.remember("a" * 64, env, now)
    assert probecache.remembered("a" * 64, env, now + 60)
    assert not probecache.remembered("b" * 64, env, now + 60)
    assert not probecache.remembered("a" * 64, env, now + probecache.MAX_AGE + 1)   # too old
    assert not probecache.remembered("a" * 64, env, now - 60)                      # dated after the reader's now
    assert not probecache.remembered("", env, now)


@pytest.mark.parametrize("text", ["", "{", "[]", '{"version": 0, "works": {"' + "a" * 64 + '": 1800000000}}',
                                  '{"version": 1, "works": {"' + "a" * 64 + '": "1800000000"}}',
                                  '{"version": 1, "works": {"' + "a" * 64 + '": true}}'])
def test_a_file_not_written_by_remember_holds_no_success(tmp_path, text):
    env = {"HOME": str(tmp_path)}
    path = Path(probecache.cache_path(env))
    path.parent.mkdir(parents=True)
    path.write_text(text)
    assert not probecache.remembered("a" * 64, env, 1_800_000_060.0)


def test_the_file_lives_beside_the_witness_records_private_and_bounded(tmp_path):
    env = {"HOME": str(tmp_path / "h"), "XDG_STATE_HOME": str(tmp_path / "state")}
    assert probecache.cache_path(env) == str(tmp_path / "state" / "clavain" / "sandbox-probe.json")
    assert probecache.cache_path({"HOME": str(tmp_path / "h")}) == \
        str(tmp_path / "h" / ".local" / "state" / "clavain" / "sandbox-probe.json")
    assert probecache.cache_path({}) == ""
    for i in range(probecache.MAX_ENTRIES + 3):
        probecache.remember(f"{i:064d}", env, 1_800_000_000.0 + i)
    path = Path(probecache.cache_path(env))
    kept = json.loads(path.read_text())["works"]
    assert len(kept) == probecache.MAX_ENTRIES and f"{probecache.MAX_ENTRIES + 2:064d}" in kept
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700


def test_without_proc_nothing_is_remembered(tmp_path):
    assert probecache.facts(["/bin/true"], proc=str(tmp_path / "no-proc")) is None
    assert probecache.key(None) == ""


# ------------------------------------------------------------------ through the protection level, real bwrap

needs_bwrap = pytest.mark.skipif(not all(REAL.values()), reason="needs bubblewrap and socat (.ci/run installs them)")


def _counting_bwrap(folder: Path, works: bool = True) -> Path:
    """A bwrap that logs each start, then runs the real one (or fails as a bwrap without namespaces does)."""
    folder.mkdir(exist_ok=True)
    log = folder / "starts.log"
    body = f'exec {REAL["bwrap"]} "$@"' if works else "echo 'bwrap: No permissions to create new namespace' >&2; exit 1"
    (folder / "bwrap").write_text(f"#!/bin/sh\necho start >> '{log}'\n{body}\n")
    (folder / "bwrap").chmod(0o755)
    for name in ("socat", "true"):
        if not (folder / name).exists():
            (folder / name).symlink_to(REAL[name])
    return log


def _starts(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.fixture
def sandboxed_project(tmp_path):
    home, project = tmp_path / "home", tmp_path / "project"
    (project / ".claude").mkdir(parents=True)
    home.mkdir()
    (project / ".claude" / "settings.local.json").write_text(json.dumps(
        {"sandbox": {"enabled": True, "failIfUnavailable": True, "allowUnsandboxedCommands": False}}))
    return project, home


@needs_bwrap
def test_the_level_starts_bwrap_once_then_takes_the_remembered_success_until_bwrap_changes(sandboxed_project,
                                                                                        tmp_path):
    project, home = sandboxed_project
    log = _counting_bwrap(tmp_path / "bin")
    env = {"HOME": str(home), "PATH": str(tmp_path / "bin")}
    levels = [protection_level(project, env).level for _ in range(3)]
    assert levels == [SANDBOXED] * 3 and _starts(log) == 1
    assert (home / ".local" / "state" / "clavain" / "sandbox-probe.json").exists()
    _later(tmp_path / "bin" / "bwrap")   # an upgraded bwrap: probed again, then remembered again
    assert [protection_level(project, env).level for _ in range(2)] == [SANDBOXED] * 2 and _starts(log) == 2
    assert protection_level(project, env, remember=False).level == SANDBOXED and _starts(log) == 3


@needs_bwrap
def test_a_failing_bwrap_is_never_remembered(sandboxed_project, tmp_path):
    project, home = sandboxed_project
    log = _counting_bwrap(tmp_path / "bin", works=False)
    env = {"HOME": str(home), "PATH": str(tmp_path / "bin")}
    for _ in range(2):
        got = protection_level(project, env)
        assert got.level == HOOKS_ONLY and "No permissions to create new namespace" in got.reason, got
    assert _starts(log) == 2 and not (home / ".local" / "state" / "clavain" / "sandbox-probe.json").exists()


@needs_bwrap
def test_a_remembered_success_never_outlives_the_settings_or_the_tools(sandboxed_project, tmp_path):
    """Only the bwrap start is remembered: the settings and the tools on PATH are read every time."""
    project, home = sandboxed_project
    log = _counting_bwrap(tmp_path / "bin")
    env = {"HOME": str(home), "PATH": str(tmp_path / "bin")}
    assert protection_level(project, env).level == SANDBOXED
    (tmp_path / "bin" / "socat").unlink()
    assert "socat is not installed" in protection_level(project, env).reason
    (tmp_path / "bin" / "socat").symlink_to(REAL["socat"])
    (project / ".claude" / "settings.local.json").write_text('{"sandbox": {"enabled": false}}')
    assert protection_level(project, env).level == HOOKS_ONLY and _starts(log) == 1


@needs_bwrap
def test_a_state_home_that_cannot_be_written_probes_every_time(sandboxed_project, tmp_path):
    project, home = sandboxed_project
    log = _counting_bwrap(tmp_path / "bin")
    (home / ".local").write_text("a file where the state folder would be")
    env = {"HOME": str(home), "PATH": str(tmp_path / "bin")}
    assert [protection_level(project, env).level for _ in range(2)] == [SANDBOXED] * 2 and _starts(log) == 2


def test_the_hooks_keep_every_tool_from_writing_the_file(git_project, tmp_path):
    from test_hooks import decide, tool_call

    home = tmp_path / "home"
    cache = home / ".local" / "state" / "clavain" / "sandbox-probe.json"
    forged = json.dumps({"version": 1, "works": {"a" * 64: time.time()}})
    for tool, tool_input in [("Write", {"file_path": str(cache), "content": forged}),
                             ("Bash", {"command": f"echo '{forged}' > {cache}"}),
                             ("Bash", {"command": "cp /tmp/x ~/.local/state/clavain/sandbox-probe.json"})]:
        r = decide("pre-tool-use", tool_call(git_project, tool, **tool_input), git_project, {"HOME": str(home)})
        assert r.returncode == 2 and "only they write it" in r.stderr, (tool_input, r.stderr)
