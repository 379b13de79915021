"""Meta Marketing API (Graph API v21.0+) emulator, mounted under ``/meta``.

Serves ``GET /meta/v21.0/act_<id>`` (account), ``GET .../act_<id>/campaigns``,
``GET .../act_<id>/insights`` (synchronous, at most :data:`SYNC_MAX_DAYS` days of
``time_increment=1``), ``POST .../act_<id>/insights`` (an async report run), ``GET
/meta/v21.0/<report_run_id>`` and its ``/insights``. Paging is by ``after`` cursors.
Each answer carries ``x-business-use-case-usage``; over 100 % the account is blocked
with error 80004, as is any request while a ``throttle`` fault lasts.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
from collections import deque
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode

from bloom_sandbox.ads import credentials
from bloom_sandbox.ads.common import AdEmulator, request_id
from bloom_sandbox.ads.spend import Account, DayFigures, campaigns, find_account, local_today, oldest_daily_day
from bloom_sandbox.ads.spend import truth as spend_truth
from bloom_sandbox.api import Request, Response

SYNC_MAX_DAYS = 31  # longer time_increment=1 ranges need an async report run
USAGE_PER_CALL = 0.1  # percent of the business-use-case budget one call uses (1000 calls a minute)
USAGE_WINDOW_SECONDS = 60.0
MAX_LIMIT = 500
ATTRIBUTION_SETTING = "7d_click_1d_view"
INSIGHT_FIELDS = frozenset(
    {
        "account_currency",
        "account_id",
        "account_name",
        "action_values",
        "actions",
        "attribution_setting",
        "campaign_id",
        "campaign_name",
        "clicks",
        "date_start",
        "date_stop",
        "impressions",
        "objective",
        "spend",
    }
)
CAMPAIGN_FIELDS = frozenset(
    {"id", "name", "status", "effective_status", "configured_status", "objective", "account_id", "created_time"}
)
ACCOUNT_FIELDS = frozenset({"id", "account_id", "name", "currency", "timezone_name", "account_status"})
_PATH = re.compile(r"^/meta/v(?P<version>\d+)\.0/(?P<node>[A-Za-z0-9_]+)(?:/(?P<edge>[a-z_]+))?/?$")


def _error(status: int, code: int, message: str, **extra: Any) -> Response:
    body = {
        "error": {"message": message, "type": "OAuthException", "code": code, **extra, "fbtrace_id": request_id("A")}
    }
    return Response.json(body, status=status)


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(str(index).encode()).decode()


def _uncursor(value: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(value.encode()).decode())
    except ValueError as exc:  # binascii.Error is a ValueError
        raise ValueError(value) from exc


class MetaAPI(AdEmulator):
    """The Meta Marketing API emulator."""

    name = "meta"
    prefix = "/meta"
    FAULT_KINDS = frozenset({"throttle", "usage", "job_failed", "invalid_token", "server_error"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._calls: dict[str, deque[float]] = {}
        self._runs: dict[str, dict[str, Any]] = {}
        self._run_ids = itertools.count(6_000_000_000_001)
        self._usage_lock = threading.Lock()

    def handle(self, request: Request) -> Response:
        """Answer one Graph API request."""
        params = self._params(request)
        self.count("requests")
        match = _PATH.match(request.path)
        if match is None:
            return _error(400, 2500, "Unknown path components: " + request.path.removeprefix("/meta"))
        if int(match["version"]) < 21:
            return _error(
                400,
                2635,
                "(#2635) You are calling a deprecated version of the Ads API. "
                "Please update to the latest version: v21.0.",
            )
        token = params.get("access_token") or request.headers.get("authorization", "").partition(" ")[2]
        if token != credentials.META_ACCESS_TOKEN or self.faults.take("invalid_token"):
            self.count("auth_errors")
            return _error(400, 190, "Invalid OAuth access token - Cannot parse access token")
        if self.faults.take("server_error"):
            return _error(
                500, 2, "An unexpected error has occurred. Please retry your request later.", is_transient=True
            )
        node, edge = match["node"], match["edge"]
        if node.startswith("act_"):
            return self._account_request(request.method, node.removeprefix("act_"), edge, params, request)
        run = self._runs.get(node)
        if run is None:
            return _error(
                400,
                100,
                f"Unsupported get request. Object with ID '{node}' does not exist, cannot "
                "be loaded due to missing permissions, or does not support this operation.",
                error_subcode=33,
            )
        return self._with_usage(run["account"], lambda: self._run_request(node, run, edge, params, request))

    def truth(self) -> dict[str, Any]:
        """Spend per account per day, from the spend model."""
        return spend_truth(self.model, "meta")

    # -- routing -------------------------------------------------------------------

    @staticmethod
    def _params(request: Request) -> dict[str, str]:
        params = {k: v[0] for k, v in request.query.items() if v}
        if request.method == "POST" and request.body:
            if request.headers.get("content-type", "").startswith("application/json"):
                params.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in request.json().items()})
            else:
                params.update({k: v[0] for k, v in parse_qs(request.body.decode()).items()})
        return params

    def _account_request(
        self, method: str, account_id: str, edge: str | None, params: dict[str, str], request: Request
    ) -> Response:
        account = find_account("meta", account_id)
        if account is None:
            return _error(
                400,
                100,
                f"Unsupported get request. Object with ID 'act_{account_id}' does not "
                "exist, cannot be loaded due to missing permissions, or does not support this "
                "operation.",
                error_subcode=33,
            )
        if edge is None and method == "GET":
            return self._with_usage(account, lambda: self._account(account, params))
        if edge == "campaigns" and method == "GET":
            return self._with_usage(account, lambda: self._campaigns(account, params, request))
        if edge == "insights" and method == "GET":
            return self._with_usage(account, lambda: self._insights_sync(account, params, request))
        if edge == "insights" and method == "POST":
            return self._with_usage(account, lambda: self._insights_async(account, params))
        return _error(400, 100, f"Unsupported {method.lower()} request.")

    def _with_usage(self, account: Account, answer: Any) -> Response:
        """Count the call against the account's budget; refuse it when blocked."""
        usage, regain = self._usage(account)
        fault = self.faults.take("throttle", account.account_id)
        if fault is not None or usage > 100:
            minutes = int(fault.spec.get("minutes", 1)) if fault else regain
            code = int(fault.spec.get("code", 80004)) if fault else 80004
            self.count("throttled")
            message = (
                "There have been too many calls to this ad-account. Wait a bit and try again."
                if code == 80004
                else "User request limit reached"
            )
            response = _error(400, code, message, error_subcode=2446079, is_transient=True)
            response.headers.update(self._usage_header(account, max(usage, 100.0), minutes))
            return response
        response = answer()
        response.headers.update(self._usage_header(account, usage, 0))
        return response

    def _usage(self, account: Account) -> tuple[float, int]:
        now = time.monotonic()
        with self._usage_lock:
            calls = self._calls.setdefault(account.account_id, deque())
            while calls and calls[0] < now - USAGE_WINDOW_SECONDS:
                calls.popleft()
            calls.append(now)
            usage = len(calls) * USAGE_PER_CALL
        fault = self.faults.take("usage", account.account_id)
        if fault is not None:
            usage = float(fault.spec.get("percent", 90))
        return usage, 1

    @staticmethod
    def _usage_header(account: Account, usage: float, minutes: int) -> dict[str, str]:
        value = round(usage)
        entry = {
            "type": "ads_insights",
            "call_count": value,
            "total_cputime": max(value - 5, 0),
            "total_time": max(value - 3, 0),
            "estimated_time_to_regain_access": minutes,
            "ads_api_access_tier": "standard_access",
        }
        return {"x-business-use-case-usage": json.dumps({account.account_id: [entry]})}

    # -- objects -------------------------------------------------------------------

    def _account(self, account: Account, params: dict[str, str]) -> Response:
        fields = _fields(params, {"id", "name"}, ACCOUNT_FIELDS)
        if isinstance(fields, Response):
            return fields
        full = {
            "id": f"act_{account.account_id}",
            "account_id": account.account_id,
            "name": account.name,
            "currency": account.currency,
            "timezone_name": account.timezone,
            "account_status": 1,
        }
        return Response.json({k: full[k] for k in ["id", *sorted(fields - {"id"})]})

    def _campaigns(self, account: Account, params: dict[str, str], request: Request) -> Response:
        fields = _fields(params, {"id"}, CAMPAIGN_FIELDS)
        if isinstance(fields, Response):
            return fields
        rows = []
        for campaign in campaigns(account):
            full = {
                "id": campaign.campaign_id,
                "name": campaign.name,
                "status": campaign.status,
                "effective_status": campaign.status,
                "configured_status": campaign.status,
                "objective": campaign.objective,
                "account_id": account.account_id,
                "created_time": "2024-01-15T10:00:00-0800",
            }
            rows.append({k: full[k] for k in ["id", *sorted(fields - {"id"})]})
        return _page(rows, params, request)

    # -- insights ------------------------------------------------------------------

    def _insights_query(self, account: Account, params: dict[str, str]) -> dict[str, Any] | Response:
        level = params.get("level", "account")
        if level not in {"campaign", "account"}:
            return _error(
                400,
                100,
                f"(#100) level must be one of the following values: account, campaign "
                f"(the sandbox knows no '{level}' level)",
            )
        fields = _fields(params, set(), INSIGHT_FIELDS)
        if isinstance(fields, Response):
            return fields
        try:
            window = json.loads(params["time_range"]) if "time_range" in params else None
            today = local_today(self.world, account)
            since = date.fromisoformat(window["since"]) if window else today - timedelta(days=30)
            until = date.fromisoformat(window["until"]) if window else today - timedelta(days=1)
        except (ValueError, KeyError, TypeError):
            return _error(
                400,
                100,
                "(#100) Param time_range must be a JSON object with since and until dates formatted as YYYY-MM-DD",
            )
        if since > until:
            return _error(400, 100, "(#100) time_range: since must be on or before until")
        if since < oldest_daily_day(self.world, account):
            return _error(
                400,
                100,
                "(#3018) The start date of the time range cannot be beyond 37 months from the current date",
                error_subcode=1487534,
            )
        increment = params.get("time_increment", "all_days")
        if increment not in {"1", "all_days"}:
            return _error(400, 100, "(#100) The sandbox supports time_increment 1 or all_days only")
        return {"level": level, "fields": fields, "since": since, "until": until, "daily": increment == "1"}

    def _insights_sync(self, account: Account, params: dict[str, str], request: Request) -> Response:
        query = self._insights_query(account, params)
        if isinstance(query, Response):
            return query
        if query["daily"] and (query["until"] - query["since"]).days + 1 > SYNC_MAX_DAYS:
            self.count("too_much_data")
            return _error(
                500,
                1,
                "Please reduce the amount of data you're asking for, then retry your request",
                error_subcode=99,
                is_transient=False,
            )
        self.count("insights_sync")
        return _page(self._insight_rows(account, query), params, request)

    def _insights_async(self, account: Account, params: dict[str, str]) -> Response:
        query = self._insights_query(account, params)
        if isinstance(query, Response):
            return query
        run_id = str(next(self._run_ids))
        failed = self.faults.take("job_failed", account.account_id) is not None
        self._runs[run_id] = {
            "account": account,
            "query": query,
            "polls": 0,
            "failed": failed,
            "time_ref": int(time.time()),
        }
        self.count("report_runs")
        return Response.json({"report_run_id": run_id})

    def _run_request(
        self, run_id: str, run: dict[str, Any], edge: str | None, params: dict[str, str], request: Request
    ) -> Response:
        if edge is None:
            run["polls"] += 1
            done = run["polls"] >= 2
            status = "Job Failed" if run["failed"] and done else "Job Completed" if done else "Job Running"
            return Response.json(
                {
                    "id": run_id,
                    "account_id": run["account"].account_id,
                    "async_status": status,
                    "async_percent_completion": 100 if done else 40,
                    "date_start": run["query"]["since"].isoformat(),
                    "date_stop": run["query"]["until"].isoformat(),
                    "time_ref": run["time_ref"],
                    "time_completed": run["time_ref"] if done else 0,
                    "is_running": not done,
                }
            )
        if edge != "insights":
            return _error(400, 100, f"Unsupported get request on a report run: {edge}")
        if run["polls"] < 2 or run["failed"]:
            return _error(
                400,
                100,
                "(#100) The report run is not completed: poll it until async_status is 'Job Completed'",
                error_subcode=1487534,
            )
        return _page(self._insight_rows(run["account"], run["query"]), params, request)

    def _insight_rows(self, account: Account, query: dict[str, Any]) -> list[dict[str, Any]]:
        found = self.model.between(account, query["since"], query["until"])
        groups: dict[tuple[str, str, str], list[tuple[Any, DayFigures]]] = {}
        for campaign, day, figures in found:
            start = stop = day.isoformat()
            if not query["daily"]:
                start, stop = query["since"].isoformat(), query["until"].isoformat()
            key = (campaign.campaign_id if query["level"] == "campaign" else "", start, stop)
            groups.setdefault(key, []).append((campaign, figures))
        rows = []
        for (_cid, start, stop), members in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            campaign = members[0][0]
            spend = sum((f.spend for _c, f in members), Decimal("0"))
            conversions = sum((f.conversions for _c, f in members), Decimal("0"))
            value = sum((f.conversion_value for _c, f in members), Decimal("0"))
            clicks = sum(f.clicks for _c, f in members)
            full: dict[str, Any] = {
                "account_id": account.account_id,
                "account_name": account.name,
                "account_currency": account.currency,
                "campaign_id": campaign.campaign_id,
                "campaign_name": campaign.name,
                "objective": campaign.objective,
                "spend": str(spend),
                "impressions": str(sum(f.impressions for _c, f in members)),
                "clicks": str(clicks),
                "actions": [
                    {"action_type": "link_click", "value": str(clicks)},
                    {"action_type": "purchase", "value": str(conversions)},
                    {"action_type": "omni_purchase", "value": str(conversions)},
                ],
                "action_values": [
                    {"action_type": "purchase", "value": str(value)},
                    {"action_type": "omni_purchase", "value": str(value)},
                ],
                "attribution_setting": ATTRIBUTION_SETTING,
            }
            if query["level"] == "account":
                for key in ("campaign_id", "campaign_name", "objective"):
                    full.pop(key)
            row = {k: full[k] for k in sorted(query["fields"]) if k in full}
            row.update({"date_start": start, "date_stop": stop})
            rows.append(row)
        return rows


def _fields(params: dict[str, str], default: set[str], known: frozenset[str]) -> set[str] | Response:
    fields = {f.strip() for f in params.get("fields", "").split(",") if f.strip()} or set(default)
    unknown = sorted(fields - known)
    if unknown:
        return _error(400, 100, f"(#100) Tried accessing nonexisting field ({unknown[0]}) on the sandbox")
    return fields


def _page(rows: list[dict[str, Any]], params: dict[str, str], request: Request) -> Response:
    """One page of ``rows`` with Graph API cursor paging."""
    try:
        limit = min(int(params.get("limit", "25")), MAX_LIMIT)
        start = _uncursor(params["after"]) + 1 if "after" in params else 0
    except ValueError:
        return _error(400, 100, "(#100) Invalid limit or after cursor")
    page = rows[start : start + limit]
    body: dict[str, Any] = {"data": page}
    if page:
        body["paging"] = {"cursors": {"before": _cursor(start), "after": _cursor(start + len(page) - 1)}}
        if start + len(page) < len(rows):
            query = {k: v for k, v in params.items() if k != "access_token"}
            query["after"] = _cursor(start + len(page) - 1)
            host = request.headers.get("host", "127.0.0.1")
            body["paging"]["next"] = f"http://{host}{request.path}?{urlencode(query)}"
    return Response.json(body)
