"""A plan file's text, or ``BadInput`` saying why it is not a readable text plan.

Apart from the reader (``clavain.plan.reader``), which parses what this reads: every ``clavain-cli run`` command
reads the plan to check its pinned digest, and the reader's modules cost more to import than that command's
own work.
"""

from __future__ import annotations

from clavain.core.errors import BadInput

TYPE_CHECKING = False   # not ``typing``'s
if TYPE_CHECKING:
    from pathlib import Path

MAX_BYTES = 16 * 1024 * 1024


def read_text(path: "Path") -> str:
    """The file as text, or ``BadInput`` saying why it is not a readable text plan."""
    shown = str(path)
    try:
        if not path.exists():
            raise BadInput("no such file", path=shown,
                           next_command=f"check the path (ls {path.parent}), then: clavain-cli plan validate <plan.md>")
        if path.is_dir():
            raise BadInput("is a folder, not a plan file", path=shown,
                           next_command=f"name the plan's markdown file: clavain-cli plan validate {path}/<plan>.md")
        if not path.is_file():
            raise BadInput("is not a regular file (a device, pipe or socket), not a plan", path=shown,
                           next_command="name the plan's markdown file: clavain-cli plan validate <plan>.md")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise BadInput(f"file is {size:,} bytes; a plan must be under {MAX_BYTES:,}", path=shown, line=1,
                           next_command="split the plan into smaller plans")
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read the file: {exc.strerror or exc}", path=shown,
                       next_command=f"check its permissions (ls -l {path})") from None
    if b"\x00" in data:
        raise BadInput("the file holds NUL bytes: it is binary, not a markdown plan", path=shown,
                       line=data.count(b"\n", 0, data.index(b"\x00")) + 1,
                       next_command="name the plan's markdown file: clavain-cli plan validate <plan.md>")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the plan as UTF-8", path=shown,
                       line=data.count(b"\n", 0, exc.start) + 1,
                       next_command=f"convert it (iconv -t UTF-8 {path}), then: clavain-cli plan validate {path}") from None
