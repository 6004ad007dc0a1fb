"""The value rules both schemas share (the environment's and a tenant's): web addresses,
commands, lists of Slack users, who an alert mentions. Each is a function (tested table-style)
and an annotated type the schemas put on their fields, so a rule is written once however many
fields follow it. A rule raises ValueError with what is wrong; the schemas' callers add the fix.
"""

from __future__ import annotations

import json
import re
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator
from pydantic_settings import NoDecode

Ending = Literal["no_slash", "as_given", "slash"]


def http_url(value: str, *, ending: Ending = "no_slash") -> str:
    """A web address the bot calls or links to. `no_slash` drops a trailing slash so paths can
    be joined on; `as_given` keeps an exact page address (a trailing slash or a fragment may
    matter to a portal); `slash` makes a base that relative API paths resolve against."""
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    if ending == "no_slash":
        return value.rstrip("/")
    if ending == "slash" and not value.endswith("/"):
        return value + "/"
    return value


Url = Annotated[str, AfterValidator(http_url)]
PageUrl = Annotated[str, AfterValidator(partial(http_url, ending="as_given"))]
BaseUrl = Annotated[str, AfterValidator(partial(http_url, ending="slash"))]


def _unless_empty(value: str) -> str:
    return http_url(value) if value else value


# A tenant's own eAdm addresses, where "" means unset: the environment's tenant has no EADM_URL
# when it reads only the sync task.
UrlOrEmpty = Annotated[str, AfterValidator(_unless_empty)]


def parse_argv(value: Any) -> Any:
    """A command given as a JSON list of strings (as the environment carries it)."""
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"is not valid JSON ({exc.msg})") from None
        if not isinstance(value, list) or not value or not all(isinstance(p, str) for p in value):
            raise ValueError("must be a non-empty JSON list of strings")
    return value


# NoDecode: the environment's text reaches parse_argv as it is, not as pydantic-settings' JSON.
Argv = Annotated[list[str] | None, NoDecode, BeforeValidator(parse_argv)]


def user_list(value: Any) -> Any:
    """Slack user IDs as a list, or one string separated by commas or semicolons."""
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    return value


Users = Annotated[list[str], NoDecode, BeforeValidator(user_list)]

_MENTION = re.compile(r"S[A-Z0-9]{2,}|[UW][A-Z0-9]{2,}|here|channel|none")


def normalize_mention(value: str | None) -> str | None:
    """Who a new alert notifies: a user group ID (S...), a user ID (U.../W...), here or channel
    (a leading @ or ! is forgiven), or "none" (a tenant's way to turn the global one off).
    Raises ValueError naming what is accepted."""
    if value is None:
        return None
    word = value.strip().lstrip("@!")
    if word.lower() in ("here", "channel", "none"):
        word = word.lower()
    if not _MENTION.fullmatch(word):
        raise ValueError(
            f"{value!r} is not a Slack user group ID (S...), a user ID (U... or W...), "
            "here or channel"
        )
    return word


Mention = Annotated[str, AfterValidator(normalize_mention)]
