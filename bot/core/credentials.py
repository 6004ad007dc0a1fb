"""Credentials kept out of what the bot shows and logs: a web address shown as its scheme and
host, a command shown with its secret-looking arguments masked, and the values either of them
hides, for the log filter to remove wherever else they turn up.

Automation services put their credential in the address itself (Azure Automation and Logic
Apps in `?code=` or `sig=`, a user and password before the host), and a command may carry a
password after `/P` (schtasks) or `-Password` (PowerShell). A person who sees a Rerun button's
confirmation, a thread or the audit needs to know where a request goes, never how it signs in.
Pure: no I/O; imports nothing of the project.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

MASK = "***"

# Arguments whose next argument is a secret: schtasks' /P, PowerShell's -Password, and the
# long forms command-line tools use. Compared without case, as both Windows and PowerShell do.
_FLAGS = frozenset({"/p", "-password", "--password", "-token", "--token", "-secret", "--secret"})
# The same flags with their value attached: `--password=x`, `-Password:x`, `/P:x`.
_ATTACHED = re.compile(r"(?i)^(/p|-{1,2}(?:password|token|secret))([:=])(.+)$")
# `name=value` where the name ends in a word that says secret (`code=`, `sig=`, `token=`,
# `key=`, `api_key=`, `access_token=`, `password=`), in a query string or an argument.
_NAMED = re.compile(
    r"(?i)(?<![a-z0-9])((?:[a-z0-9_.-]*[_.-])?(?:token|code|sig|signature|key|password|passwd|pwd"
    r"|secret))=([^&\s;,'\"]+)"
)
# The password of `scheme://user:password@host` inside any text.
_USERINFO = re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^/\s:@]*:)([^/\s@]+)(@)")


def safe_url(url: str) -> str:
    """The address as `scheme://host[:port]`: no user, password, path, query or fragment."""
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return MASK
    if not parts.scheme or not host:
        return MASK
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def url_secrets(url: str | None) -> list[str]:
    """What of an address must not reach a log: the whole address, its password (as written
    and decoded), its query string and each secret-looking value in it."""
    if not url:
        return []
    found = [url]
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return found
    if password:
        found += [password, unquote(password)]
    if parts.query:
        found.append(parts.query)
        for pair in parts.query.split("&"):
            name, _, value = pair.partition("=")
            if value and _NAMED.fullmatch(f"{name}=x"):
                found += [value, unquote(value)]
    return list(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class MaskedCommand:
    """A command as it may be shown, and the values masked in it."""

    argv: tuple[str, ...]
    hidden: tuple[str, ...]


def mask_argv(argv: Sequence[str]) -> MaskedCommand:
    """The command with each secret-looking argument replaced by `***`: the one after a
    password flag, a flag's attached value, `name=value` values whose name says secret, and
    the password in an address."""
    shown: list[str] = []
    hidden: list[str] = []
    secret_next = False
    for arg in argv:
        if secret_next:
            secret_next = False
            if arg:
                hidden.append(arg)
                shown.append(MASK)
                continue
        if arg.lower() in _FLAGS:
            secret_next = True
            shown.append(arg)
            continue
        attached = _ATTACHED.match(arg)
        if attached:
            hidden.append(attached.group(3))
            shown.append(f"{attached.group(1)}{attached.group(2)}{MASK}")
            continue
        shown.append(_mask_inline(arg, hidden))
    return MaskedCommand(tuple(shown), tuple(dict.fromkeys(hidden)))


def mask_text(text: str, hidden: Iterable[str] = ()) -> str:
    """`text` with the given values, then any `name=value` secret and address password, masked:
    for what a command or a receiver printed back (which may repeat its own arguments)."""
    for value in sorted({v for v in hidden if v}, key=len, reverse=True):
        text = text.replace(value, MASK)
    return _mask_inline(text, [])


def _mask_inline(text: str, hidden: list[str]) -> str:
    if "=" not in text and "@" not in text:
        return text

    def named(match: re.Match[str]) -> str:
        hidden.append(match.group(2))
        return f"{match.group(1)}={MASK}"

    def userinfo(match: re.Match[str]) -> str:
        hidden.append(match.group(2))
        return f"{match.group(1)}{MASK}{match.group(3)}"

    return _USERINFO.sub(userinfo, _NAMED.sub(named, text))
