"""The README and .env.example against the code: every setting, every `/eadm` subcommand, the
quick start, CI, and the examples an admin copies (tenants file, advice lines, signature check).

An admin configures the bot from these two files, so a setting or a command that exists in the
code but not here, or a default that differs, is a bug a test should catch.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.runners import runner_for, signature_headers
from bot.adapters.ticket_targets import target_for
from bot.cli.check import REQUIRED_SCOPES
from bot.core import slash_command
from bot.core.domain import Condition
from bot.core.playbook import load_playbook
from bot.core.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
ENV_EXAMPLE = (ROOT / ".env.example").read_text(encoding="utf-8")
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
CI_RUN = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
COMMANDS_SOURCE = (ROOT / "bot" / "core" / "slash_command.py").read_text(encoding="utf-8")

ENV_NAME = re.compile(r"`([A-Z][A-Z0-9_]+)`")


def setting_names() -> list[str]:
    """Every environment variable the Settings class reads."""
    return [name.upper() for name in Settings.model_fields]


def section(title: str) -> str:
    """The README text under a heading (any level), up to the next heading of that level."""
    match = re.search(rf"^(#+) {re.escape(title)}\s*$", README, re.MULTILINE)
    assert match, f"the README has no heading {title!r}"
    level = len(match.group(1))
    rest = README[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def table_rows(text: str) -> list[list[str]]:
    """The body rows of every Markdown table in `text`, as lists of cells."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("|") or set(line) <= set("|- "):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] in ("variable", "step", "command", "condition", "request"):
            continue  # a header row
        rows.append(cells)
    return rows


def config_rows() -> dict[str, str]:
    """README configuration table: variable name -> its default cell."""
    rows: dict[str, str] = {}
    for cells in table_rows(section("Configuration")):
        for name in ENV_NAME.findall(cells[0]):
            assert name not in rows, f"{name} is in the configuration tables twice"
            rows[name] = cells[1]
    return rows


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in setting_names():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return tmp_path


# -- (a) every setting, in .env.example and in the README -------------------------------------


def test_every_setting_is_in_env_example() -> None:
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE, re.MULTILINE))
    missing = [name for name in setting_names() if name not in listed]
    assert not missing, f".env.example does not list {missing}"
    unknown = sorted(listed - set(setting_names()))
    assert not unknown, f".env.example lists {unknown}, which the Settings class does not read"


def test_env_example_values_are_the_defaults(clean_env: Path) -> None:
    from_file = Settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert from_file.model_dump() == defaults.model_dump()


def test_every_setting_is_in_the_readme_configuration_table() -> None:
    rows = config_rows()
    missing = [name for name in setting_names() if name not in rows]
    assert not missing, f"the README's configuration tables do not list {missing}"
    unknown = sorted(set(rows) - set(setting_names()))
    assert not unknown, f"the README's configuration tables list {unknown}, which do not exist"


def test_the_readme_gives_the_defaults_of_the_code() -> None:
    for name, cell in config_rows().items():
        default = Settings.model_fields[name.lower()].get_default(call_default_factory=True)
        if cell.startswith("—"):
            assert default in (None, []), f"{name}: the README has no default, the code {default!r}"
            continue
        shown = re.fullmatch(r"`([^`]+)`", cell)
        assert shown, f"{name}: give the default as `value` or —, not {cell!r}"
        if isinstance(default, int | float):
            assert float(shown.group(1)) == float(default), name
        else:
            assert shown.group(1) == str(default), name


# -- (b) every /eadm subcommand ---------------------------------------------------------------


def _parse_function() -> ast.FunctionDef:
    tree = ast.parse(COMMANDS_SOURCE)
    return next(
        node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "parse"
    )


def _strings(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [s for item in node.elts for s in _strings(item)]
    return []


def subcommand_words() -> list[str]:
    """Every word `parse` accepts as a subcommand (`sub == ...`, `sub in (...)`)."""
    words = []
    for node in ast.walk(_parse_function()):
        if (
            isinstance(node, ast.Compare)
            and isinstance(node.left, ast.Name)
            and node.left.id == "sub"
        ):
            words += [w for c in node.comparators for w in _strings(c)]
    return words


def argument_words() -> list[str]:
    """Keywords among a subcommand's arguments, such as `public`."""
    words = []
    for node in ast.walk(_parse_function()):
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Call):
            words += [w for c in node.comparators for w in _strings(c)]
    return words


def test_every_eadm_subcommand_is_in_the_readme() -> None:
    words = [w for w in subcommand_words() if w.isalpha()]
    assert {"status", "history", "rerun", "silence", "unsilence", "help"} <= set(words)
    missing = [w for w in words if not re.search(rf"/eadm {w}\b", README)]
    assert not missing, f"the README does not show /eadm {missing}"


def test_every_eadm_argument_keyword_is_in_the_readme() -> None:
    words = argument_words()
    assert "public" in words
    missing = [w for w in words if f"`{w}`" not in README]
    assert not missing, f"the README does not name {missing}"


def test_the_readmes_eadm_examples_parse() -> None:
    tenants = ["bergen", "voss", "ulvik"]
    examples = set(re.findall(r"`(/eadm(?: [^`]*)?)`", README))
    concrete = [e for e in examples if not re.search(r"[\[<|]", e)]
    assert len(concrete) >= 3
    for example in concrete:
        parsed = slash_command.parse(example.removeprefix("/eadm"), tenants)
        assert not isinstance(parsed, slash_command.Usage), f"{example} is not a command: {parsed}"


# -- (c) the quick start, and (d) CI ----------------------------------------------------------


def quick_start_commands() -> list[str]:
    blocks = code_blocks(section("Quick start"), "sh")
    assert blocks, "the quick start has no sh block"
    lines = [line.split("#", 1)[0].strip() for line in blocks[0].splitlines()]
    return [line for line in lines if line]


def makefile_targets() -> set[str]:
    return set(re.findall(r"^([A-Za-z][\w-]*):", MAKEFILE, re.MULTILINE))


def test_the_quick_start_is_two_makefile_targets() -> None:
    found = quick_start_commands()
    assert found == ["make demo", "make test"], f"the quick start runs {found}"
    for command in found:
        target = command.removeprefix("make ")
        assert target in makefile_targets(), f"the Makefile has no target {target!r}"


def test_ci_runs_the_readmes_test_command() -> None:
    test_command = next(c for c in quick_start_commands() if c.endswith(" test"))
    steps = [
        line.strip()
        for line in CI_RUN.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert test_command in steps, f".ci/run does not run {test_command!r}"


# -- the examples an admin copies -------------------------------------------------------------


def test_the_tenants_example_is_a_valid_tenants_file(clean_env: Path) -> None:
    (example,) = code_blocks(section("Many tenants"), "toml")
    config = clean_env / "tenants.toml"
    config.write_text(example, encoding="utf-8")
    settings = load_settings(
        _env_file=None,
        slack_bot_token="xoxb-docs",
        slack_signing_secret="docs",
        eadm_bot_config=config,
    )
    kinds: dict[str, tuple[str, str]] = {}
    for tenant in settings.tenants:
        runner_for(tenant)  # raises for a rerun that is set up wrong
        target_for(tenant)  # and so does a ticket target
        kinds[tenant.name] = (tenant.rerun.kind, tenant.ticket.kind)
    assert kinds["bergen"] == ("command", "zendesk")
    assert kinds["voss"] == ("webhook", "email")
    assert kinds["ulvik"] == ("none", "none")


def test_the_advice_lines_example_loads(tmp_path: Path) -> None:
    (example,) = code_blocks(section("Your own advice lines"), "toml")
    extra = tmp_path / "playbook-extra.toml"
    extra.write_text(example, encoding="utf-8")
    playbook = load_playbook(extra)
    advice = playbook.entry("Import HR", Condition.FAILED).advice("nb")
    assert any("IT-vakten" in line for line in advice.extra)


def test_the_signature_example_accepts_the_bots_signature() -> None:
    (example,) = code_blocks(section("Webhooks and their signature"), "python")
    namespace: dict[str, Any] = {}
    exec(compile(example, "README.md", "exec"), namespace)
    verified = namespace["verified"]
    secret, body = "s3cret", b'{"action": "rerun", "tenant": "bergen"}'
    headers = signature_headers(secret, body)
    assert verified(secret.encode(), headers, body)
    assert not verified(secret.encode(), headers, body + b" ")
    assert not verified(b"other", headers, body)
    stale = {**headers, "X-Eadm-Timestamp": str(int(headers["X-Eadm-Timestamp"]) - 301)}
    assert not verified(secret.encode(), stale, body)


def test_the_rerun_column_follows_the_playbook() -> None:
    playbook = load_playbook()
    header = "| step | `failed` | `not_started` | `stuck` |"
    table = section("What it watches").split(header, 1)[1].split("\n\n", 1)[0]
    rows = table_rows(table)
    assert len(rows) == 8
    for cells in rows:
        step = cells[0].split(" (", 1)[0]
        for cell, condition in zip(
            cells[1:], (Condition.FAILED, Condition.NOT_STARTED, Condition.STUCK), strict=True
        ):
            offered = "rerun" in playbook.entry(step, condition).actions
            said = re.search(r"\brerun\b", cell, re.IGNORECASE) is not None
            assert said == offered, f"{step} x {condition}: README {cell!r}"
    for step in ("*", "Synchronization"):
        assert "rerun" not in playbook.entry(step, Condition.SAFETY_THRESHOLD).actions


def test_the_check_sample_adds_up() -> None:
    (sample,) = [b for b in code_blocks(section("eadm-bot check"), "") if "checks failed" in b]
    lines = sample.splitlines()
    labels = [line.split()[0] for line in lines[:-1]]
    summary = re.fullmatch(r"(\d+) of (\d+) checks failed \((\d+) skipped\).*", lines[-1])
    assert summary, lines[-1]
    failed, counted, skipped = (int(g) for g in summary.groups())
    assert failed == labels.count("FAIL"), f"{lines[-1]!r}: {labels.count('FAIL')} FAIL lines"
    assert skipped == labels.count("skip"), f"{lines[-1]!r}: {labels.count('skip')} skip lines"
    assert counted == len(labels) - skipped, f"{lines[-1]!r}: {len(labels) - skipped} checks"


def test_the_readme_names_the_manifests_scopes() -> None:
    text = section("Create the Slack app")
    named = set(re.findall(r"`([a-z]+:[a-z.]+|commands)`", text.strip().split("\n\n", 1)[0]))
    assert named == set(REQUIRED_SCOPES)
