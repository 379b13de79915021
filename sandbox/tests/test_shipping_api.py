"""The ShipStation and Shippo emulators over real HTTP: shapes, auth, paging, filters, limits, faults."""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from bloom_sandbox.shipping.labels import PACIFIC, LabelBook
from bloom_sandbox.shipping.shippo import LIMITS
from bloom_sandbox.shipping.shipstation import RATE_LIMIT
from conftest import control, http

SS_AUTH = {"Authorization": "Basic " + base64.b64encode(b"ss_sandbox_key:ss_sandbox_secret").decode()}
SHIPPO_AUTH = {"Authorization": "ShippoToken shippo_test_sandbox"}


def get(url: str, headers: dict[str, str], **params: Any) -> tuple[int, dict[str, str], Any]:
    status, answer_headers, raw = http("GET", f"{url}?{urlencode(params)}" if params else url, headers=headers)
    return status, answer_headers, json.loads(raw) if raw.startswith((b"{", b"[")) else raw


def all_shipments(sandbox, **params: Any) -> list[dict[str, Any]]:
    shipments, page = [], 1
    while True:
        status, _, body = get(f"{sandbox.url}/shipstation/shipments", SS_AUTH, page=page, pageSize=500, **params)
        assert status == 200, body
        shipments += body["shipments"]
        if page >= body["pages"]:
            return shipments
        page += 1


def all_transactions(sandbox) -> list[dict[str, Any]]:
    results, url = [], f"{sandbox.url}/shippo/transactions/?results=100"
    while url:
        status, _, body = get(url, SHIPPO_AUTH)
        assert status == 200, body
        results += body["results"]
        url = body["next"]
    return results


@pytest.fixture
def unlimited(shared):
    """The shared sandbox with rate limits lifted while a test pages through everything."""
    shipstation, shippo = (
        next(a for a in shared.server.sandbox.apis if a.name == name) for name in ("shipstation", "shippo")
    )
    shippo.limits = {key: 10_000 for key in LIMITS}
    shipstation.rate_limit = RATE_LIMIT * 250
    yield shared
    shippo.limits = dict(LIMITS)
    shipstation.rate_limit = RATE_LIMIT


def test_served_costs_and_personal_values_equal_truth(unlimited):
    shared = unlimited
    _, truth = control(shared, "GET", "truth")
    served: dict[str, dict[str, Decimal]] = {"shipstation": {}, "shippo": {}}
    shipments, transactions = all_shipments(shared), all_transactions(shared)
    customers = {c.email for c in shared.world.store.customers}
    assert truth["shipstation"]["personal"] == {
        "emails": sorted({s["customerEmail"] for s in shipments}),
        "names": sorted({s["shipTo"]["name"] for s in shipments}),
    }
    assert len(set(truth["shipstation"]["personal"]["emails"]) & customers) > 20  # the orders' customers
    buyers = [t["created_by"] for t in transactions if t["created_by"]]
    assert 0 < len(buyers) < len(transactions)  # labels bought in Shippo's web app name their buyer; API ones not
    assert truth["shippo"]["personal"] == {
        "emails": sorted({b["username"] for b in buyers} | {t["object_owner"] for t in transactions}),
        "names": sorted({b[part] for b in buyers for part in ("first_name", "last_name")}),
    }
    for shipment in shipments:
        paid = (
            Decimal(0)
            if shipment["voided"]
            else Decimal(str(shipment["shipmentCost"])) + Decimal(str(shipment["insuranceCost"]))
        )
        if shipment["orderNumber"][0].isdigit():
            name = "#" + shipment["orderNumber"].split("-")[0]
            served["shipstation"][name] = served["shipstation"].get(name, Decimal(0)) + paid
    for transaction in transactions:
        paid = Decimal(0) if transaction["status"] == "REFUNDED" else Decimal(transaction["rate"]["amount"])
        if "#" in transaction["metadata"]:
            name = "#" + transaction["metadata"].split("#")[1]
            served["shippo"][name] = served["shippo"].get(name, Decimal(0)) + paid
    for provider in served:
        assert served[provider] == {k: Decimal(v) for k, v in truth[provider]["label_cost_by_order"].items()}
        assert truth[provider]["labels"] > 100


def test_shipstation_shapes_and_pacific_times(unlimited):
    shared = unlimited
    status, headers, body = get(f"{shared.url}/shipstation/shipments", SS_AUTH, pageSize=3)
    assert status == 200
    assert (body["page"], len(body["shipments"])) == (1, 3)
    assert body["pages"] == -(-body["total"] // 3)
    assert headers["X-Rate-Limit-Limit"] == str(RATE_LIMIT * 250)  # as lifted by the fixture
    assert int(headers["X-Rate-Limit-Remaining"]) < RATE_LIMIT * 250
    first = body["shipments"][0]
    assert {
        "shipmentId",
        "orderNumber",
        "createDate",
        "shipDate",
        "shipmentCost",
        "insuranceCost",
        "voided",
        "voidDate",
        "trackingNumber",
        "carrierCode",
        "serviceCode",
        "shipmentItems",
    } <= set(first)
    assert first["shipmentItems"] is None  # only with includeShipmentItems=true
    labels = {lb.label_id: lb for lb in LabelBook(shared.world.seed, shared.world.store).visible("shipstation")}
    truth = labels[str(first["shipmentId"])]
    assert not first["createDate"].endswith(("Z", "+00:00"))  # no offset, as ShipStation sends
    assert first["createDate"].startswith(truth.created_at.astimezone(PACIFIC).strftime("%Y-%m-%dT%H:%M:%S"))
    _, _, with_items = get(f"{shared.url}/shipstation/shipments", SS_AUTH, pageSize=1, includeShipmentItems="true")
    assert with_items["shipments"][0]["shipmentItems"]


def test_shipstation_date_filters_are_pacific(unlimited):
    shared = unlimited
    bound = "2026-03-08 01:30:00"  # Pacific, the night daylight saving time starts
    shipments = all_shipments(shared, createDateStart=bound, createDateEnd="2026-06-30 23:59:59")
    start = datetime(2026, 3, 8, 1, 30, tzinfo=PACIFIC)
    end = datetime(2026, 6, 30, 23, 59, 59, tzinfo=PACIFIC)
    expected = {
        lb.label_id
        for lb in LabelBook(shared.world.seed, shared.world.store).visible("shipstation")
        if start <= lb.created_at <= end
    }
    assert {str(s["shipmentId"]) for s in shipments} == expected
    createds = [s["createDate"] for s in shipments]
    assert createds == sorted(createds)  # ascending createDate by default
    voided = all_shipments(shared, voidDateStart="2020-01-01")
    assert voided
    assert all(s["voided"] and s["voidDate"] for s in voided)
    now = shared.world.store.now
    book = LabelBook(shared.world.seed, shared.world.store)
    assert [str(s["shipmentId"]) for s in voided] == [
        lb.label_id for lb in book.visible("shipstation") if lb.voided_by(now)
    ]  # every voided one, by createDate
    both = all_shipments(shared, voidDateStart="2020-01-01", createDateStart=bound)
    assert [str(s["shipmentId"]) for s in both] == [
        lb.label_id for lb in book.visible("shipstation") if lb.voided_by(now) and lb.created_at >= start
    ]
    status, _, body = get(f"{shared.url}/shipstation/shipments", SS_AUTH, createDateStart="yesterday")
    assert (status, body["Message"]) == (400, "The request is invalid.")


def test_shipstation_refuses_bad_credentials(shared):
    assert http("GET", f"{shared.url}/shipstation/shipments")[0] == 401
    wrong = {"Authorization": "Basic " + base64.b64encode(b"ss_sandbox_key:nope").decode()}
    assert http("GET", f"{shared.url}/shipstation/shipments", headers=wrong)[0] == 401
    assert get(f"{shared.url}/shipstation/orders", SS_AUTH)[0] == 404


def test_shipstation_rate_limit(fresh):
    emulator = next(a for a in fresh.server.sandbox.apis if a.name == "shipstation")
    emulator.rate_window_seconds = 2.0
    answers = [http("GET", f"{fresh.url}/shipstation/shipments?pageSize=1", headers=SS_AUTH) for _ in range(41)]
    assert [status for status, _, _ in answers[:40]] == [200] * 40
    status, headers, body = answers[40]
    assert status == 429
    assert headers["X-Rate-Limit-Remaining"] == "0"
    assert 0 < int(headers["X-Rate-Limit-Reset"]) <= 2
    assert json.loads(body) == {"message": "Too Many Requests"}
    time.sleep(int(headers["X-Rate-Limit-Reset"]) + 0.1)
    assert http("GET", f"{fresh.url}/shipstation/shipments?pageSize=1", headers=SS_AUTH)[0] == 200
    _, stats = control(fresh, "GET", "stats")
    assert stats["shipstation"]["throttled"] == 1


def test_shippo_lists_newest_first_with_links(unlimited):
    shared = unlimited
    status, _, body = get(f"{shared.url}/shippo/transactions/", SHIPPO_AUTH)
    assert status == 200
    assert (len(body["results"]), body["previous"]) == (25, None)  # Shippo's default page size
    assert body["next"] == f"{shared.url}/shippo/transactions/?page=2&results=25"
    created = [t["object_created"] for t in body["results"]]
    assert created == sorted(created, reverse=True)
    first = body["results"][0]
    assert {"amount", "currency", "provider", "servicelevel_token", "servicelevel_name"} <= set(first["rate"])
    assert first["object_created"].endswith("Z")
    assert first["test"] is True
    _, _, page_two = get(body["next"], SHIPPO_AUTH)
    assert page_two["previous"].endswith("page=1&results=25")
    assert get(f"{shared.url}/shippo/transactions/", SHIPPO_AUTH, page=999)[2] == {"detail": "Invalid page."}
    assert len(get(f"{shared.url}/shippo/transactions/", SHIPPO_AUTH, results=500)[2]["results"]) == 100


def test_shippo_refunds_and_single_transactions(unlimited):
    shared = unlimited
    _, _, refunds = get(f"{shared.url}/shippo/refunds/", SHIPPO_AUTH, results=100)
    assert {r["status"] for r in refunds["results"]} == {"SUCCESS"}
    refund = refunds["results"][0]
    status, _, transaction = get(f"{shared.url}/shippo/transactions/{refund['transaction']}", SHIPPO_AUTH)
    assert status == 200
    assert transaction["status"] == "REFUNDED"
    assert transaction["object_updated"] == refund["object_created"]
    assert get(f"{shared.url}/shippo/transactions/0000", SHIPPO_AUTH)[:3:2] == (404, {"detail": "Not found."})
    _, _, refunded = get(f"{shared.url}/shippo/transactions/", SHIPPO_AUTH, object_status="REFUNDED", results=100)
    assert {t["status"] for t in refunded["results"]} == {"REFUNDED"}
    assert len(refunded["results"]) == len(refunds["results"])


def test_shippo_auth_and_limits(fresh):
    url = f"{fresh.url}/shippo/transactions/"
    assert get(url, {})[2] == {"detail": "Authentication credentials were not provided."}
    assert get(url, {"Authorization": "ShippoToken shippo_test_other"})[:3:2] == (401, {"detail": "Invalid token."})
    emulator = next(a for a in fresh.server.sandbox.apis if a.name == "shippo")
    emulator.rate_window_seconds = 2.0
    statuses = [get(url, SHIPPO_AUTH)[0] for _ in range(11)]
    assert statuses == [200] * 10 + [429]  # 10 list requests per minute with a test token
    status, headers, body = get(url, SHIPPO_AUTH)
    assert status == 429
    assert 1 <= int(headers["Retry-After"]) <= 2
    assert body["detail"].startswith("Request was throttled.")
    assert get(f"{url}{all_transactions_first_id(fresh)}", SHIPPO_AUTH)[0] == 200  # single GETs: own limit


def all_transactions_first_id(sandbox) -> str:
    return LabelBook(sandbox.world.seed, sandbox.world.store).visible("shippo")[0].label_id


@pytest.mark.parametrize(("prefix", "auth"), [("/shipstation/shipments", SS_AUTH), ("/shippo/refunds/", SHIPPO_AUTH)])
def test_faults_in_each_apis_format(fresh, prefix, auth):
    path = prefix.split("/")[1]
    faults = [
        {"type": "rate_limited", "path": f"/{path}", "count": 1},
        {"type": "http_error", "status": 503, "path": f"/{path}", "count": 1},
    ]
    assert control(fresh, "POST", "faults", {"faults": faults})[0] == 200
    first = get(f"{fresh.url}{prefix}", auth)
    second = get(f"{fresh.url}{prefix}", auth)
    assert {first[0], second[0]} == {503, 429}
    error = first if first[0] == 503 else second
    assert error[2] == (
        {"Message": "An error has occurred."} if path == "shipstation" else {"detail": "A server error occurred."}
    )
    assert get(f"{fresh.url}{prefix}", auth)[0] == 200
    assert control(fresh, "POST", "faults", {"faults": [{"type": "rate_limited", "path": "/nowhere"}]})[0] == 400


def test_advance_voids_labels_and_adds_new_ones(fresh):
    _, before = control(fresh, "GET", "truth")
    assert control(fresh, "POST", "advance", {"days": 14})[0] == 200
    _, after = control(fresh, "GET", "truth")
    assert sum(after[p]["labels"] for p in ("shipstation", "shippo")) > sum(
        before[p]["labels"] for p in ("shipstation", "shippo")
    )
    assert sum(after[p]["voided"] for p in ("shipstation", "shippo")) >= sum(
        before[p]["voided"] for p in ("shipstation", "shippo")
    )
    voided_served = sum(s["voided"] for s in all_shipments(fresh))
    assert voided_served == after["shipstation"]["voided"]
