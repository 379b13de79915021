"""Settings are checked at start, with one message naming the setting and the fix."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from singer_sdk.exceptions import ConfigValidationError
from tap_shopify_bloom.settings import CONFIG_SCHEMA, parse_settings, schema_refusal
from tap_shopify_bloom.tap import TapShopifyBloom

from tests.helpers import error_lines, run_cli

VALID = {"store": "my-shop", "access_token": "shpat_x", "start_date": "2025-01-01"}
NOW = datetime(2026, 11, 28, tzinfo=UTC)


def test_defaults_and_normalisation():
    settings = parse_settings({**VALID, "store": "My-Shop.myshopify.com"}, now=NOW)
    assert settings.store == "my-shop"
    assert settings.api_url == "https://my-shop.myshopify.com"
    assert settings.graphql_url == "https://my-shop.myshopify.com/admin/api/2026-10/graphql.json"
    assert settings.start_date == datetime(2025, 1, 1, tzinfo=UTC)
    assert (settings.initial_window_days, settings.pii, settings.max_concurrency) == (7, "hash", 3)
    assert settings.request_timeout == 300
    assert parse_settings({**VALID, "request_timeout": 2.5}, now=NOW).request_timeout == 2.5


@pytest.mark.parametrize(
    ("override", "setting"),
    [
        ({"store": "my shop!"}, "store"),
        ({"access_token": " "}, "access_token"),
        ({"start_date": "2027-01-01"}, "start_date"),
        ({"start_date": "last tuesday"}, "start_date"),
        ({"api_url": "http://example.com"}, "api_url"),
        ({"api_url": "ftp://127.0.0.1"}, "api_url"),
        ({"api_version": "2026-13"}, "api_version"),
        ({"max_concurrency": 9}, "max_concurrency"),
        ({"initial_window_days": 0}, "initial_window_days"),
        ({"bulk_threshold": -1}, "bulk_threshold"),
        ({"pii": "mask"}, "pii"),
        ({"request_timeout": 0}, "request_timeout"),
        ({"request_timeout": -5}, "request_timeout"),
    ],
)
def test_invalid_values_name_the_setting(override, setting):
    with pytest.raises(ConfigValidationError) as caught:
        parse_settings({**VALID, **override}, now=NOW)
    assert caught.value.errors[0].startswith(f"Setting `{setting}`")


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9", "https://x.example"])
def test_http_only_for_loopback(url):
    assert parse_settings({**VALID, "api_url": url}, now=NOW).api_url == url


def test_cli_refuses_bad_setting_without_traceback(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({**VALID, "start_date": "2999-01-01"}))
    run = subprocess.run(
        [sys.executable, "-m", "tap_shopify_bloom.tap", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 1
    assert "Setting `start_date`: 2999-01-01 is in the future. Use a date in the past." in run.stderr
    assert "Traceback" not in run.stderr


def test_about_markdown_documents_every_setting():
    run = subprocess.run(
        [sys.executable, "-m", "tap_shopify_bloom.tap", "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for setting, spec in CONFIG_SCHEMA["properties"].items():  # every setting, with its description
        row = next((line for line in run.stdout.splitlines() if line.startswith(f"| {setting} |")), "")
        assert spec["description"].split("`")[0][:40] in row, setting


def test_settings_from_environment_variables():
    env = {
        "PATH": "/usr/bin:/bin",
        "TAP_SHOPIFY_BLOOM_STORE": "my-shop",
        "TAP_SHOPIFY_BLOOM_ACCESS_TOKEN": "shpat_x",
        "TAP_SHOPIFY_BLOOM_START_DATE": "2025-01-01",
        "TAP_SHOPIFY_BLOOM_MAX_CONCURRENCY": "7",
    }
    run = subprocess.run(
        [sys.executable, "-m", "tap_shopify_bloom.tap", "--config", "ENV"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert run.returncode == 1
    assert "Setting `max_concurrency`: 7 is out of range. Use a number from 1 to 5." in run.stderr


WRONG = [
    ({"store": "My Store!"}, "Setting `store`: 'My Store!' is not a store handle."),
    ({"api_url": "http://shop.example.com"}, "Setting `api_url`: plain http is not allowed for shop.example.com."),
    ({"start_date": "2999-01-01"}, "Setting `start_date`: 2999-01-01 is in the future."),
    ({"access_token": None}, "Setting `access_token`: it is missing. Set it to the Admin API access token"),
    ({"pii": "mask"}, "Setting `pii`: 'mask' is not an option. Use one of 'keep', 'hash', 'drop'."),
    ({"max_concurrency": "three"}, "Setting `max_concurrency`: 'three' is not a whole number. Use a number from 1"),
    ({"request_timeout": 0}, "Setting `request_timeout`: 0 is not more than 0. Use a number of seconds greater than 0"),
]


@pytest.mark.parametrize(("override", "message"), WRONG, ids=[next(iter(o)) for o, _ in WRONG])
@pytest.mark.parametrize("mode", [("--discover",), ()], ids=["discover", "sync"])
def test_wrong_setting_is_one_line_in_discovery_and_sync(tmp_path, override, message, mode):
    config = {k: v for k, v in {**VALID, **override}.items() if v is not None}
    run = run_cli(config, tmp_path, *mode)
    assert run.returncode == 1
    assert run.stdout == ""  # no catalog, no message
    errors = error_lines(run.stderr)
    assert len(errors) == 1, errors  # the SDK's "Config validation failed" is gone too
    assert message in errors[0]
    assert "WARNING" not in run.stderr


def test_discovery_is_offline(httpserver, tmp_path):
    run = run_cli({**VALID, "api_url": httpserver.url_for("/").rstrip("/")}, tmp_path, "--discover")
    assert run.returncode == 0, run.stderr
    assert {s["tap_stream_id"] for s in json.loads(run.stdout)["streams"]} >= {"shop", "orders", "payouts"}
    assert httpserver.log == []


def test_schema_refusal_never_shows_a_secret():
    token = "shpat_1234567890"
    message = str(schema_refusal({**VALID, "access_token": [token]}, TapShopifyBloom.config_jsonschema))
    assert message == (
        "Setting `access_token`: it is not text. Set it to the Admin API access token of your custom app (`shpat_...`)."
    )
    assert token not in message
