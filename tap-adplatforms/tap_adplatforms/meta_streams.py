"""Meta Marketing API (Graph API): ad accounts, campaigns and campaign insights by day.

Short windows (at most :data:`SYNC_MAX_DAYS` days) are read with a synchronous
``GET act_<id>/insights``; longer ones through an async report run (``POST
act_<id>/insights``, poll the run until ``Job Completed``, read its ``/insights``).
Every answer's ``x-business-use-case-usage`` header is read: past the
``meta_usage_pause_percent`` threshold the tap pauses before the next call, and a
throttling error (80004, 17, 4, 613) waits out ``estimated_time_to_regain_access``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import requests
from singer_sdk.authenticators import BearerTokenAuthenticator
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.pagination import BaseAPIPaginator
from typing_extensions import override

from tap_adplatforms.client import AccountReader, PlatformSource, RateLimitedError, body, setting
from tap_adplatforms.records import Field, RowShape, count, day, decimal, money
from tap_adplatforms.windows import Window

SYNC_MAX_DAYS = 8  # a first sync's recent window (the account days of the last 7 x 24 hours) reads at once
PAGE_LIMIT = 500
MAX_POLLS = 360
THROTTLE_CODES = frozenset({4, 17, 32, 613, 80000, 80004})
ACCOUNT_STATUS = {
    1: "ACTIVE",
    2: "DISABLED",
    3: "UNSETTLED",
    7: "PENDING_RISK_REVIEW",
    8: "PENDING_SETTLEMENT",
    9: "IN_GRACE_PERIOD",
    100: "PENDING_CLOSURE",
    101: "CLOSED",
    201: "ANY_ACTIVE",
    202: "ANY_CLOSED",
}
INSIGHT_FIELDS = (
    "campaign_id",
    "campaign_name",
    "spend",
    "impressions",
    "clicks",
    "actions",
    "action_values",
    "account_currency",
    "attribution_setting",
)


class MetaCursorPaginator(BaseAPIPaginator[str | None]):
    """Graph API paging: follow ``paging.cursors.after`` while ``paging.next`` exists."""

    def __init__(self) -> None:
        super().__init__(None)

    @override
    def get_next(self, response: requests.Response) -> str | None:
        paging = body(response).get("paging") or {}
        return (paging.get("cursors") or {}).get("after") if paging.get("next") else None


class MetaReader(AccountReader):
    """A Graph API endpoint of one ad account."""

    platform = "meta"
    url_setting = "meta_api_url"
    records_jsonpath = "$.data[*]"

    @property
    @override
    def url_base(self) -> str:
        return f"{super().url_base}/{setting(self.config, 'meta_api_version')}"

    @property
    @override
    def authenticator(self) -> BearerTokenAuthenticator:
        return BearerTokenAuthenticator(token=self.config["meta_access_token"])

    @override
    def get_new_paginator(self) -> BaseAPIPaginator | None:
        return MetaCursorPaginator()

    @override
    def validate_response(self, response: requests.Response) -> None:
        super().validate_response(response)
        usage = self._usage(response)
        if response.status_code < 400:
            self._pace(usage)
            return
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            error = None
        if not isinstance(error, dict):
            error = {}
        code, message = error.get("code"), error.get("message", response.reason)
        if code in THROTTLE_CODES:
            minutes = usage[1] if usage else 0
            raise RateLimitedError(
                self.problem(
                    f"throttled by Meta (error {code}: {message})",
                    "the tap waits and retries; lower the number of runs or accounts per hour if it keeps happening",
                ),
                response,
                max(minutes, 1) * 60.0,
            )
        if response.status_code >= 500 or error.get("is_transient"):
            raise RetriableAPIError(
                self.problem(f"temporary Meta error {code}: {message}", "the tap retries"), response
            )
        raise self.fatal(f"Meta refused the request (error {code}: {message})", _fix(code, error))

    def _usage(self, response: requests.Response) -> tuple[int, int] | None:
        """The highest usage percentage and regain-access minutes for this account."""
        header = response.headers.get("x-business-use-case-usage")
        if not header:
            return None
        try:
            entries = json.loads(header).get(self.account_id) or []
        except (ValueError, AttributeError):
            return None
        percent = max(
            (max(e.get("call_count", 0), e.get("total_cputime", 0), e.get("total_time", 0)) for e in entries), default=0
        )
        minutes = max((e.get("estimated_time_to_regain_access", 0) for e in entries), default=0)
        return int(percent), int(minutes)

    def _pace(self, usage: tuple[int, int] | None) -> None:
        threshold = int(setting(self.config, "meta_usage_pause_percent"))
        if usage is None or usage[0] < threshold:
            return
        share = (usage[0] - threshold + 1) / max(100 - threshold + 1, 1)
        self.pause(
            max(share * 60.0, usage[1] * 60.0),
            self.problem(
                f"API usage at {usage[0]}% of Meta's business-use-case limit",
                "slowing down before Meta blocks the account",
            ),
        )


def _fix(code: int | None, error: dict[str, Any]) -> str:
    if code == 190:
        return "create a new system-user access token with the ads_read permission and set meta_access_token"
    if code == 100 and error.get("error_subcode") == 33:
        return "check meta_account_ids, and assign the ad account to the token's system user in Meta Business Settings"
    if code == 2635:
        return "set meta_api_version to a supported Graph API version (v21.0 or newer)"
    if code in {10, 200, 294}:
        return "grant the token's user the ads_read permission on this ad account"
    return "check the settings for this account; report the message if it persists"


class MetaAccountReader(MetaReader):
    """``GET act_<id>``."""

    path = "/act_{account_id}"
    records_jsonpath = "$"

    @override
    def get_new_paginator(self) -> BaseAPIPaginator | None:
        return None

    @override
    def get_url_params(self, context: Any, next_page_token: Any) -> dict[str, Any]:
        return {"fields": "id,account_id,name,currency,timezone_name,account_status"}


class MetaCampaignsReader(MetaReader):
    """``GET act_<id>/campaigns``."""

    path = "/act_{account_id}/campaigns"

    @override
    def get_url_params(self, context: Any, next_page_token: Any) -> dict[str, Any]:
        return {"fields": "id,name,status,objective", "limit": PAGE_LIMIT, "after": next_page_token}


class MetaInsightRowsReader(MetaReader):
    """A reader of insights rows: their ``actions`` and ``action_values`` become the value of the
    meta_conversion_action entry (``None`` without one; a list of another shape stays as sent)."""

    @override
    def post_process(self, row: Any, context: Any = None) -> Any:
        if not isinstance(row, Mapping):
            return row
        action = str(setting(self.config, "meta_conversion_action"))
        return {
            **row,
            "actions": _action(row.get("actions"), action),
            "action_values": _action(row.get("action_values"), action),
        }


def _insight_params(context: dict[str, Any]) -> dict[str, Any]:
    return {
        "level": "campaign",
        "time_increment": 1,
        "time_range": json.dumps({"since": context["since"], "until": context["until"]}, separators=(",", ":")),
        "fields": ",".join(INSIGHT_FIELDS),
        "limit": PAGE_LIMIT,
    }


class MetaInsightsReader(MetaInsightRowsReader):
    """``GET act_<id>/insights`` (synchronous, short windows)."""

    path = "/act_{account_id}/insights"

    @override
    def get_url_params(self, context: Any, next_page_token: Any) -> dict[str, Any]:
        return {**_insight_params(context), "after": next_page_token}


class MetaReportRunStarter(MetaReader):
    """``POST act_<id>/insights``: starts an async report run."""

    path = "/act_{account_id}/insights"
    http_method = "POST"
    payload_as_json = False
    records_jsonpath = "$"

    @override
    def get_new_paginator(self) -> BaseAPIPaginator | None:
        return None

    @override
    def prepare_request_payload(self, context: Any, next_page_token: Any) -> dict[str, Any]:
        return _insight_params(context)


class MetaReportRunReader(MetaAccountReader):
    """``GET <report_run_id>``: the run's status."""

    path = "/{report_run_id}"

    @override
    def get_url_params(self, context: Any, next_page_token: Any) -> dict[str, Any]:
        return {}


class MetaReportResultsReader(MetaInsightRowsReader):
    """``GET <report_run_id>/insights``: a finished run's rows."""

    path = "/{report_run_id}/insights"

    @override
    def get_url_params(self, context: Any, next_page_token: Any) -> dict[str, Any]:
        return {"limit": PAGE_LIMIT, "after": next_page_token}


def _account_status(status: Any) -> str | None:
    """Meta's ``account_status`` code as its name (an unknown code as written)."""
    return None if status is None else ACCOUNT_STATUS.get(status, str(status))


class MetaSource(PlatformSource):
    """Meta ad accounts, campaigns and daily campaign insights."""

    platform = "meta"
    history_months = 37
    shapes: ClassVar[Mapping[str, RowShape]] = {
        "ad_accounts": RowShape(
            {
                "name": Field("name"),
                "currency": Field("currency", required=True),
                "timezone": Field("timezone_name", required=True),
                "status": Field("account_status", _account_status),
            },
            left_out=frozenset({"id", "account_id"}),
        ),  # the account's id, as configured
        "campaigns": RowShape(
            {
                "campaign_id": Field("id", required=True),
                "name": Field("name"),
                "status": Field("status"),
                "objective": Field("objective"),
            }
        ),
        "ad_spend_daily": RowShape(
            {
                "campaign_id": Field("campaign_id", required=True),
                "campaign_name": Field("campaign_name"),
                "date": Field("date_start", day, required=True),
                "spend": Field("spend", money),
                "impressions": Field("impressions", count),
                "clicks": Field("clicks", count),
                "conversions": Field("actions", decimal),
                "conversion_value": Field("action_values", money),
                "attribution_setting": Field("attribution_setting"),
            },
            left_out=frozenset({"date_stop", "account_currency"}),
        ),  # one day per row; the account's currency
    }

    def read_account(self, account_id: str) -> Any:
        """Read ``act_<id>``."""
        return next(iter(self.reader(MetaAccountReader, account_id, "account").rows({"account_id": account_id})))

    def read_campaigns(self, account_id: str) -> Iterable[Any]:
        """Read ``act_<id>/campaigns``."""
        return self.reader(MetaCampaignsReader, account_id, "campaigns").rows({"account_id": account_id})

    def read_spend(self, account_id: str, window: Window) -> Iterable[Any]:
        """Insights by campaign and day, synchronously or through a report run."""
        context = {"account_id": account_id, "since": window.since.isoformat(), "until": window.until.isoformat()}
        if window.days <= SYNC_MAX_DAYS:
            return self.reader(MetaInsightsReader, account_id, "insights").rows(context)
        return self._report_rows(account_id, context)

    def _report_rows(self, account_id: str, context: dict[str, Any]) -> Iterable[dict[str, Any]]:
        starter = self.reader(MetaReportRunStarter, account_id, "report_runs")
        for attempt in (1, 2):
            run_id = str(next(iter(starter.rows(context)))["report_run_id"])
            status = self._wait(account_id, run_id)
            if status == "Job Completed":
                reader = self.reader(MetaReportResultsReader, account_id, "report_results")
                yield from reader.rows({**context, "report_run_id": run_id})
                return
            starter.logger.warning(
                "%s",
                starter.problem(
                    f"report run {run_id} for {context['since']}..{context['until']} ended as '{status}'",
                    "starting it again" if attempt == 1 else "giving up",
                ),
            )
        raise starter.fatal(
            f"Meta could not finish the insights report for {context['since']}..{context['until']}",
            "retry later; if it keeps failing, lower meta_lookback_days",
        )

    def _wait(self, account_id: str, run_id: str) -> str:
        reader = self.reader(MetaReportRunReader, account_id, "report_run_status")
        longest = float(setting(self.config, "meta_report_poll_seconds"))
        for poll in range(MAX_POLLS):
            run = next(iter(reader.rows({"account_id": account_id, "report_run_id": run_id})))
            status = str(run.get("async_status"))
            if status in {"Job Completed", "Job Failed", "Job Skipped"}:
                return status
            time.sleep(min(longest, 0.5 * 2**poll))  # most runs finish within seconds
        raise reader.fatal(
            f"report run {run_id} did not finish after {MAX_POLLS} polls",
            "retry later, or raise meta_report_poll_seconds",
        )


def _action(actions: Any, action_type: str) -> Any:
    """The value of one action type in an ``actions`` list, if present (a list of another shape: itself)."""
    if not isinstance(actions, list) or not all(isinstance(a, Mapping) for a in actions):
        return actions
    return next((a.get("value") for a in actions if a.get("action_type") == action_type), None)
