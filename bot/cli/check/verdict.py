"""A check's verdict on one item, the line it prints as, and the guard that turns a hang or an
unexpected error into a failed verdict instead of a crashed check."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass

ITEM_TIMEOUT = 30.0  # seconds any one item may take before it counts as failed


@dataclass(frozen=True, slots=True)
class Verdict:
    item: str
    ok: bool
    detail: str = ""
    fix: str | None = None
    skipped: bool = False  # not configured, or not checkable because something before failed
    warning: bool = False  # works, but something the admin should look at

    @property
    def label(self) -> str:
        if self.skipped:
            return "skip"
        if self.warning:
            return "warn"
        return "ok" if self.ok else "FAIL"

    def line(self) -> str:
        if self.ok and not self.skipped and not self.warning:
            text = self.item + (f" ({self.detail})" if self.detail else "")
        else:
            text = self.item + (f": {self.detail}" if self.detail else "")
            text += f" — {self.fix}" if self.fix else ""
        return f"  {self.label:<6}{text}"


def passed(item: str, detail: str = "") -> Verdict:
    return Verdict(item, True, detail)


def failed(item: str, detail: str, fix: str | None = None) -> Verdict:
    return Verdict(item, False, detail, fix)


def skipped(item: str, detail: str) -> Verdict:
    return Verdict(item, True, detail, skipped=True)


def warned(item: str, detail: str, fix: str | None = None) -> Verdict:
    """Not a failure (the bot runs), but what the admin should look at."""
    return Verdict(item, True, detail, fix, warning=True)


async def guarded(item: str, work: Awaitable[Verdict | list[Verdict]]) -> list[Verdict]:
    """Run one check; a hang or an unexpected error is a failed item, never a crashed check."""
    try:
        result = await asyncio.wait_for(work, ITEM_TIMEOUT)
    except TimeoutError:
        return [failed(item, f"no answer within {ITEM_TIMEOUT:.0f} s", "check the network path")]
    except Exception as exc:  # the admin needs a verdict, not a traceback
        return [failed(item, f"{type(exc).__name__}: {exc}")]
    return result if isinstance(result, list) else [result]
