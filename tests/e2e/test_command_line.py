"""The `eadm-bot` command as an admin meets it, each run as its own process: errors that say
what to fix, `check`, `db upgrade`, and the demo. (The demo's page: test_demo_page_command.py.)"""

from __future__ import annotations

from pathlib import Path

from testkit.e2e import eadm_bot


def test_run_without_settings_names_every_missing_one_with_its_fix(tmp_path: Path) -> None:
    result = eadm_bot("run", cwd=tmp_path)
    assert result.returncode == 2
    err = result.stderr
    assert "Traceback" not in err
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "EADM_URL", "ALERT_CHANNEL"):
        assert f"  - {name}: " in err, err
    assert "OAuth & Permissions" in err


def test_run_with_wrong_values_says_which_and_how(tmp_path: Path) -> None:
    result = eadm_bot(
        "run",
        cwd=tmp_path,
        SLACK_BOT_TOKEN="xoxp-user-token",
        SLACK_SIGNING_SECRET="s",
        EADM_URL="eadm.example.no",
        ALERT_CHANNEL="#eadm",
        POLL_INTERVAL="soon",
        RERUN_COMMAND="schtasks /Run",
    )
    assert result.returncode == 2
    err = result.stderr
    assert "EADM_URL: must start with http:// or https://" in err
    assert "POLL_INTERVAL:" in err and "RERUN_COMMAND: is not valid JSON" in err


def test_simulator_lists_its_scenarios(tmp_path: Path) -> None:
    result = eadm_bot("simulator", "--scenario", "list", cwd=tmp_path)
    assert result.returncode == 0
    assert "safety-threshold" in result.stdout and "stuck:export-ad" in result.stdout
    wrong = eadm_bot("simulator", "--scenario", "nope", cwd=tmp_path)
    assert wrong.returncode == 2 and "unknown scenario 'nope'" in wrong.stderr


def test_the_demo_shows_an_alert_and_its_resolution_in_the_terminal(tmp_path: Path) -> None:
    result = eadm_bot("demo", "--speed", "600", "--duration", "14", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Export AD failed · demo-kommune" in out
    assert "[Rerun sync] [Open support ticket] [Acknowledge]" in out
    assert "Resolved: Export AD failed" in out
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == [], "the demo leaves the working folder as it was"


def test_db_upgrade_applies_the_migrations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    result = eadm_bot("db", "upgrade", cwd=tmp_path, DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    assert "database is up to date" in result.stdout
    import sqlalchemy as sa
    from alembic.script import ScriptDirectory

    from bot.store.repo import MIGRATIONS

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == head
    engine.dispose()


# -- `eadm-bot check` ------------------------------------------------------------------------


def test_check_runs_from_the_command_line(tmp_path: Path) -> None:
    done = eadm_bot("check", cwd=tmp_path, SLACK_BOT_TOKEN="not-a-bot-token")
    assert done.returncode == 2, done.stderr
    assert "  FAIL  SLACK_BOT_TOKEN: does not look like a bot token" in done.stdout
