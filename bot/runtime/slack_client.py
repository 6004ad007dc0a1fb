"""The bot's Slack Web API client, instrumented: every call counted by outcome, and slack_sdk's
own waits for Retry-After counted too.

One client serves delivery, handlers, people look-ups and readiness, so Slack trouble shows in
/metrics whoever met it, even where the caller shrugs it off.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.core import metrics
from bot.core.settings import Settings


class _CountedRateLimitWaits(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's wait for Retry-After, counted: these waits never reach our own code."""

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is not None:
            metrics.RATE_LIMIT_WAITS.inc()
        await super().prepare_for_next_attempt_async(
            state=state, request=request, response=response, error=error
        )


class _MeteredWebClient(AsyncWebClient):
    """Counts every Web API call by outcome, whoever made it (delivery, handlers, people,
    readiness), so Slack trouble shows in /metrics even where the caller shrugs it off."""

    async def api_call(
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict[str, Any] | None = None,
        data: Any = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        auth: dict[str, Any] | None = None,
    ) -> AsyncSlackResponse:
        try:
            response = await super().api_call(
                api_method,
                http_verb=http_verb,
                files=files,
                data=data,
                params=params,
                json=json,
                headers=headers,
                auth=auth,
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            metrics.SLACK_ERRORS.labels(method=api_method, error=error).inc()
            raise
        except (aiohttp.ClientError, TimeoutError, OSError):
            metrics.SLACK_ERRORS.labels(method=api_method, error="unreachable").inc()
            raise
        metrics.SLACK_CALLS.labels(method=api_method).inc()
        return response


def slack_client(settings: Settings) -> AsyncWebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = _MeteredWebClient(token=token, base_url=settings.slack_api_url, timeout=15)
    # Short rate-limit waits are honoured inside the call; longer outages go back to the outbox.
    client.retry_handlers.append(_CountedRateLimitWaits(max_retry_count=1))
    return client
