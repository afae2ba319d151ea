"""requirements.lock: what the plugin's own environment installs. Checked offline, from its text."""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import re
import tomllib

import pytest

from conftest import ROOT

LOCK = ROOT / "requirements.lock"
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
PLATFORMS = ("linux-x86_64", "linux-aarch64", "macos-x86_64", "macos-arm64")


def _update_lock():
    loader = importlib.machinery.SourceFileLoader("update_lock", str(ROOT / ".ci" / "update-lock"))
    spec = importlib.util.spec_from_loader("update_lock", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def parse_lock(text: str) -> dict[str, dict]:
    """name -> {version, hashes, files} (file names are the comments after each requirement, in hash order)."""
    pins: dict[str, dict] = {}
    current = None
    for line in text.splitlines()[4:]:
        stripped = line.strip().rstrip("\\").strip()
        if not stripped:
            continue
        if stripped.startswith("# "):
            pins[current]["files"].append(stripped[2:])
        elif stripped.startswith("--hash=sha256:"):
            pins[current]["hashes"].append(stripped.split(":", 1)[1])
        else:
            name, version = stripped.split("==")
            current = re.sub(r"[-_.]+", "-", name).lower()
            pins[current] = {"version": version, "hashes": [], "files": []}
    return pins


def normal(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[<>=!~ \[;]", requirement)[0]).lower()


def test_the_first_line_is_the_digest_of_the_rest():
    """The environment is rebuilt when this id changes; an edit by hand that forgets it is caught here."""
    first, rest = LOCK.read_text().split("\n", 1)
    assert first == f"# lock-id {hashlib.sha256(rest.encode()).hexdigest()[:16]}"


def test_every_runtime_dependency_is_pinned_with_hashes_and_nothing_for_tests():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = parse_lock(LOCK.read_text())
    assert {normal(r) for r in project["dependencies"]} <= set(pins)
    assert {"pydantic-core", "markupsafe", "typing-extensions"} <= set(pins)  # what they pull in
    for name, pin in pins.items():
        assert re.fullmatch(r"\d+(\.\d+)+", pin["version"]), name
        assert pin["hashes"] and len(pin["hashes"]) == len(pin["files"]), name
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in pin["hashes"]), name
        assert all(f.endswith(".whl") and f.split("-")[1] == pin["version"] for f in pin["files"]), name
    # markdown-it-py is used only by a test: in the test extras, not in what users install
    assert "markdown-it-py" not in pins and "mdurl" not in pins
    assert any(normal(r) == "markdown-it-py" for r in project["optional-dependencies"]["test"])


@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_package_has_a_wheel_for_every_supported_python_and_platform(python, platform):
    fits = _update_lock().wheel_fits
    for name, pin in parse_lock(LOCK.read_text()).items():
        assert any(fits(f, python, platform) for f in pin["files"]), f"{name}: no wheel for {python} {platform}"


@pytest.mark.parametrize("filename,python,platform,fits", [
    ("pydantic_core-2.50.5-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "3.11", "linux-x86_64", True),
    ("pydantic_core-2.50.5-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "3.12", "linux-x86_64", False),
    ("pydantic_core-2.50.5-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "3.11", "macos-arm64", False),
    ("pyyaml-6.0.4-cp313-cp313-macosx_11_0_arm64.whl", "3.13", "macos-arm64", True),
    ("markupsafe-3.0.4-cp310-cp310-macosx_10_9_universal2.whl", "3.10", "macos-x86_64", True),
    ("pydantic_core-2.50.5-cp311-cp311-musllinux_1_1_aarch64.whl", "3.11", "linux-aarch64", True),
    ("x-1.0-cp38-abi3-manylinux_2_17_x86_64.whl", "3.12", "linux-x86_64", True),
    ("x-1.0-cp313-abi3-manylinux_2_17_x86_64.whl", "3.12", "linux-x86_64", False),
    ("jinja2-3.1.6-py3-none-any.whl", "3.10", "macos-arm64", True),
    ("pydantic_core-2.50.5-cp311-cp311-win_amd64.whl", "3.11", "linux-x86_64", False),
    ("pydantic_core-2.50.5-pp310-pypy310_pp73-manylinux_2_17_x86_64.whl", "3.10", "linux-x86_64", False),
    ("x-1.0.tar.gz", "3.11", "linux-x86_64", False),
])
def test_wheel_fits_reads_the_tags(filename, python, platform, fits):
    assert _update_lock().wheel_fits(filename, python, platform) is fits
