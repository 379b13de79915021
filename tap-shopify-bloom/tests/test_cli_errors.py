"""On the command line, an error the merchant can act on is exactly one log line: no summary, no stack trace."""

from __future__ import annotations

import json

import pytest
from werkzeug import Response

from tests.factories import order
from tests.helpers import error_lines, run_cli

STATE = {"bookmarks": {"orders": {"windows": {"cursor": "2026-06-02T00:00:00Z"}}}}


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (401, {"errors": "[API] Invalid API key or access token"}, "Shopify refused the access token (401"),
        (402, {"errors": "Unavailable Shop"}, "The shop stub-shop is frozen (402 Payment Required)"),
        (
            403,
            {"errors": "[API] This action requires merchant approval for read_all_orders scope."},
            "Shopify denied access (403). Grant the app read_all_orders and reinstall it",
        ),
        (404, {"errors": "Not Found"}, "Store not found: http://localhost:"),
        (423, {"errors": "This store is unavailable"}, "The shop stub-shop is locked (423 Locked)"),
    ],
)
@pytest.mark.parametrize(
    ("mode", "state"), [((), None), ((), STATE), (("--test",), None)], ids=["sync", "resumed", "test"]
)
def test_one_clear_line(stub, stub_config, tmp_path, status, body, message, mode, state):
    stub.faults = [lambda _body: Response(json.dumps(body), status=status, content_type="application/json")]
    run = run_cli(stub_config, tmp_path, *mode, state=state)
    assert run.returncode == 1
    errors = error_lines(run.stderr)
    assert len(errors) == 1, errors
    assert message in errors[0]
    assert stub_config["access_token"] not in run.stderr  # the secret is never logged
    # Refused on the first request, before any SCHEMA or STATE line: no loader creates a table.
    assert run.stdout == ""
    assert len(stub.requests) == 1


def test_shop_is_read_once_per_sync(stub, stub_config, tmp_path):
    # The access check's answer is the shop stream's record: no second shop query.
    run = run_cli(stub_config, tmp_path)
    assert run.returncode == 0, run.stderr
    shops = [json.loads(line) for line in run.stdout.splitlines() if '"stream":"shop"' in line.replace(" ", "")]
    records = [m["record"] for m in shops if m["type"] == "RECORD"]
    assert [(r["name"], r["currency"], r["iana_timezone"]) for r in records] == [
        ("Stub Shop", "USD", "America/New_York")
    ]
    assert sum(r["query"].lstrip().startswith("query Shop ") for r in stub.requests) == 1


def test_connection_test_logs_no_error(stub, stub_config, tmp_path):
    # --test stops every stream after its first record: that is no error to report.
    stub.data["orders"] = [order(1000 + i, i) for i in range(3)]
    run = run_cli(stub_config, tmp_path, "--test")
    assert run.returncode == 0
    assert error_lines(run.stderr) == []


def test_invalid_setting_is_one_line_too(tmp_path):
    config = {"store": "my-shop", "access_token": "shpat_x", "start_date": "2999-01-01"}
    errors = error_lines(run_cli(config, tmp_path).stderr)
    assert len(errors) == 1
    assert errors[0].endswith("Setting `start_date`: 2999-01-01 is in the future. Use a date in the past.")
