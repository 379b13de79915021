"""The ad-platform emulators, called through ``handle``: documented shapes, limits, errors, truth."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from bloom_sandbox.ads import credentials, make_apis
from bloom_sandbox.ads.spend import ACCOUNTS, SETTLING_DAYS, campaigns
from bloom_sandbox.api import Request, Response
from bloom_sandbox.server import build_world

META_AUTH = {"authorization": f"Bearer {credentials.META_ACCESS_TOKEN}"}
TIKTOK_AUTH = {"access-token": credentials.TIKTOK_ACCESS_TOKEN}


@pytest.fixture(scope="module")
def world():
    return build_world(seed=7, orders=1500, months=12)


@pytest.fixture
def apis(world):
    meta, google, tiktok = make_apis(world)
    return {"meta": meta, "google_ads": google, "tiktok": tiktok}


def call(
    api, method: str, path: str, query: dict | None = None, headers: dict | None = None, body: bytes = b""
) -> tuple[Response, object]:
    request = Request(method, path, {k: [str(v)] for k, v in (query or {}).items()}, headers or {}, body)
    response = api.handle(request)
    return response, json.loads(response.body)


def today(world, tz_offset_days: int = 0) -> date:
    return world.store.now.date() - timedelta(days=tz_offset_days)


def google_token(api) -> str:
    body = urlencode(
        {
            "grant_type": "refresh_token",
            "client_id": credentials.GOOGLE_CLIENT_ID,
            "client_secret": credentials.GOOGLE_CLIENT_SECRET,
            "refresh_token": credentials.GOOGLE_REFRESH_TOKEN,
        }
    ).encode()
    response, payload = call(api, "POST", "/googleads/oauth2/token", body=body)
    assert response.status == 200
    assert payload["token_type"] == "Bearer"
    assert payload["expires_in"] == 3599
    return payload["access_token"]


def search(api, token: str, query: str, customer: str = "1234567890", **headers: str):
    return call(
        api,
        "POST",
        f"/googleads/v21/customers/{customer}/googleAds:searchStream",
        headers={"authorization": f"Bearer {token}", "developer-token": credentials.GOOGLE_DEVELOPER_TOKEN, **headers},
        body=json.dumps({"query": query}).encode(),
    )


def test_served_spend_equals_truth_on_every_platform(apis, world):
    since, until = today(world, 40), today(world)
    meta = apis["meta"]
    served: dict[str, Decimal] = {}
    response, payload = call(
        meta,
        "GET",
        "/meta/v21.0/act_1001/insights",
        {
            "level": "campaign",
            "time_increment": 1,
            "fields": "campaign_id,spend",
            "time_range": json.dumps({"since": str(until - timedelta(days=6)), "until": str(until)}),
            "limit": 500,
        },
        META_AUTH,
    )
    assert response.status == 200
    assert "x-business-use-case-usage" in response.headers
    for row in payload["data"]:
        assert row["date_start"] == row["date_stop"]
        served[row["date_start"]] = served.get(row["date_start"], Decimal(0)) + Decimal(row["spend"])
    truth = apis["meta"].truth()["1001"]["spend"]
    assert served == {d: Decimal(v) for d, v in truth.items() if str(until - timedelta(days=6)) <= d <= str(until)}

    token = google_token(apis["google_ads"])
    response, batches = search(
        apis["google_ads"],
        token,
        "SELECT campaign.id, segments.date, metrics.cost_micros FROM campaign "
        f"WHERE segments.date BETWEEN '{since}' AND '{until}'",
    )
    assert response.status == 200
    google: dict[str, Decimal] = {}
    for row in batches[0]["results"]:
        assert isinstance(row["metrics"]["costMicros"], str)  # int64 as a JSON string
        day = row["segments"]["date"]
        google[day] = google.get(day, Decimal(0)) + Decimal(row["metrics"]["costMicros"]) / 1_000_000
    truth = apis["google_ads"].truth()["1234567890"]["spend"]
    assert google == {d: Decimal(v) for d, v in truth.items() if str(since) <= d <= str(until)}

    response, payload = call(
        apis["tiktok"],
        "GET",
        "/tiktok/open_api/v1.3/report/integrated/get/",
        {
            "advertiser_id": "7000000000001",
            "report_type": "BASIC",
            "data_level": "AUCTION_CAMPAIGN",
            "dimensions": '["campaign_id","stat_time_day"]',
            "metrics": '["spend"]',
            "start_date": str(until - timedelta(days=29)),
            "end_date": str(until),
            "page_size": 1000,
        },
        TIKTOK_AUTH,
    )
    assert payload["code"] == 0
    tiktok: dict[str, Decimal] = {}
    for row in payload["data"]["list"]:
        day = row["dimensions"]["stat_time_day"][:10]
        tiktok[day] = tiktok.get(day, Decimal(0)) + Decimal(row["metrics"]["spend"])
    truth = apis["tiktok"].truth()["7000000000001"]["spend"]
    assert tiktok == {d: Decimal(v) for d, v in truth.items() if str(until - timedelta(days=29)) <= d <= str(until)}


def test_conversions_track_the_store_orders(apis, world):
    """Over the whole history, the platforms claim a share of the store's orders, not an unrelated number."""
    orders = sum(1 for o in world.store.orders if not o.test)
    model = apis["meta"].model
    for account in ACCOUNTS:
        conversions = sum(f.conversions for f in model.rows(account).values())
        expected = orders * account.share * sum(c.weight * (c.active_until - c.active_from) for c in campaigns(account))
        assert 0.6 * expected <= float(conversions) <= 1.4 * expected, account.account_id


def test_advance_revises_recent_days_only(world):
    meta = make_apis(world)[0]
    before = meta.truth()["1001"]["spend"]
    world_now = world.store.now
    try:
        world.store.now = world_now + timedelta(days=2)
        after = meta.truth()["1001"]["spend"]
    finally:
        world.store.now = world_now
    changed = sorted(d for d in before if before[d] != after[d])
    assert changed
    assert min(changed) >= str(world_now.date() - timedelta(days=SETTLING_DAYS + 1))


def test_meta_async_report_run(apis, world):
    meta = apis["meta"]
    until = today(world)
    params = {
        "level": "campaign",
        "time_increment": "1",
        "fields": "campaign_id,spend",
        "time_range": json.dumps({"since": str(until - timedelta(days=59)), "until": str(until)}),
    }
    response, payload = call(meta, "GET", "/meta/v21.0/act_1001/insights", params, META_AUTH)
    assert response.status == 500  # too much data for a synchronous call
    assert payload["error"]["code"] == 1
    _, run = call(meta, "POST", "/meta/v21.0/act_1001/insights", headers=META_AUTH, body=urlencode(params).encode())
    run_id = run["report_run_id"]
    _, status = call(meta, "GET", f"/meta/v21.0/{run_id}", headers=META_AUTH)
    assert status["async_status"] == "Job Running"
    response, _ = call(meta, "GET", f"/meta/v21.0/{run_id}/insights", headers=META_AUTH)
    assert response.status == 400
    _, status = call(meta, "GET", f"/meta/v21.0/{run_id}", headers=META_AUTH)
    assert status["async_status"] == "Job Completed"
    rows, after = [], None
    while True:
        query = {"limit": 25} | ({"after": after} if after else {})
        _, page = call(meta, "GET", f"/meta/v21.0/{run_id}/insights", query, META_AUTH)
        rows += page["data"]
        if "next" not in page.get("paging", {}):
            break
        after = page["paging"]["cursors"]["after"]
    assert len({(r["campaign_id"], r["date_start"]) for r in rows}) == len(rows) > 25


def test_meta_errors_and_throttling(apis):
    meta = apis["meta"]
    response, payload = call(meta, "GET", "/meta/v21.0/act_1001", headers={"authorization": "Bearer nope"})
    assert (response.status, payload["error"]["code"], payload["error"]["type"]) == (400, 190, "OAuthException")
    response, payload = call(meta, "GET", "/meta/v21.0/act_999", headers=META_AUTH)
    assert (payload["error"]["code"], payload["error"]["error_subcode"]) == (100, 33)
    meta.set_faults([{"type": "meta_throttle", "count": 1, "minutes": 3}])
    response, payload = call(meta, "GET", "/meta/v21.0/act_1001", headers=META_AUTH)
    assert payload["error"]["code"] == 80004
    usage = json.loads(response.headers["x-business-use-case-usage"])["1001"][0]
    assert usage["estimated_time_to_regain_access"] == 3
    response, _ = call(meta, "GET", "/meta/v21.0/act_1001", headers=META_AUTH)
    assert response.status == 200


def test_google_auth_quota_and_gaql_errors(apis):
    google = apis["google_ads"]
    response, payload = search(google, "not-a-token", "SELECT customer.id FROM customer")
    assert (response.status, payload["error"]["status"]) == (401, "UNAUTHENTICATED")
    token = google_token(google)
    google.set_faults([{"type": "google_ads_expire_tokens", "after": 1}])
    response, payload = search(google, token, "SELECT customer.id FROM customer")
    assert response.status == 200  # the fault lets one request pass, then expires every token
    response, payload = search(google, token, "SELECT customer.id FROM customer")
    error = payload["error"]["details"][0]["errors"][0]
    assert error["errorCode"] == {"authenticationError": "OAUTH_TOKEN_EXPIRED"}
    token = google_token(google)
    google.set_faults([{"type": "google_ads_quota"}])
    response, payload = search(google, token, "SELECT customer.id FROM customer")
    assert (response.status, payload["error"]["status"]) == (429, "RESOURCE_EXHAUSTED")
    response, payload = search(google, token, "SELECT campaign.id, segments.date FROM campaign")
    error = payload["error"]["details"][0]["errors"][0]
    assert error["errorCode"] == {"queryError": "EXPECTED_FILTERS_ON_DATE_RANGE"}
    response, payload = search(google, token, "SELECT campaign.bogus FROM campaign")
    assert payload["error"]["details"][0]["errors"][0]["errorCode"] == {"queryError": "UNRECOGNIZED_FIELD"}
    response, payload = search(google, token, "SELECT customer.id FROM customer", **{"login-customer-id": "5"})
    assert (response.status, payload["error"]["status"]) == (403, "PERMISSION_DENIED")
    response, payload = search(
        google, token, "SELECT customer.descriptive_name, customer.currency_code, customer.time_zone FROM customer"
    )
    assert payload[0]["results"][0]["customer"] == {
        "descriptiveName": "Bloom Google Ads",
        "currencyCode": "USD",
        "timeZone": "America/New_York",
    }


def test_tiktok_limits_and_error_codes(apis, world):
    tiktok = apis["tiktok"]
    until = today(world)
    report = {
        "advertiser_id": "7000000000001",
        "report_type": "BASIC",
        "data_level": "AUCTION_CAMPAIGN",
        "dimensions": '["campaign_id","stat_time_day"]',
        "start_date": str(until - timedelta(days=30)),
        "end_date": str(until),
    }
    response, payload = call(tiktok, "GET", "/tiktok/open_api/v1.3/report/integrated/get/", report, TIKTOK_AUTH)
    assert (response.status, payload["code"]) == (200, 40002)  # 31 days: too long
    _, payload = call(
        tiktok,
        "GET",
        "/tiktok/open_api/v1.3/advertiser/info/",
        {"advertiser_ids": '["7000000000001"]'},
        {"access-token": "bad"},
    )
    assert payload["code"] == 40105
    tiktok.set_faults([{"type": "tiktok_rate_limit"}])
    _, payload = call(
        tiktok, "GET", "/tiktok/open_api/v1.3/campaign/get/", {"advertiser_id": "7000000000001"}, TIKTOK_AUTH
    )
    assert payload["code"] == 40100
    _, payload = call(
        tiktok,
        "GET",
        "/tiktok/open_api/v1.3/campaign/get/",
        {"advertiser_id": "7000000000001", "page_size": 1},
        TIKTOK_AUTH,
    )
    assert payload["data"]["page_info"] == {"page": 1, "page_size": 1, "total_number": 2, "total_page": 2}
    _, payload = call(
        tiktok, "GET", "/tiktok/open_api/v1.3/advertiser/info/", {"advertiser_ids": '["7000000000001"]'}, TIKTOK_AUTH
    )
    assert payload["data"]["list"][0]["currency"] == "EUR"


def test_unknown_faults_are_returned(apis):
    rest = apis["meta"].set_faults([{"type": "meta_usage", "percent": 80}, {"type": "throttled"}])
    assert rest == [{"type": "throttled"}]


def test_daily_figures_older_than_37_months_are_refused(apis, world):
    old = str(today(world) - timedelta(days=38 * 31))
    response, payload = call(
        apis["meta"],
        "GET",
        "/meta/v21.0/act_1001/insights",
        {
            "level": "campaign",
            "time_increment": 1,
            "time_range": json.dumps({"since": old, "until": str(today(world))}),
        },
        META_AUTH,
    )
    assert response.status == 400
    assert "(#3018)" in payload["error"]["message"]
    token = google_token(apis["google_ads"])
    _response, payload = search(
        apis["google_ads"],
        token,
        "SELECT campaign.id, segments.date, metrics.cost_micros "
        f"FROM campaign WHERE segments.date BETWEEN '{old}' AND '{today(world)}'",
    )
    assert payload["error"]["details"][0]["errors"][0]["errorCode"] == {
        "dateRangeError": "REQUESTED_DATE_GRANULARITY_NOT_SUPPORTED"
    }


def test_meta_usage_grows_with_calls_and_blocks_past_the_limit(apis, monkeypatch):
    from bloom_sandbox.ads import meta as meta_module

    monkeypatch.setattr(meta_module, "USAGE_PER_CALL", 40.0)
    percents = []
    for _ in range(3):
        response, payload = call(apis["meta"], "GET", "/meta/v21.0/act_1002", headers=META_AUTH)
        percents.append(json.loads(response.headers["x-business-use-case-usage"])["1002"][0]["call_count"])
    assert percents[:2] == [40, 80]
    assert payload["error"]["code"] == 80004  # the third call goes past 100 %
    assert json.loads(response.headers["x-business-use-case-usage"])["1002"][0]["estimated_time_to_regain_access"] >= 1
