"""The README, the pages of docs/ and .env.example against the code: every setting, every
`/eadm` subcommand, the quick start, CI, the examples an admin copies (tenants file, advice
lines, signature check), and the front door itself: short, with every link leading somewhere.

An admin configures the bot from these files, so a setting or a command that exists in the
code but not here, or a default that differs, is a bug a test should catch. Each test reads the
page that holds what it checks.
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
DOCS = ROOT / "docs"


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


README = read(ROOT / "README.md")
ALERTS = read(DOCS / "alerts.md")
CONFIGURATION = read(DOCS / "configuration.md")
TENANTS = read(DOCS / "tenants.md")
RUNNERS = read(DOCS / "tickets-and-runners.md")
RUNNING = read(DOCS / "running.md")
SLACK_APP = read(DOCS / "slack-app.md")
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
README_MAX_LINES = 300
ENV_EXAMPLE = (ROOT / ".env.example").read_text(encoding="utf-8")
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
CI_RUN = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
COMMANDS_SOURCE = (ROOT / "bot" / "core" / "slash_command.py").read_text(encoding="utf-8")

ENV_NAME = re.compile(r"`([A-Z][A-Z0-9_]+)`")


def setting_names() -> list[str]:
    """Every environment variable the Settings class reads."""
    return [name.upper() for name in Settings.model_fields]


FENCE = re.compile(r"^```.*?^```[^\n]*$", re.MULTILINE | re.DOTALL)


def without_code(text: str) -> str:
    """`text` with its fenced code blocks blanked (same length), so that a `#` comment in a
    TOML or shell example is not taken for a heading."""
    return FENCE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def section(title: str, page: str) -> str:
    """A page's text under a heading (any level), up to the next heading of that level."""
    prose = without_code(page)
    match = re.search(rf"^(#+) {re.escape(title)}[ \t]*$", prose, re.MULTILINE)
    assert match, f"no page heading {title!r} where the test looks"
    level = len(match.group(1))
    end = re.compile(rf"^#{{1,{level}}} ", re.MULTILINE).search(prose, match.end())
    return page[match.end() : end.start() if end else len(page)]


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
    """docs/configuration.md's tables: variable name -> its default cell."""
    rows: dict[str, str] = {}
    for cells in table_rows(CONFIGURATION):
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


# -- (a) every setting, in .env.example and in docs/configuration.md ---------------------------


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


def test_every_setting_is_in_the_configuration_tables() -> None:
    rows = config_rows()
    missing = [name for name in setting_names() if name not in rows]
    assert not missing, f"docs/configuration.md's tables do not list {missing}"
    unknown = sorted(set(rows) - set(setting_names()))
    assert not unknown, f"docs/configuration.md's tables list {unknown}, which do not exist"


def test_the_configuration_page_gives_the_defaults_of_the_code() -> None:
    for name, cell in config_rows().items():
        default = Settings.model_fields[name.lower()].get_default(call_default_factory=True)
        if cell.startswith("—"):
            assert default in (None, []), f"{name}: the page has no default, the code {default!r}"
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


def test_every_eadm_subcommand_is_on_the_alerts_page() -> None:
    words = [w for w in subcommand_words() if w.isalpha()]
    assert {"status", "history", "rerun", "silence", "unsilence", "help"} <= set(words)
    missing = [w for w in words if not re.search(rf"/eadm {w}\b", ALERTS)]
    assert not missing, f"docs/alerts.md does not show /eadm {missing}"


def test_every_eadm_argument_keyword_is_on_the_alerts_page() -> None:
    words = argument_words()
    assert "public" in words
    missing = [w for w in words if f"`{w}`" not in ALERTS]
    assert not missing, f"docs/alerts.md does not name {missing}"


def test_every_eadm_example_in_the_docs_parses() -> None:
    tenants = ["bergen", "voss", "ulvik"]
    everywhere = "\n".join(read(path) for path in PAGES)
    examples = set(re.findall(r"`(/eadm(?: [^`]*)?)`", everywhere))
    concrete = [e for e in examples if not re.search(r"[\[<|]", e)]
    assert len(concrete) >= 3
    for example in concrete:
        parsed = slash_command.parse(example.removeprefix("/eadm"), tenants)
        assert not isinstance(parsed, slash_command.Usage), f"{example} is not a command: {parsed}"


# -- (c) the quick start, and (d) CI ----------------------------------------------------------


def quick_start_commands() -> list[str]:
    blocks = code_blocks(section("Quick start", README), "sh")
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
    (example,) = code_blocks(section("The tenants file", TENANTS), "toml")
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
    (example,) = code_blocks(section("Your own advice lines", CONFIGURATION), "toml")
    extra = tmp_path / "playbook-extra.toml"
    extra.write_text(example, encoding="utf-8")
    playbook = load_playbook(extra)
    advice = playbook.entry("Import HR", Condition.FAILED).advice("nb")
    assert any("IT-vakten" in line for line in advice.extra)


def test_the_signature_example_accepts_the_bots_signature() -> None:
    (example,) = code_blocks(section("Webhooks and their signature", RUNNERS), "python")
    namespace: dict[str, Any] = {}
    exec(compile(example, "tickets-and-runners.md", "exec"), namespace)
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
    table = section("What it watches", ALERTS).split(header, 1)[1].split("\n\n", 1)[0]
    rows = table_rows(table)
    assert len(rows) == 8
    for cells in rows:
        step = cells[0].split(" (", 1)[0]
        for cell, condition in zip(
            cells[1:], (Condition.FAILED, Condition.NOT_STARTED, Condition.STUCK), strict=True
        ):
            offered = "rerun" in playbook.entry(step, condition).actions
            said = re.search(r"\brerun\b", cell, re.IGNORECASE) is not None
            assert said == offered, f"{step} x {condition}: docs/alerts.md {cell!r}"
    for step in ("*", "Synchronization"):
        assert "rerun" not in playbook.entry(step, Condition.SAFETY_THRESHOLD).actions


def test_the_check_sample_adds_up() -> None:
    (sample,) = [
        b for b in code_blocks(section("eadm-bot check", RUNNING), "") if "checks failed" in b
    ]
    lines = sample.splitlines()
    labels = [line.split()[0] for line in lines[:-1]]
    summary = re.fullmatch(r"(\d+) of (\d+) checks failed \((\d+) skipped\).*", lines[-1])
    assert summary, lines[-1]
    failed, counted, skipped = (int(g) for g in summary.groups())
    assert failed == labels.count("FAIL"), f"{lines[-1]!r}: {labels.count('FAIL')} FAIL lines"
    assert skipped == labels.count("skip"), f"{lines[-1]!r}: {labels.count('skip')} skip lines"
    assert counted == len(labels) - skipped, f"{lines[-1]!r}: {len(labels) - skipped} checks"


def test_the_slack_app_page_names_the_manifests_scopes() -> None:
    text = section("Create the Slack app", SLACK_APP)
    named = set(re.findall(r"`([a-z]+:[a-z.]+|commands)`", text.strip().split("\n\n", 1)[0]))
    assert named == set(REQUIRED_SCOPES)


# -- (e) the README is a front door, and every link leads somewhere ---------------------------

INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK_TARGET = re.compile(r"\]\(([^)\s]+)\)")
REFERENCE_USE = re.compile(r"\]\[([^\]]+)\]")
REFERENCE_DEFINITION = re.compile(r"^\[([^\]]+)\]: \S+", re.MULTILINE)
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def prose(path: Path) -> str:
    """A page without its code, fenced or inline: what GitHub renders as links."""
    return INLINE_CODE.sub("", without_code(read(path)))


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: its text in lower case, punctuation dropped (letters of
    any alphabet, digits, `_` and `-` stay), spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link counts by its text
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading's anchor on a page; a repeated heading gets `-1`, `-2`, ... as on GitHub."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for match in re.finditer(r"^#{1,6} (.+?)\s*$", without_code(read(path)), re.MULTILINE):
        anchor = github_anchor(match.group(1))
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        found.add(anchor if count == 0 else f"{anchor}-{count}")
    return found


def relative_links(path: Path) -> list[str]:
    return [t for t in LINK_TARGET.findall(prose(path)) if not SCHEME.match(t)]


def test_the_readme_is_at_most_300_lines() -> None:
    lines = len(README.splitlines())
    assert lines <= README_MAX_LINES, (
        f"README.md has {lines} lines; the front door holds at most {README_MAX_LINES}: move "
        "reference text to a page of docs/ and link it from the README's index"
    )


def test_the_readme_links_every_page_of_docs_and_each_exists() -> None:
    linked = {(ROOT / t.split("#", 1)[0]).resolve() for t in relative_links(ROOT / "README.md")}
    pages = {path.resolve() for path in DOCS.glob("*.md")}
    assert len(pages) >= 10, "the reference is in docs/"
    unlinked = sorted(path.name for path in pages - linked)
    assert not unlinked, f"the README's index does not link docs/{unlinked}"
    missing = [p for p in linked if p.is_relative_to(DOCS) and not p.exists()]
    assert not missing, f"the README links pages that do not exist: {missing}"


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(path: Path) -> None:
    broken = []
    for target in relative_links(path):
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: {linked.name} has no heading with the anchor #{anchor}")
    assert not broken, f"{path.relative_to(ROOT)}: " + "; ".join(broken)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_reference_link_is_defined(path: Path) -> None:
    text = prose(path)
    undefined = set(REFERENCE_USE.findall(text)) - set(REFERENCE_DEFINITION.findall(text))
    assert not undefined, f"{path.relative_to(ROOT)} uses [{undefined}] without defining it"


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Quick start", "quick-start"),
        ("`/eadm` and the App Home tab", "eadm-and-the-app-home-tab"),
        (
            "The demo in a browser: try every button before installing anything",
            "the-demo-in-a-browser-try-every-button-before-installing-anything",
        ),
        ("Rerun: commands and webhooks", "rerun-commands-and-webhooks"),
        ("Detection and reminders (seconds)", "detection-and-reminders-seconds"),
        ("Health, readiness, metrics and logs", "health-readiness-metrics-and-logs"),
        ("Sources and the agent", "sources-and-the-agent"),
        ("Oppgaveplanlegging på norsk", "oppgaveplanlegging-på-norsk"),
        ("The [status contract](sources.md)", "the-status-contract"),
    ],
)
def test_anchors_are_made_as_github_makes_them(heading: str, anchor: str) -> None:
    assert github_anchor(heading) == anchor
