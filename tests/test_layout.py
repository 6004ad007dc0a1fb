"""The suite's own layout, which `make test-fast` relies on: a test that runs eadm-bot or a
browser as a process lives in tests/e2e (and is marked e2e there), every other test in the
folder of the layer it tests; and the shared harness, testkit, stays out of the package."""

from __future__ import annotations

import ast
import fnmatch
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
LAYERS = {"core", "sources", "adapters", "store", "slack", "app", "runtime", "cli"}
FOLDERS = LAYERS | {"docs", "deploy", "e2e"}

# What starts eadm-bot or a browser as a process of its own: testkit's world and processes,
# `python -m bot.cli ...`, and Playwright's browser.
STARTERS = {"testkit.world": None, "testkit.e2e": {"BotProcess", "eadm_bot", "eadm_bot_running"}}


def starters(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module in STARTERS:
            names = STARTERS[node.module]
            found += [a.name for a in node.names if names is None or a.name in names]
        elif isinstance(node, ast.ImportFrom | ast.Import):
            modules = [node.module] if isinstance(node, ast.ImportFrom) else []
            modules += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            found += [m for m in modules if m and m.split(".")[0] == "playwright"]
        elif isinstance(node, ast.Constant) and node.value == "bot.cli":
            found.append("-m bot.cli")
    return found


def modules() -> list[Path]:
    return sorted(TESTS.rglob("test_*.py"))


def test_every_test_module_is_in_a_folder_of_the_house() -> None:
    stray = [
        path.relative_to(ROOT).as_posix()
        for path in modules()
        if path != Path(__file__).resolve() and path.parent.name not in FOLDERS
    ]
    assert stray == [], f"move these into one of tests/{{{','.join(sorted(FOLDERS))}}}/"


def test_every_layer_of_the_package_has_its_folder() -> None:
    layers = {path.name for path in (ROOT / "bot").iterdir() if (path / "__init__.py").exists()}
    assert layers - {"sim"} <= LAYERS, "a new layer of bot/ gets a folder of tests of its own"
    assert all((TESTS / name / "__init__.py").exists() for name in FOLDERS)


@pytest.mark.parametrize(
    "path",
    [p for p in modules() if p.parent.name != "e2e" and p != Path(__file__).resolve()],
    ids=lambda p: p.relative_to(TESTS).as_posix(),
)
def test_no_process_of_eadm_bot_outside_e2e(path: Path) -> None:
    found = starters(path)
    assert found == [], f"{path.name} starts a process ({found}): it belongs in tests/e2e"


def test_the_check_finds_what_starts_a_process(tmp_path: Path) -> None:
    module = tmp_path / "test_sneaky.py"
    module.write_text(
        "import subprocess, sys\n"
        "from playwright.async_api import async_playwright\n"
        "from testkit.e2e import BotProcess, eventually\n"
        "from testkit.world import World\n"
        "subprocess.run([sys.executable, '-m', 'bot.cli', 'check'])\n",
        encoding="utf-8",
    )
    found = starters(module)
    assert sorted(found) == ["-m bot.cli", "BotProcess", "World", "playwright.async_api"]


def test_testkit_is_never_shipped_nor_imported_by_the_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = config["tool"]["setuptools"]["packages"]["find"]["include"]
    assert not any(fnmatch.fnmatch(name, p) for name in ("testkit", "tests") for p in shipped)
    for path in [*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        leaks = {name for name in imported if name.split(".")[0] in ("testkit", "tests")}
        assert not leaks, f"{path.relative_to(ROOT)} imports {leaks}"
