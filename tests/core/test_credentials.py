"""Credentials out of sight, row by row: an address shown as scheme and host, a command's
secret-looking arguments masked, and what the log filter is given to remove."""

from __future__ import annotations

import pytest

from bot.core.credentials import MASK, mask_argv, mask_text, safe_url, url_secrets

LOGIC_APP = (
    "https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke"
    "?api-version=2016-10-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=Zm9vYmFyYmF6"
)


@pytest.mark.parametrize(
    "url,shown",
    [
        ("https://hooks.example.no/eadm/rerun?code=s3cret", "https://hooks.example.no"),
        ("https://user:pa%40ss@runbook.example.no/x#frag", "https://runbook.example.no"),
        (LOGIC_APP, "https://prod-12.westeurope.logic.azure.com:443"),
        ("http://127.0.0.1:8731/api/v1/sync/run", "http://127.0.0.1:8731"),
        ("http://[::1]:9000/p?token=x", "http://[::1]:9000"),
        ("not a url", MASK),
        ("http://host:99999/", MASK),
    ],
)
def test_an_address_shows_its_scheme_and_host_only(url: str, shown: str) -> None:
    assert safe_url(url) == shown


def test_the_log_filter_gets_the_whole_address_and_its_secret_parts() -> None:
    found = url_secrets("https://bot:pa%40ss@x.example.no/hook?code=abc123&api-version=2016-10-01")
    assert found[0].startswith("https://bot:pa%40ss@")
    assert {"pa%40ss", "pa@ss", "abc123", "code=abc123&api-version=2016-10-01"} <= set(found)
    assert "2016-10-01" not in found, "a value whose name says no secret is left alone"
    assert "Zm9vYmFyYmF6" in url_secrets(LOGIC_APP)
    assert url_secrets(None) == [] and url_secrets("") == []


@pytest.mark.parametrize(
    "argv,shown,hidden",
    [
        (
            ["schtasks", "/Run", "/S", "eadm01", "/U", "svc", "/P", "Hemmelig1", "/TN", "eAdm"],
            ["schtasks", "/Run", "/S", "eadm01", "/U", "svc", "/P", MASK, "/TN", "eAdm"],
            ["Hemmelig1"],
        ),
        (
            ["pwsh", "-File", "run.ps1", "-Password", "p@ss word"],
            ["pwsh", "-File", "run.ps1", "-Password", MASK],
            ["p@ss word"],
        ),
        (
            ["tool", "--password=xyz", "-Password:abc"],
            ["tool", f"--password={MASK}", "-Password:***"],
            ["xyz", "abc"],
        ),
        (["tool", "/p", "lower"], ["tool", "/p", MASK], ["lower"]),
        (
            ["curl", "-X", "POST", "https://x.example.no/run?code=abc&sig=def&v=1"],
            ["curl", "-X", "POST", f"https://x.example.no/run?code={MASK}&sig={MASK}&v=1"],
            ["abc", "def"],
        ),
        (["ssh", "svc:pw@eadm01"], ["ssh", "svc:pw@eadm01"], []),  # no scheme: a host, not a URL
        (["run", "https://svc:pw@eadm01/x"], ["run", f"https://svc:{MASK}@eadm01/x"], ["pw"]),
        (
            ["run", "api_key=k1", "token=t1", "monkey=m", "zipcode=1"],
            ["run", f"api_key={MASK}", f"token={MASK}", "monkey=m", "zipcode=1"],
            ["k1", "t1"],
        ),
        (
            ["schtasks", "/Run", "/TN", "eAdm synkronisering"],
            ["schtasks", "/Run", "/TN", "eAdm synkronisering"],
            [],
        ),
        (["cmd", "/P"], ["cmd", "/P"], []),  # a flag at the end has nothing to mask
    ],
)
def test_a_commands_secret_looking_arguments_are_masked(
    argv: list[str], shown: list[str], hidden: list[str]
) -> None:
    masked = mask_argv(argv)
    assert list(masked.argv) == shown
    assert list(masked.hidden) == hidden


def test_what_a_command_printed_is_masked_too() -> None:
    echoed = "ERROR: logon failure for svc with password Hemmelig1; see https://u:pw@h/?code=c0de"
    text = mask_text(echoed, ["Hemmelig1"])
    assert "Hemmelig1" not in text and "c0de" not in text and ":pw@" not in text
    assert text.count(MASK) == 3
    assert mask_text("nothing secret here") == "nothing secret here"
