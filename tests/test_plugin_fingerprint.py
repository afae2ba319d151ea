"""The plugin's fingerprint: the same digest over names and bytes as ever, kept with the files' stat so that a
command whose plugin was not touched reads no file, and read again whenever any file was."""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest

from clavain.core.digest import sha256_hex
from clavain.run import plugin
from conftest import ROOT

PATTERNS = ("bin/clavain-cli", "hooks/*", "clavain/*.py", "clavain/*/*.py", "clavain/run/templates/*")
AN_HOUR_AGO = time.time() - 3600


@pytest.fixture
def copy(tmp_path):
    """The plugin's files, copied, their times an hour back (out of the racy window)."""
    root = tmp_path / "plugin"
    for part in ("bin", "hooks", "clavain"):
        shutil.copytree(ROOT / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    for folder, _, names in os.walk(root):
        for name in names:
            os.utime(os.path.join(folder, name), (AN_HOUR_AGO, AN_HOUR_AGO))
    return root


def by_glob(root) -> str:
    """The digest as the fingerprint was first defined: pathlib's globs, sorted paths, names and bytes."""
    found = sorted({p for pattern in PATTERNS for p in root.glob(pattern) if p.is_file()})
    return sha256_hex(b"\n".join(p.relative_to(root).as_posix().encode() + b"\0" + sha256_hex(p.read_bytes()).encode()
                                 for p in found))


def test_the_digest_is_the_one_over_names_and_bytes(copy):
    (copy / "hooks" / ".hidden").write_text("x")   # dot files count, as pathlib's glob finds them
    os.utime(copy / "hooks" / ".hidden", (AN_HOUR_AGO, AN_HOUR_AGO))
    assert plugin.fingerprint(copy)["digest"] == by_glob(copy)
    assert [p.relative_to(copy).as_posix() for p in plugin.files(copy)][:2] == ["bin/clavain-cli", "clavain/__init__.py"]


def test_an_untouched_plugin_is_read_from_the_kept_digest_and_any_change_reads_it_again(copy):
    real = plugin.fingerprint(copy)["digest"]
    cache = copy.joinpath(*plugin.KEPT)
    kept = json.loads(cache.read_text())
    cache.write_text(json.dumps({**kept, "fingerprint": {**kept["fingerprint"], "digest": "kept"}}))
    assert plugin.fingerprint(copy)["digest"] == "kept"   # the kept value is what is returned
    target = copy / "clavain" / "run" / "rules.py"
    target.write_bytes(target.read_bytes().replace(b"def ", b"def  ", 1))
    os.utime(target, (AN_HOUR_AGO, AN_HOUR_AGO))   # even with its old times: size and ctime moved
    changed = plugin.fingerprint(copy)["digest"]
    assert changed not in ("kept", real) and changed == by_glob(copy)


def test_a_same_size_change_with_its_times_put_back_is_still_seen(copy):
    """mtime set back and the size unchanged: the ctime moved, and no user can set that back."""
    plugin.fingerprint(copy)
    target = copy / "hooks" / "clavain-hook"
    data = bytearray(target.read_bytes())
    data[-2] = ord("#") if data[-2] != ord("#") else ord(" ")
    time.sleep(0.01)
    target.write_bytes(bytes(data))
    os.utime(target, (AN_HOUR_AGO, AN_HOUR_AGO))
    assert plugin.fingerprint(copy)["digest"] == by_glob(copy)


def test_new_bytecode_is_read_again(copy):
    """Bytecode is fingerprinted too: a .pyc written after the digest was kept moves the listing."""
    import sys

    plugin.fingerprint(copy)
    pyc = copy / "clavain" / "run" / "__pycache__" / f"rules.{sys.implementation.cache_tag}.pyc"
    pyc.parent.mkdir(exist_ok=True)
    pyc.write_bytes(b"bytecode")
    os.utime(pyc, (AN_HOUR_AGO, AN_HOUR_AGO))
    assert "clavain/run/__pycache__/" + pyc.name in plugin.fingerprint(copy)["compiled"]


def test_a_file_changed_just_now_is_read_again_and_nothing_kept(copy):
    cache = copy.joinpath(*plugin.KEPT)
    (copy / "clavain" / "cli.py").write_text((copy / "clavain" / "cli.py").read_text() + "\n")
    assert plugin.fingerprint(copy)["digest"] == by_glob(copy)
    assert not cache.exists()


def test_a_plugin_folder_where_nothing_can_be_kept_is_fingerprinted_all_the_same(copy):
    """Where the digest cannot be kept (here its file's name is taken by a folder; in Claude Code's sandbox the
    plugin folder is read-only), it is computed every time, without an error."""
    copy.joinpath(*plugin.KEPT).mkdir(parents=True)
    assert plugin.fingerprint(copy)["digest"] == by_glob(copy) == plugin.fingerprint(copy)["digest"]
