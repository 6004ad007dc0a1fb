"""The log's filters on their own: the tenant lifted out of a line's prefix into a field of its
JSON, and every configured secret redacted wherever it appears. (The whole log of a running bot:
tests/e2e/test_readiness_metrics_and_log.py.)"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.core.settings import Settings
from bot.runtime.logs import JsonFormatter, RedactSecrets, TenantField, secrets_of

# Every secret the bot can be given, each a string that appears nowhere else.
BOT_TOKEN = "xoxb-logs-7c1d9e5b2a4f60"
EADM_TOKEN = "eadm-token-3f9a1c77e2b4"
RERUN_SECRET = "rerun-secret-81b2c4d6e8"
SMTP_PASSWORD = "smtp-pass-9d8c7b6a5f"
SECRETS = {
    "SLACK_BOT_TOKEN": BOT_TOKEN,
    "SLACK_SIGNING_SECRET": "signing-secret-0a1b2c3d4e",
    "EADM_API_TOKEN": EADM_TOKEN,
    "RERUN_WEBHOOK_SECRET": RERUN_SECRET,
    "TICKET_WEBHOOK_SECRET": "ticket-secret-5e6f7a8b9c",
    "SMTP_URL": f"smtp://eadm-bot:{SMTP_PASSWORD}@127.0.0.1:1",
}


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO, logging.Handler]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("tests.logs.capture")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield logger, stream, handler
    logger.removeHandler(handler)


def test_tenant_field_lifts_a_known_prefix_and_keeps_the_text(
    capture: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    logger, stream, handler = capture
    handler.addFilter(TenantField(["bergen", "oslo kommune"]))
    handler.setFormatter(JsonFormatter())
    logger.warning("[%s] Export AD failed", "bergen")
    logger.warning("[oslo kommune] spaces are fine in a known name")
    logger.info("[Errno 111] Connection refused")
    logger.info("[-] status by U1 on alert None: shown")
    logger.info("plain %s", "line", extra={"tenant": "oslo kommune"})
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [e.get("tenant") for e in entries] == [
        "bergen",
        "oslo kommune",
        None,
        None,
        "oslo kommune",
    ]
    assert entries[0]["message"] == "[bergen] Export AD failed"


def test_tenant_field_without_known_names_takes_a_single_word(
    capture: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    logger, stream, handler = capture
    handler.addFilter(TenantField())
    handler.setFormatter(JsonFormatter())
    logger.info("[demo-kommune] polled")
    logger.info("[Errno 111] refused")
    logger.info("[-] nobody")
    tenants = [json.loads(line).get("tenant") for line in stream.getvalue().splitlines()]
    assert tenants == ["demo-kommune", None, None]


def test_every_configured_secret_is_redacted_wherever_it_appears(
    capture: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        eadm_url="http://eadm.example",
        alert_channel="C1",
        database_url="postgresql://bot:db-pass-4242@db.example/eadm",
        **{name.lower(): value for name, value in SECRETS.items()},
    )
    found = set(secrets_of(settings))
    assert {*SECRETS.values(), SMTP_PASSWORD, "db-pass-4242"} <= found
    logger, stream, handler = capture
    handler.addFilter(RedactSecrets(found))
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.info("token %s and header Bearer %s", BOT_TOKEN, EADM_TOKEN)
    logger.warning("login to smtp failed with password %s", SMTP_PASSWORD)
    logger.error("connect to postgresql://bot:db-pass-4242@db.example failed")
    try:
        raise RuntimeError(f"webhook signed with {RERUN_SECRET}")
    except RuntimeError:
        logger.exception("rerun failed")
    out = stream.getvalue()
    for secret in (*found, SMTP_PASSWORD):
        assert secret not in out
    assert out.count("***") >= 5


def test_the_rerun_and_ticket_addresses_and_commands_are_secrets_too(
    capture: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    hook = "https://prod.logic.azure.com/workflows/1/run?api-version=2016-10-01&sig=c0deZm9v"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        eadm_url="http://eadm.example",
        alert_channel="C1",
        rerun_command='["schtasks", "/Run", "/S", "eadm01", "/P", "Hemmelig-42", "/TN", "eAdm"]',
        ticket_webhook_url="https://help.example.no/in?code=t1ck3tcode",
        zendesk_url=None,
    )
    found = set(secrets_of(settings))
    assert {"Hemmelig-42", "t1ck3tcode", "https://help.example.no/in?code=t1ck3tcode"} <= found
    found |= set(secrets_of(settings.model_copy(update={"rerun_webhook_url": hook})))
    assert "c0deZm9v" in found and hook in found
    logger, stream, handler = capture
    handler.addFilter(RedactSecrets(found))
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.info("POST %s failed", hook)
    logger.info("a library said: bad signature c0deZm9v")
    logger.info("ran schtasks /Run /S eadm01 /P Hemmelig-42 /TN eAdm")
    logger.info("ticket to https://help.example.no/in?code=t1ck3tcode")
    out = stream.getvalue()
    for secret in ("c0deZm9v", "Hemmelig-42", "t1ck3tcode", "/workflows/1/run"):
        assert secret not in out


def test_no_identity_number_reaches_the_log_whoever_logs_it(
    capture: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    from testkit.identity import spaced, synthetic_fnr

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        eadm_url="http://eadm.example",
        alert_channel="C1",
        redact_patterns='["EMP-\\\\d{5}"]',
    )
    number = synthetic_fnr(4, 4, 1944)
    logger, stream, handler = capture
    handler.addFilter(RedactSecrets(secrets_of(settings), settings.redactor))
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.error("[t] unknown state %r for step %s", "frozen", f"Export {spaced(number)}")
    try:
        raise ValueError(f"bad row for {number} (EMP-12345)")
    except ValueError:
        logger.exception("a library failed")
    out = stream.getvalue()
    assert number not in out and number[:6] not in out and "EMP-12345" not in out
    assert "Export [fnr]" in out and "bad row for [fnr] ([redacted])" in out
