"""Errors a merchant can act on, as the sandbox answers them over real HTTP."""

from __future__ import annotations

import logging

import pytest
from bloom_sandbox.testing import running_sandbox
from tap_shopify_bloom.errors import MerchantActionError

from tests.helpers import error_lines, run_cli, run_sync
from tests.sandbox_client import tap_config

LIMITED_TOKEN = "shpat_sandbox_limited_token"


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox(seed=5, orders=40, months=2, plan="plus") as running:
        yield running


def test_revoked_token(sandbox):
    with pytest.raises(MerchantActionError, match=r"401: invalid or revoked.*`access_token`"):
        run_sync(tap_config(sandbox, access_token="shpat_revoked"), streams=["shop"])


REFUSALS = {
    "401": ("access_token", "shpat_revoked", "Shopify refused the access token (401"),
    "404": ("api_url", "/nowhere", "Store not found"),
}


@pytest.mark.parametrize("refusal", REFUSALS)
@pytest.mark.parametrize("mode", [(), ("--test",)], ids=["sync", "test"])
def test_refused_run_writes_no_message(sandbox, tmp_path, refusal, mode):
    # A `meltano run` would otherwise have its loader create tables before the failure.
    setting, value, message = REFUSALS[refusal]
    value = sandbox.url + value if setting == "api_url" else value
    run = run_cli(tap_config(sandbox, **{setting: value}), tmp_path, *mode)
    assert run.returncode == 1
    assert run.stdout == ""
    errors = error_lines(run.stderr)
    assert len(errors) == 1, errors
    assert message in errors[0]


@pytest.mark.parametrize(
    ("stream", "scope"),
    [("customers", "read_customers"), ("payouts", "read_shopify_payments_payouts")],
)
def test_missing_scope_is_named(sandbox, stream, scope):
    with pytest.raises(MerchantActionError, match=f"ACCESS_DENIED.*`{scope}`"):
        run_sync(tap_config(sandbox, access_token=LIMITED_TOKEN), streams=[stream])


def test_retired_version_is_reported(sandbox, caplog):
    with caplog.at_level(logging.WARNING):
        result = run_sync(tap_config(sandbox, api_version="2024-01"), streams=["shop"])
    assert result.records["shop"]
    assert "served API version 2025-10 instead of 2024-01" in caplog.text


def test_unknown_version_path_is_store_not_found(sandbox):
    with pytest.raises(MerchantActionError, match="Store not found"):
        run_sync(tap_config(sandbox, api_version="unstable", api_url=f"{sandbox.url}/nowhere"), streams=["shop"])


def test_missing_scope_on_a_nested_field_is_named_once(sandbox):
    # Order.customer needs read_customers: one line names the field and the scope.
    with pytest.raises(MerchantActionError) as caught:
        run_sync(tap_config(sandbox, access_token=LIMITED_TOKEN), streams=["orders"])
    message = str(caught.value)
    assert "orders.nodes.customer (ACCESS_DENIED)" in message
    assert "`read_customers`" in message
    assert message.count("customer") == 2
