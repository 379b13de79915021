"""Each error names the provider, the account and the fix, and never shows a secret."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests
from singer_sdk.exceptions import ConfigValidationError
from tap_shipping.settings import configured_accounts
from tap_shipping.tap import TapShipping

from tests.helpers import SHIPPO_TOKEN, SS_SECRET, run_tap, sandbox_config

SECRETS = (SS_SECRET, SHIPPO_TOKEN, "wrong-secret", "shippo_test_wrong")


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def discover(tmp_path, config: dict) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return subprocess.run(
        [sys.executable, "-m", "tap_shipping", "--config", str(path), "--discover"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"shipstation_api_url": "http://ssapi.example.com"},
            "ShipStation account 'sandbox-ss': shipstation_api_url must use https",
        ),
        ({"shippo_api_url": "ftp://127.0.0.1/shippo"}, "Shippo account 'sandbox-shippo': shippo_api_url"),
        ({"shipstation_api_secret": None}, "ShipStation account 'sandbox-ss': shipstation_api_secret is missing"),
        ({"shippo_api_token": "not-a-token"}, "Shippo account 'sandbox-shippo': shippo_api_token does not look like"),
        ({"start_date": "last tuesday"}, "start_date 'last tuesday' is not an ISO-8601"),
        ({"start_date": "2999-01-01"}, "start_date 2999-01-01 is in the future"),
        ({"start_date": "0001-01-01"}, "start_date 0001-01-01 is before 1970-01-02; set a day from 1970-01-02 on"),
        ({"shipstation_currency": "usd"}, "shipstation_currency 'usd' is not an ISO 4217 code"),
        (
            {"shipstation_api_key": None, "shipstation_api_secret": None, "shippo_api_token": None},
            "no provider configured",
        ),
    ],
)
def test_settings_are_checked_before_any_request(change, expected):
    config = {k: v for k, v in {**sandbox_config("http://127.0.0.1:9"), **change}.items() if v is not None}
    with pytest.raises(ConfigValidationError) as caught:
        configured_accounts(config)
    assert any(expected in error for error in caught.value.errors)
    assert_no_secret(str(caught.value))


def test_unknown_settings_are_refused_with_a_suggestion():
    config = {**sandbox_config("http://127.0.0.1:9"), "shippo_api_tokn": "x"}
    with pytest.raises(ConfigValidationError) as caught:
        configured_accounts(config, known=TapShipping.config_jsonschema["properties"])
    assert caught.value.errors == [
        "shippo_api_tokn is not a setting of tap-shipping (providers: ShipStation, "
        "Shippo): did you mean shippo_api_token?"
    ]


def test_settings_errors_reach_the_command_line(tmp_path):
    config = {**sandbox_config("http://127.0.0.1:9"), "shippo_api_url": "http://api.goshippo.com"}
    result = discover(tmp_path, config)
    assert result.returncode != 0
    assert "Shippo account 'sandbox-shippo': shippo_api_url must use https" in result.stderr
    assert_no_secret(result.stderr)


@pytest.mark.parametrize(
    "url",
    ["https://ssapi.shipstation.com", "http://localhost:8080", "http://[::1]:8080", "http://127.0.0.2/shipstation"],
)
def test_https_and_loopback_urls_are_accepted(url):
    accounts = configured_accounts({**sandbox_config("http://127.0.0.1:9"), "shipstation_api_url": url})
    assert accounts[0].api_url == url


def test_a_providers_streams_exist_only_with_its_settings():
    config = {k: v for k, v in sandbox_config("http://127.0.0.1:9").items() if not k.startswith("shipstation")}
    assert set(TapShipping(config=config).streams) == {"shippo_transactions", "shippo_refunds", "shipping_labels"}
    config = {k: v for k, v in sandbox_config("http://127.0.0.1:9").items() if not k.startswith("shippo")}
    assert set(TapShipping(config=config).streams) == {"shipstation_shipments", "shipping_labels"}
    properties = TapShipping.config_jsonschema["properties"]
    secret_settings = {"shipstation_api_key", "shipstation_api_secret", "shippo_api_token"}
    assert {name for name, spec in properties.items() if spec.get("secret")} == secret_settings


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"shipstation_api_secret": "wrong-secret"},
            "ShipStation account 'sandbox-ss': credentials refused (401); check shipstation_api_key and "
            "shipstation_api_secret",
        ),
        (
            {"shippo_api_token": "shippo_test_wrong"},
            "Shippo account 'sandbox-shippo': credentials refused (401); check shippo_api_token",
        ),
    ],
)
def test_refused_credentials(sandbox, tmp_path, change, expected):
    run = run_tap(tmp_path, {**sandbox_config(sandbox.url), **change}, streams={"shipping_labels"})
    assert run.returncode != 0
    assert expected in run.stderr
    assert_no_secret(run.stderr)


def test_wrong_base_url(sandbox, tmp_path):
    run = run_tap(
        tmp_path, sandbox_config(sandbox.url, shippo_api_url=f"{sandbox.url}/shippo/v1"), streams={"shippo_refunds"}
    )
    assert run.returncode != 0
    assert "Shippo account 'sandbox-shippo': /refunds/ not found at" in run.stderr
    assert "check shippo_api_url" in run.stderr


def test_unreachable_host(tmp_path):
    config = {k: v for k, v in sandbox_config("http://127.0.0.1:9").items() if not k.startswith("shippo")}
    run = run_tap(tmp_path, config, streams={"shipstation_shipments"})
    assert run.returncode != 0
    assert "ShipStation account 'sandbox-ss': cannot reach http://127.0.0.1:9/shipstation" in run.stderr
    assert "check shipstation_api_url" in run.stderr
    assert run.stderr.count("Backing off") >= 4  # retried before giving up
    assert_no_secret(run.stderr)


def test_persistent_server_errors_give_up_with_a_clear_message(fresh_sandbox, tmp_path):
    url = fresh_sandbox.url
    fault = {"type": "http_error", "status": 502, "path": "/shippo", "always": True}
    requests.post(f"{url}/_sandbox/faults", json={"faults": [fault]}, timeout=10).raise_for_status()
    run = run_tap(tmp_path, sandbox_config(url), streams={"shippo_refunds"})
    assert run.returncode != 0
    line = next(line for line in run.stderr.splitlines() if "still failing" in line)
    assert line.endswith(
        "Shippo account 'sandbox-shippo': /refunds/ still failing after 5 tries (502: Shippo failed "
        "on every try); the run stopped and the bookmarks are kept: run again later; check Shippo's "
        "status page if it persists"
    )
    assert "rate limit" not in line  # a 5xx is not a rate limit
    assert_no_secret(run.stderr)


def test_settings_errors_name_providers_as_they_spell_themselves():
    config = {
        "shipstation_api_key": "k",
        "shippo_api_token": "not-a-token",
        "shipstation_api_url": "x",
        "shippo_api_url": "http://api.goshippo.com",
    }
    with pytest.raises(ConfigValidationError) as caught:
        configured_accounts(config)
    assert len(caught.value.errors) == 4
    for error in caught.value.errors:
        assert error.startswith(("ShipStation account '", "Shippo account '")), error
        assert "shipstation account" not in error
        assert "shippo account" not in error


def test_a_start_date_out_of_range_is_one_line_naming_the_setting(tmp_path):
    """Not OverflowError's "date value out of range" under a stack trace."""
    config = {**sandbox_config("http://127.0.0.1:9"), "start_date": "0001-01-01T00:00:00Z"}
    run = run_tap(tmp_path, config)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert (
        "start_date 0001-01-01T00:00:00Z is before 1970-01-02; set a day from 1970-01-02 on (e.g. "
        "2024-01-01T00:00:00Z), or leave start_date out to read all history" in run.stderr
    )


def test_a_damaged_bookmark_is_one_line_naming_stream_and_fix(sandbox, tmp_path):
    """A state whose bookmark is not a time: not the SDK's bare ValueError under a stack trace."""
    bookmark = {
        "context": {"account_id": "sandbox-ss"},
        "replication_key": "created_at",
        "replication_key_value": "last week",
    }
    state = {"bookmarks": {"shipstation_shipments": {"partitions": [bookmark]}}}
    run = run_tap(tmp_path, sandbox_config(sandbox.url), state=state)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert (
        "the state's bookmark of shipstation_shipments {'account_id': 'sandbox-ss'} is 'last week', not an "
        "ISO-8601 time; remove that bookmark from the state"
    ) in run.stderr
    assert not run.records


def test_default_account_ids_are_derived_not_secret():
    config = {
        "shipstation_api_key": "key-123",
        "shipstation_api_secret": "secret-456",
        "shippo_api_token": "shippo_live_abcdef",
    }
    accounts = {a.provider: a.account_id for a in configured_accounts(config)}
    assert set(accounts) == {"shipstation", "shippo"}
    assert accounts["shipstation"].startswith("shipstation-")
    assert accounts["shippo"].startswith("shippo-")
    assert accounts == {a.provider: a.account_id for a in configured_accounts(config)}  # stable
    assert not any(secret in str(accounts) for secret in ("key-123", "secret-456", "abcdef"))
