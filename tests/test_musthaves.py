"""Must-Haves checked against real files: exports per language, contains, min_lines, key links."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from clavain.plan.model import Artifact, KeyLink, MustHaves
from clavain.run.musthaves import check_artifact, check_key_link, check_must_haves, summary

FILES = {
    "src/pkg/__init__.py": "from .core import Engine as Engine\n",
    "src/pkg/core.py": """
        import os
        from typing import Any
        __all__ = ["Engine", "build_snippet", "DYNAMIC"]
        LIMIT = 10
        count: int = 0
        class Engine:
            def method_not_top_level(self): ...
        async def fetch(): ...
        def build_snippet(body, summary): ...
        try:
            import fastjson as json_impl
        except ImportError:
            json_impl = None
        if os.name == "nt":
            WINDOWS_ONLY = True
    """,
    "src/pkg/broken.py": "def ok():\n    pass\ndef broken(:\n",
    "src/pkg/service.py": """
        from pkg.core import build_snippet
        from . import core
        def run(body):
            return build_snippet(body, None)
    """,
    "src/pkg/orphan.py": "def lonely():\n    return 1\n",
    "tests/test_orphan.py": "from pkg.orphan import lonely\n\ndef test_it():\n    assert lonely() == 1\n",
    "web/lib/delivery.ts": """
        export function send(msg: string) {}
        export const RETRIES = 3;
        export default class Mailer {}
        export interface Options { a: number }
        export type Id = string;
        export async function flush() {}
        const a = 1, b = 2;
        export { a, b as renamed };
    """,
    "web/lib/index.js": "module.exports = { start, stop };\nexports.restart = () => {};\n",
    "web/routes/broadcasts.ts": """
        import { send } from '../lib/delivery';
        const lib = require('../lib');
        export function fireNow() { lib.start(); return send('hi'); }
    """,
    "web/app.test.ts": "import Mailer from '@/lib/delivery'\nvi.mock('@/lib/delivery')\n",
    "go/server.go": """
        package server
        import (
            "fmt"
            db "example.com/app/internal/store"
        )
        type Server struct{}
        func New() *Server { return nil }
        func (s *Server) Serve() error { fmt.Println(db.Open()); return nil }
        func helper() {}
    """,
    "rs/lib.rs": """
        use crate::db::pool;
        mod cache;
        pub fn open() -> Pool { pool::get() }
        pub(crate) struct Pool;
        pub enum Mode { A }
        fn private_fn() {}
    """,
    "sh/deploy.sh": """
        #!/usr/bin/env bash
        source ./lib/common.sh
        deploy() { echo hi; }
        function rollback {
            :
        }
        deploy
    """,
    "docs/notes.md": "The TOP_RESULTS_COUNT constant lives here.\n",
    "index.html": "<script>const TOP_RESULTS_COUNT = 10;</script>\n",
}


@pytest.fixture
def tree(project: Path) -> Path:
    for rel, text in FILES.items():
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    (project / "assets").mkdir()
    return project


# path, exports, contains, min_lines, ok, missing, detail fragment
ARTIFACTS = [
    ("src/pkg/core.py", ["Engine", "fetch", "build_snippet(body, summary)", "LIMIT", "count", "DYNAMIC", "Any",
                         "json_impl", "WINDOWS_ONLY"], None, None, True, [], "exists, exports Engine, fetch, build_snippet"),
    ("src/pkg/core.py", ["method_not_top_level", "Engine", "nothing_here"], None, None, False,
     ["method_not_top_level", "nothing_here"], "missing exports: method_not_top_level, nothing_here"),
    ("src/pkg/__init__.py", ["Engine"], None, None, True, [], "exists, exports Engine"),
    ("src/pkg/broken.py", ["ok"], None, None, False, ["ok"], "broken.py:3: cannot parse Python"),
    ("web/lib/delivery.ts", ["send", "RETRIES", "Mailer", "Options", "Id", "flush", "a", "renamed"], None, None,
     True, [], "exports send, RETRIES"),
    ("web/lib/delivery.ts", ["b", "missingFn"], None, None, False, ["b", "missingFn"], "missing exports: b, missingFn"),
    ("web/lib/index.js", ["start", "stop", "restart"], None, None, True, [], "exports start, stop, restart"),
    ("go/server.go", ["New", "Serve", "Server"], None, None, True, [], "exports New, Serve, Server"),
    ("go/server.go", ["helper"], None, None, False, ["helper"], "Go exports start with a capital letter"),
    ("go/server.go", ["Missing"], None, None, False, ["Missing"], "missing exports: Missing"),
    ("rs/lib.rs", ["open", "Pool", "Mode"], None, None, True, [], "exports open, Pool, Mode"),
    ("rs/lib.rs", ["private_fn"], None, None, False, ["private_fn"], "missing exports: private_fn"),
    ("sh/deploy.sh", ["deploy", "rollback"], None, None, True, [], "exports deploy, rollback"),
    ("sh/deploy.sh", ["source"], None, None, False, ["source"], "missing"),
    ("docs/notes.md", ["TOP_RESULTS_COUNT"], None, None, True, [], "exports TOP_RESULTS_COUNT"),
    ("docs/notes.md", ["TOP_RESULTS"], None, None, False, ["TOP_RESULTS"], "missing"),
    ("index.html", [], "TOP_RESULTS_COUNT = 10", 1, True, [], "exists, contains 'TOP_RESULTS_COUNT = 10', "),
    ("index.html", [], "TOP_RESULTS_COUNT = 5", None, False, [], "does not contain 'TOP_RESULTS_COUNT = 5'"),
    ("src/pkg/core.py", [], None, 200, False, [], "fewer than 200"),
    ("src/pkg/nope.py", ["x"], None, None, False, ["x"] * 0, "src/pkg/nope.py does not exist"),
    ("assets", [], None, None, True, [], "is a folder"),
    ("assets", [], "x", None, False, [], "need a file"),
]


@pytest.mark.parametrize("path, exports, contains, min_lines, ok, missing, fragment", ARTIFACTS,
                         ids=[f"{a[0]}-{i}" for i, a in enumerate(ARTIFACTS)])
def test_artifacts(tree, path, exports, contains, min_lines, ok, missing, fragment):
    result = check_artifact(Artifact(path=path, exports=exports, contains=contains, min_lines=min_lines, line=4), tree)
    assert result.ok is ok
    assert result.missing_exports == missing
    assert fragment in result.detail
    assert result.line == 4


def link(frm, to, via=None, pattern=None):
    return KeyLink(**{"from": frm, "to": to, "via": via, "pattern": pattern, "line": 9})


# link, ok, import_found, call_found, detail fragment
KEY_LINKS = [
    (link("src/pkg/service.py", "src/pkg/core.py", pattern=r"build_snippet\("), True, True, True, "imports"),
    (link("src/pkg/service.py", "pkg.core", via="run() calls build_snippet(body, None)"), True, True, True,
     "a call named in via: run(, build_snippet("),
    (link("src/pkg/service.py", "src/pkg/orphan.py", pattern="lonely"), False, False, False, "does not import"),
    (link("src/pkg/orphan.py", "tests/test_orphan.py", pattern="return"), True, True, True, "the reverse direction"),
    (link("web/routes/broadcasts.ts", "web/lib/delivery.ts", via="fireNow() calls send(msg)"), True, True, True,
     "imports"),
    (link("web/routes/broadcasts.ts", "web/lib/index.js", pattern=r"lib\.start"), True, True, True, "imports"),
    (link("app.test.ts", "@/lib/delivery + @/lib/registry mocks", via="vi.mock", pattern=r"vi\.mock"), True, True,
     True, "found pattern"),
    (link("go/server.go", "internal/store/store.go", pattern=r"db\.Open\("), True, True, True, "imports"),
    (link("rs/lib.rs", "src/db/pool.rs", via="open() uses pool::get()"), True, True, True, "imports"),
    (link("sh/deploy.sh", "lib/common.sh", via="source"), True, True, True, "imports"),
    (link("web/routes/broadcasts.ts", "web/lib/delivery.ts", pattern="sendLater"), False, True, False,
     "no match for pattern"),
    (link("src/pkg/service.py", "pkg.core", pattern="build_snippet("), True, True, True, "not a valid regex"),
    (link("src/pkg/service.py", "pkg.core", via="keeps snippets short"), True, True, None, "imports"),
    (link("Main thread (searchConfig)", "Worker code", via="postMessage when starting"), None, None, None,
     "listed for the user to check"),
    (link("index.html", "Worker code (the constant)", via="postMessage when starting"), None, None, None,
     "nothing checkable"),
    (link("web/missing.ts", "web/lib/delivery.ts"), False, None, None, "web/missing.ts not found"),
]


@pytest.mark.parametrize("key, ok, import_found, call_found, fragment", KEY_LINKS,
                         ids=[f"{k[0].from_}->{k[0].to}-{i}" for i, k in enumerate(KEY_LINKS)])
def test_key_links(tree, key, ok, import_found, call_found, fragment):
    result = check_key_link(key, tree)
    assert (result.ok, result.import_found, result.call_found) == (ok, import_found, call_found), result.detail
    assert fragment in result.detail
    assert result.to_dict()["from"] == key.from_ and result.line == 9


def test_a_file_name_that_is_not_unique_is_ambiguous(tree):
    (tree / "other").mkdir()
    (tree / "other" / "app.test.ts").write_text("x\n")
    result = check_key_link(link("app.test.ts", "@/lib/delivery", pattern="vi"), tree)
    assert result.ok is False and "ambiguous" in result.detail


def test_report(tree):
    must = MustHaves(truths=["The grid collapses on mobile"],
                     artifacts=[Artifact(path="src/pkg/core.py", exports=["Engine"]),
                                Artifact(path="index.html", contains="TOP_RESULTS_COUNT")],
                     key_links=[link("src/pkg/service.py", "src/pkg/core.py", pattern="build_snippet"),
                                link("Main thread", "Worker", via="postMessage")])
    report = check_must_haves(must, tree)
    assert report.ok
    data = report.to_dict()
    assert data["ok"] is True and data["truths"] == ["The grid collapses on mobile"]
    assert [a["ok"] for a in data["artifacts"]] == [True, True]
    assert [k["ok"] for k in data["key_links"]] == [True, None]
    assert [a["what"] for a in data["artifacts"]] == ["src/pkg/core.py", "index.html"]
    assert data["key_links"][0]["what"] == "src/pkg/service.py -> src/pkg/core.py"
    must.artifacts.append(Artifact(path="gone.py"))
    assert not check_must_haves(must, tree).ok
    must.artifacts.pop()
    must.key_links.append(link("src/pkg/service.py", "src/pkg/core.py", pattern="never_called"))
    assert not check_must_haves(must, tree).ok


def test_no_must_haves_check_nothing_and_never_read_all_found(tree):
    report = check_must_haves(MustHaves(), tree).to_dict()
    assert report == {"ok": True, "artifacts": [], "key_links": [], "truths": [], "checked": 0, "found": 0,
                      "missing": 0, "not_checkable": 0}
    assert summary(report)["headline"] == "the plan states none; nothing was checked"
