"""A long list of models kept in parts: content-addressed files, each read only when one of its items is asked for.

A run's state holds every task of its plan, and a plan may hold thousands; a command a model runs per task reads
and changes one or two of them. ``Parts`` keeps such a list as a header plus one file per part:

    {"ids": ["1", "2", ...], "marks": "DDrpp...", "parts": [[64, "<sha256>"], [66, "<sha256>"], ...]}

``ids`` are the items' keys in order (left out when the owner knows them: a run's batches list its tasks in
order), ``marks`` one character of each item (what the owner asks of every item without reading it: a task's
status), ``parts`` how many items each part holds and the sha256 of its file
``<sha256>.json`` in the store's folder: a JSON list of the items' dumps. The header is what a model's dump holds
for the list (``clavain.core.model.Stored``), so the digest of a state covers every part by its digest.

Reading an item reads its part, checked against its digest. Changing one (``own``) copies its part first (copy on
write: a copy of the list shares the parts it did not change), and the next ``header`` gives that part its new
text and digest, which ``write`` stores; ``stale`` names the files a written state no longer refers to.
Standard library only.
"""

from __future__ import annotations

import os
from bisect import bisect_right

from clavain.core.digest import sha256_hex
from clavain.core.errors import EnvironmentProblem
from clavain.core.files import atomic_write, sync_folder
from clavain.core.model import Stored, dumps

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Iterator, Optional


_HEX = frozenset("0123456789abcdef")


class PartDamaged(EnvironmentProblem):
    """A part file is missing or does not hold what its digest says."""


class Store:
    """A folder of content-addressed files ``<sha256>.json``."""

    def __init__(self, folder: str) -> None:
        self.folder = os.fspath(folder)

    def path(self, sha: str) -> str:
        """The file of ``sha``: 64 lower-case hex digits, nothing else (a digest read from a file never names a
        path outside the folder)."""
        if len(sha) != 64 or not _HEX.issuperset(sha):
            raise PartDamaged(f"{sha[:80]!r} is not a digest of a stored part", path=self.folder,
                              next_command="clavain-cli run status   (rebuilds the state from the journal)")
        return os.path.join(self.folder, f"{sha}.json")

    def read(self, sha: str) -> str:
        """The text stored under ``sha``, checked against it; raises ``PartDamaged``."""
        try:
            with open(self.path(sha), "rb") as fh:
                raw = fh.read()
        except OSError as exc:
            raise PartDamaged(f"a stored part of the run is missing ({exc.strerror})", path=self.path(sha),
                              next_command="clavain-cli run status   (rebuilds the state from the journal)") from None
        if sha256_hex(raw) != sha:
            raise PartDamaged("a stored part of the run does not match its digest (edited outside clavain-cli run)",
                              path=self.path(sha),
                              next_command="clavain-cli run status   (rebuilds the state from the journal)")
        return raw.decode("utf-8")

    def intact(self, sha: str) -> bool:
        try:
            with open(self.path(sha), "rb") as fh:
                return sha256_hex(fh.read()) == sha
        except (OSError, PartDamaged):
            return False

    def has(self, sha: str) -> bool:
        try:
            return os.path.exists(self.path(sha))
        except PartDamaged:
            return False

    def write(self, texts: "dict[str, str]") -> None:
        """Store each text under its digest: every file fsync'd and renamed into place, then the folder fsync'd
        once (so the caller's next write, which refers to them, finds them after a crash)."""
        if not texts:
            return
        for sha, text in texts.items():   # a temporary file of its own (O_EXCL), never written through a link
            atomic_write(self.path(sha), text, sync_folder=False)
        sync_folder(self.folder)

    def remove(self, shas) -> None:
        for sha in shas:
            try:
                os.unlink(self.path(sha))
            except (OSError, PartDamaged):
                pass


def sizes(count: int, size: int, breaks: "Optional[list]" = None) -> list[int]:
    """Part sizes for ``count`` items: at least ``size`` each (the last may be smaller), a part ending only where
    ``breaks`` changes from one item to the next (a task's batch: a batch is never cut in two)."""
    out, n = [], 0
    for i in range(count):
        if n >= size and (breaks is None or breaks[i] != breaks[i - 1]):
            out.append(n)
            n = 0
        n += 1
    if n:
        out.append(n)
    return out


class _Part:
    __slots__ = ("sha", "items", "text")

    def __init__(self, sha: "Optional[str]", items: "Optional[list]", text: "Optional[str]" = None) -> None:
        self.sha, self.items, self.text = sha, items, text


class Parts(Stored):
    """A list of models kept in parts (see the module's docstring)."""

    def __init__(self, model, parts: list, starts: list, ids: list, marks: str, store: "Optional[Store]",
                 mark: "Callable", key: "Callable", keyed: bool, stored: "Optional[set]" = None) -> None:
        self.model, self.store, self.mark, self.key, self.keyed = model, store, mark, key, keyed
        self._parts, self._starts, self._ids, self._marks = parts, starts, ids, marks
        self._own: set[int] = set()           # parts this list copied (changed since it was read or built)
        self._index: "Optional[dict]" = None
        self._lookups = 0
        self._stored = stored if stored is not None else set()   # digests of the parts its store holds for it

    # -- building ---------------------------------------------------------------------------------------------
    @classmethod
    def of(cls, model, items: list, part_sizes: list, key: "Callable", mark: "Callable", *,
           keyed: bool = True) -> "Parts":
        """Every item in memory; every part new (written by the next ``header`` and ``write``). ``mark``: one
        character per item; ``keyed``: the header lists the items' keys (else its owner gives them, ``ids``)."""
        parts, starts, at = [], [], 0
        for n in part_sizes:
            parts.append(_Part(None, list(items[at:at + n])))
            starts.append(at)
            at += n
        made = cls(model, parts, starts, [key(i) for i in items], "".join(mark(i) for i in items), None, mark, key,
                   keyed)
        made._own = set(range(len(parts)))
        return made

    @classmethod
    def from_header(cls, model, header, store: Store, mark: "Callable", key: "Callable",
                    ids: "Optional[list]" = None) -> "Parts":
        """The list a header describes, its parts read from ``store`` when asked for (``ids``: the items' keys, when
        the header does not list them). Raises ValueError when the header does not have the shape ``header``
        writes."""
        keys = {"marks", "parts"} if ids is not None else {"ids", "marks", "parts"}
        if not isinstance(header, dict) or set(header) != keys:
            raise ValueError("not a header of parts")
        ids = header["ids"] if ids is None else ids
        marks, listed = header["marks"], header["parts"]
        if not (isinstance(ids, list) and isinstance(marks, str) and isinstance(listed, list)
                and len(ids) == len(marks)):
            raise ValueError("not a header of parts")
        parts, starts, at = [], [], 0
        for item in listed:
            if not (isinstance(item, list) and len(item) == 2 and type(item[0]) is int and item[0] > 0
                    and isinstance(item[1], str) and len(item[1]) == 64 and _HEX.issuperset(item[1])):
                raise ValueError("not a header of parts")
            parts.append(_Part(item[1], None))
            starts.append(at)
            at += item[0]
        if at != len(ids):
            raise ValueError("the parts do not hold the items the header lists")
        return cls(model, parts, starts, ids, marks, store, mark, key, "ids" in keys, {p.sha for p in parts})

    # -- reading ----------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._ids)

    def _part_of(self, i: int) -> int:
        return bisect_right(self._starts, i) - 1

    def _span(self, p: int) -> "tuple[int, int]":
        return self._starts[p], self._starts[p + 1] if p + 1 < len(self._starts) else len(self._ids)

    def _items(self, p: int) -> list:
        part = self._parts[p]
        if part.items is None:
            data = _loads(self.store.read(part.sha)) if self.store is not None else None
            first, end = self._span(p)
            if not isinstance(data, list) or len(data) != end - first or not all(isinstance(d, dict) for d in data):
                data = None
            else:
                trusted = self.model.trusted
                items = [trusted(d) for d in data]
                if [self.key(t) for t in items] != self._ids[first:end]:
                    data = None
            if data is None:
                raise PartDamaged("a stored part of the run does not hold the items its header lists",
                                  path=self.store.path(part.sha) if self.store else None,
                                  next_command="clavain-cli run status   (rebuilds the state from the journal)")
            part.items = items
        return part.items

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self._ids)))]
        if i < 0:
            i += len(self._ids)
        if not 0 <= i < len(self._ids):
            raise IndexError(i)
        p = self._part_of(i)
        return self._items(p)[i - self._starts[p]]

    def __iter__(self) -> "Iterator":
        for p in range(len(self._parts)):
            yield from self._items(p)

    def __eq__(self, other) -> bool:
        if isinstance(other, (Parts, list)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Parts({len(self._ids)} items in {len(self._parts)} parts)"

    def ids(self) -> list:
        return self._ids

    def position(self, key) -> int:
        """Where the item with this key sits (KeyError when none does). The first few look-ups scan the keys;
        after them an index is built (a command asks for a handful of tasks of thousands)."""
        if self._index is None:
            if self._lookups < 8:
                self._lookups += 1
                try:
                    return self._ids.index(key)
                except ValueError:
                    raise KeyError(key) from None
            self._index = {k: i for i, k in enumerate(self._ids)}
        return self._index[key]

    def marks(self) -> str:
        """Every item's mark (one character each), those of changed items taken again."""
        if self._own:
            marks = list(self._marks)
            for p in self._own:
                first, end = self._span(p)
                marks[first:end] = [self.mark(t) for t in self._parts[p].items]
            self._marks = "".join(marks)
        return self._marks

    def missing(self) -> list:
        """Digests of the parts its store does not hold (each checked by a stat, not read)."""
        return [p.sha for p in self._parts if p.items is None and not self.store.has(p.sha)]

    def damaged(self) -> list:
        """Digests of the parts its store does not hold as they are (each read and checked)."""
        return [p.sha for p in self._parts if p.items is None and not self.store.intact(p.sha)]

    # -- changing ---------------------------------------------------------------------------------------------
    def copy(self) -> "Parts":
        """A list sharing every part with this one until one of them changes it."""
        if self._own:
            self.header()   # a changed part gets its text here, so neither list changes the other's
        return Parts(self.model, list(self._parts), self._starts, self._ids, self._marks, self.store, self.mark,
                     self.key, self.keyed, self._stored)

    def own(self, i: int):
        """The item at ``i``, copied into a part of this list's own, to be changed."""
        p = self._part_of(i)
        if p not in self._own:
            self._parts[p] = _Part(None, list(self._items(p)))
            self._own.add(p)
        items = self._parts[p].items
        j = i - self._starts[p]
        items[j] = items[j].model_copy()
        return items[j]

    # -- writing ----------------------------------------------------------------------------------------------
    def header(self) -> dict:
        """What a dump holds for the list; parts changed since the last call get their text and digest."""
        marks = self.marks()
        for p in sorted(self._own):
            part = self._parts[p]
            part.text = dumps([t.model_dump() for t in part.items])
            part.sha = sha256_hex(part.text.encode("utf-8"))
        self._own = set()
        listed = [[self._span(p)[1] - self._starts[p], part.sha] for p, part in enumerate(self._parts)]
        return {"ids": self._ids, "marks": marks, "parts": listed} if self.keyed else {"marks": marks, "parts": listed}

    def write(self, store: Store) -> "set[str]":
        """Store the parts ``header`` gave new texts; from now on read them from ``store``. Returns the digests
        of the parts the store held for this list before that it no longer refers to (``Store.remove`` them once
        what refers to the new parts is written)."""
        if self._own:
            self.header()
        store.write({p.sha: p.text for p in self._parts if p.text is not None})
        for p in self._parts:
            p.text = None
        self.store = store
        now = {p.sha for p in self._parts}
        stale = self._stored - now
        self._stored = now
        return stale


def _loads(text: str):
    from clavain.core.chain import loads

    try:
        return loads(text)
    except ValueError:
        return None
