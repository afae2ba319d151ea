"""The package tools a project uses, found from its own files: the caches they write outside the project
and the registries they download from.

Under Claude Code's sandbox a Bash command writes only inside the project, and reaches only the domains
that ``sandbox.network.allowedDomains`` lists (a session that cannot ask the user refuses the others). So
``npm install`` or ``cargo build`` fail on their caches in the home folder and on their registries.
``setup sandbox`` lists both and, when asked, opens them (``--caches``, ``--registries``). Standard library only.

A tool counts when one of its files is at the top of the project or one folder down (a monorepo's
``web/package.json``). A tool's own variable moves its cache (``npm_config_cache``, ``CARGO_HOME``,
``GOCACHE`` ...); without it, the tool's default folder on this system.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Mapping, NamedTuple

from clavain.core.claudesettings import home

SKIP_DIRS = {"node_modules", "target", "vendor", "dist", "build", "venv"}


class Tool(NamedTuple):
    name: str
    marker: str                 # the project file that shows the tool is used, relative to the project
    caches: tuple[Path, ...]    # the folders it writes outside the project
    domains: tuple[str, ...]    # where it downloads from


def cache_home(env: Mapping[str, str], system: str) -> Path:
    """``$XDG_CACHE_HOME``, else ``~/Library/Caches`` on macOS and ``~/.cache`` elsewhere."""
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"])
    return home(env) / ("Library/Caches" if system == "darwin" else ".cache")


def _data_home(env: Mapping[str, str], system: str) -> Path:
    if env.get("XDG_DATA_HOME"):
        return Path(env["XDG_DATA_HOME"])
    return home(env) / ("Library" if system == "darwin" else ".local/share")


Folder = Callable[[Mapping[str, str], str], Path]


def _var_or(name: str, default: Folder) -> Folder:
    return lambda env, system: Path(env[name]) if env.get(name) else default(env, system)


def _home_sub(sub: str) -> Folder:
    return lambda env, system: home(env) / sub


def _cache_sub(sub: str) -> Folder:
    return lambda env, system: cache_home(env, system) / sub


def _xdg_cache_sub(sub: str) -> Folder:   # tools that use ~/.cache on macOS too
    return lambda env, system: Path(env.get("XDG_CACHE_HOME") or home(env) / ".cache") / sub


def _gomodcache(env: Mapping[str, str], system: str) -> Path:
    return Path(env.get("GOPATH") or home(env) / "go") / "pkg" / "mod"


NPM = ("registry.npmjs.org",)
PYPI = ("pypi.org", "files.pythonhosted.org")
MAVEN = ("repo.maven.apache.org",)
# (tool, the project files that show it, the folders it writes, the domains it downloads from)
TOOLS: tuple[tuple[str, tuple[str, ...], tuple[Folder, ...], tuple[str, ...]], ...] = (
    ("npm", ("package.json",), (_var_or("npm_config_cache", _home_sub(".npm")),), NPM),
    ("yarn", ("yarn.lock",), (_var_or("YARN_CACHE_FOLDER", _cache_sub("yarn")),), NPM + ("registry.yarnpkg.com",)),
    ("pnpm", ("pnpm-lock.yaml",), (lambda env, system: _data_home(env, system) / "pnpm", _cache_sub("pnpm")), NPM),
    ("bun", ("bun.lockb", "bun.lock"), (_var_or("BUN_INSTALL_CACHE_DIR", _home_sub(".bun/install/cache")),), NPM),
    ("cargo", ("Cargo.toml",), (_var_or("CARGO_HOME", _home_sub(".cargo")),),
     ("crates.io", "index.crates.io", "static.crates.io")),
    ("go", ("go.mod",), (_var_or("GOCACHE", _cache_sub("go-build")), _var_or("GOMODCACHE", _gomodcache)),
     ("proxy.golang.org", "sum.golang.org")),
    ("pip", ("pyproject.toml", "setup.py", "setup.cfg", "Pipfile", "requirements*.txt"),
     (_var_or("PIP_CACHE_DIR", _cache_sub("pip")),), PYPI),
    ("uv", ("uv.lock",), (_var_or("UV_CACHE_DIR", _xdg_cache_sub("uv")),), PYPI),
    ("poetry", ("poetry.lock",), (_var_or("POETRY_CACHE_DIR", _cache_sub("pypoetry")),), PYPI),
    ("maven", ("pom.xml",), (_home_sub(".m2"),), MAVEN),
    ("gradle", ("build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts"),
     (_var_or("GRADLE_USER_HOME", _home_sub(".gradle")),), MAVEN + ("plugins.gradle.org", "services.gradle.org")),
    ("composer", ("composer.json",), (_var_or("COMPOSER_CACHE_DIR", _cache_sub("composer")),), ("repo.packagist.org",)),
)


def _marker(project: Path, patterns: tuple[str, ...]) -> str:
    """The first file matching one of ``patterns`` at the top of ``project`` or one folder down ('' if none)."""
    folders = [project]
    try:
        folders += sorted(p for p in project.iterdir()
                          if p.is_dir() and not p.name.startswith(".") and p.name not in SKIP_DIRS)
    except OSError:
        pass
    for folder in folders:
        for pattern in patterns:
            found = [p for p in sorted(folder.glob(pattern)) if p.is_file()]
            if found:
                return found[0].relative_to(project).as_posix()
    return ""


def detect(project: Path, env: Mapping[str, str], system: str) -> list[Tool]:
    """The tools this project uses, in the table's order; a folder or domain shows under its first tool only."""
    out: list[Tool] = []
    seen_folders: set[Path] = set()
    seen_domains: set[str] = set()
    for name, patterns, folders, domains in TOOLS:
        marker = _marker(Path(project), patterns)
        if not marker:
            continue
        caches = tuple(dict.fromkeys(Path(os.path.normpath(folder(env, system))) for folder in folders))
        caches = tuple(p for p in caches if p not in seen_folders)
        fresh = tuple(d for d in domains if d not in seen_domains)
        seen_folders.update(caches)
        seen_domains.update(fresh)
        out.append(Tool(name, marker, caches, fresh))
    return out


def entry(path: Path, env: Mapping[str, str]) -> str:
    """How a folder is written in ``allowWrite``: ``~/x`` under the home folder, else absolute. Both forms
    work in project settings (measured with claude 2.1.197)."""
    try:
        return "~/" + Path(path).relative_to(home(env)).as_posix()
    except ValueError:
        return str(path)
