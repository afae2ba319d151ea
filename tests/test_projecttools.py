"""Which package tools a project uses, the caches they write and the registries they reach."""

from __future__ import annotations

import pytest

from clavain.core.projecttools import detect, entry

CASES = [
    # (id, project files, env (HOME is added), system, [(tool, marker, cache entries, domains)])
    ("nothing", [], {}, "linux", []),
    ("npm", ["package.json"], {}, "linux", [("npm", "package.json", ["~/.npm"], ["registry.npmjs.org"])]),
    ("npm cache moved", ["package.json"], {"npm_config_cache": "/srv/npm"}, "linux",
     [("npm", "package.json", ["/srv/npm"], ["registry.npmjs.org"])]),
    ("yarn shares npm's registry", ["package.json", "yarn.lock"], {}, "linux",
     [("npm", "package.json", ["~/.npm"], ["registry.npmjs.org"]),
      ("yarn", "yarn.lock", ["~/.cache/yarn"], ["registry.yarnpkg.com"])]),
    ("cargo", ["Cargo.toml"], {}, "linux",
     [("cargo", "Cargo.toml", ["~/.cargo"], ["crates.io", "index.crates.io", "static.crates.io"])]),
    ("cargo home moved", ["Cargo.toml"], {"CARGO_HOME": "/opt/cargo"}, "linux",
     [("cargo", "Cargo.toml", ["/opt/cargo"], ["crates.io", "index.crates.io", "static.crates.io"])]),
    ("go: build cache and module cache", ["go.mod"], {}, "linux",
     [("go", "go.mod", ["~/.cache/go-build", "~/go/pkg/mod"], ["proxy.golang.org", "sum.golang.org"])]),
    ("go on macOS, GOPATH set", ["go.mod"], {"GOPATH": "/work/gopath"}, "darwin",
     [("go", "go.mod", ["~/Library/Caches/go-build", "/work/gopath/pkg/mod"], ["proxy.golang.org", "sum.golang.org"])]),
    ("GOCACHE", ["go.mod"], {"GOCACHE": "/var/cache/go"}, "linux",
     [("go", "go.mod", ["/var/cache/go", "~/go/pkg/mod"], ["proxy.golang.org", "sum.golang.org"])]),
    ("pyproject", ["pyproject.toml"], {}, "linux",
     [("pip", "pyproject.toml", ["~/.cache/pip"], ["pypi.org", "files.pythonhosted.org"])]),
    ("requirements file, XDG_CACHE_HOME", ["requirements-dev.txt"], {"XDG_CACHE_HOME": "/c"}, "linux",
     [("pip", "requirements-dev.txt", ["/c/pip"], ["pypi.org", "files.pythonhosted.org"])]),
    ("pip on macOS", ["setup.py"], {}, "darwin",
     [("pip", "setup.py", ["~/Library/Caches/pip"], ["pypi.org", "files.pythonhosted.org"])]),
    ("uv beside pip", ["pyproject.toml", "uv.lock"], {}, "darwin",
     [("pip", "pyproject.toml", ["~/Library/Caches/pip"], ["pypi.org", "files.pythonhosted.org"]),
      ("uv", "uv.lock", ["~/.cache/uv"], [])]),
    ("one folder down", ["web/package.json", "api/go.mod"], {}, "linux",
     [("npm", "web/package.json", ["~/.npm"], ["registry.npmjs.org"]),
      ("go", "api/go.mod", ["~/.cache/go-build", "~/go/pkg/mod"], ["proxy.golang.org", "sum.golang.org"])]),
    ("not two folders down, not in node_modules", ["a/b/package.json", "node_modules/go.mod", ".hidden/Cargo.toml"],
     {}, "linux", []),
    ("gradle and maven share a registry", ["pom.xml", "build.gradle.kts"], {}, "linux",
     [("maven", "pom.xml", ["~/.m2"], ["repo.maven.apache.org"]),
      ("gradle", "build.gradle.kts", ["~/.gradle"], ["plugins.gradle.org", "services.gradle.org"])]),
    ("a folder named like a marker is not one", ["package.json/x"], {}, "linux", []),
]


@pytest.mark.parametrize("files, env, system, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_detect(tmp_path, files, env, system, expected):
    project, home = tmp_path / "project", tmp_path / "home"
    project.mkdir()
    for name in files:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text("x\n")
    env = {"HOME": str(home), **env}
    got = [(t.name, t.marker, [entry(p, env) for p in t.caches], list(t.domains)) for t in detect(project, env, system)]
    assert got == expected
