"""Durable writes: atomic replace keeps modes; appends never glue a record onto a torn line."""

from __future__ import annotations

import os
import stat

import pytest

from clavain.core.files import append_line, atomic_write


@pytest.mark.parametrize("before, expected", [
    ("", "new\n"),
    ("a\n", "a\nnew\n"),
    ('{"time":', '{"time":\nnew\n'),          # a writer died mid-line: the new record stands on its own line
])
def test_append_line_starts_on_its_own_line(tmp_path, before, expected):
    path = tmp_path / "log.jsonl"
    if before:
        path.write_text(before)
    append_line(path, "new")
    assert path.read_text() == expected


def test_atomic_write_keeps_an_existing_mode_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "plan.md"
    path.write_text("old\n")
    os.chmod(path, 0o640)
    atomic_write(path, "new\n")
    assert path.read_text() == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["plan.md"]


def test_atomic_write_creates_a_new_file_with_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "sub" / "new.json", b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "sub" / "new.json").stat().st_mode) == 0o644
