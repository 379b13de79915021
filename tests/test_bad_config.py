"""Wrong settings stop the run before anything is written, with one line naming the setting and the fix.

Each case runs the real console script of a tap (sync, or ``--discover``) against a small
sandbox store, or ``python -m bloom_suite.sync`` (the warehouse pre-flight before ``meltano
run``) against a real PostgreSQL. Nothing may reach stdout (no Singer message, no catalog),
no stack trace may show, and exactly one error line must name the setting and what to do.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from _helpers import (
    TODAY,
    admin_dsn,
    ads_config,
    fresh_database,
    project,
    run,
    run_tap,
    shipping_config,
    shopify_config,
    user_schemas,
)

from bloom_suite.embedded_pg import EmbeddedPostgres
from bloom_suite.processes import Sandbox, free_port, running_sandbox

WRONG = "wrong_7f3a9c_token"  # a credential no API of the sandbox accepts
FUTURE = (TODAY + timedelta(days=400)).isoformat()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator[Sandbox]:
    log = tmp_path_factory.mktemp("sandbox") / "sandbox.log"
    with running_sandbox(seed=11, orders=50, now=TODAY.isoformat(), log_path=log) as server:
        yield server


def assert_refused(result, *expected: str, secrets: tuple[str, ...] = ()) -> str:
    """The run failed with one explaining line holding every ``expected`` text; nothing was emitted."""
    assert result.returncode != 0, f"the run did not fail:\n{result.stderr[-2000:]}"
    assert "Traceback" not in result.stderr, result.stderr[-4000:]
    assert result.stdout == "", f"something was emitted before the refusal: {result.stdout[:500]}"
    lines = result.error_lines
    assert len(lines) == 1, "expected one explaining line, got:\n" + "\n".join(lines or [result.stderr[-2000:]])
    for text in expected:
        assert text in lines[0], f"{text!r} not in: {lines[0]}"
    for secret in secrets:
        assert secret not in result.stderr
    return lines[0]


# (case id, tap, config change, texts the line must hold). A value None removes the setting.
SHOPIFY_CASES = [
    ("missing token", {"access_token": None}, ("access_token",)),
    ("malformed store", {"store": "My Store!"}, ("store", "my-shop")),
    ("start_date in the future", {"start_date": FUTURE}, ("start_date", "future", "in the past")),
    ("start_date not a date", {"start_date": "last tuesday"}, ("start_date", "not a date", "2024-01-01")),
    ("http to a remote host", {"api_url": "http://bloom-demo.myshopify.com"}, ("api_url", "Use https")),
    ("unknown API version", {"api_version": "2026-13"}, ("api_version", "2026-10")),
    ("zero initial window", {"initial_window_days": 0}, ("initial_window_days", "at least 1")),
    ("unknown PII mode", {"pii": "mask"}, ("pii", "'keep', 'hash', 'drop'")),
    ("too many bulk operations", {"max_concurrency": 9}, ("max_concurrency", "1 to 5")),
]
ADS_CASES = [
    ("missing start_date", {"start_date": None}, ("start_date is required", "set it")),
    ("start_date in the future", {"start_date": FUTURE}, ("start_date", "in the future", "past day")),
    ("start_date not a date", {"start_date": "01/02/2024"}, ("start_date", "YYYY-MM-DD")),
    ("http to a remote host", {"meta_api_url": "http://graph.facebook.com"}, ("meta_api_url", "https://")),
    ("malformed API version", {"meta_api_version": "21"}, ("meta_api_version", "v21.0")),
    ("sunset API version", {"google_ads_api_version": "v12"}, ("google_ads_api_version", "sunset", "v21")),
    ("negative initial window", {"initial_window_days": -5}, ("initial_window_days", "minimum of 1", "change")),
    ("zero re-read window", {"google_ads_lookback_days": 0}, ("google_ads_lookback_days", "minimum of 1")),
    ("unknown platform", {"snapchat_access_token": "x"}, ("snapchat_access_token", "not a setting", "tiktok")),
    ("misspelled setting", {"meta_acount_ids": ["1001"]}, ("meta_acount_ids", "did you mean meta_account_ids")),
    ("zero request timeout", {"request_timeout": 0}, ("request_timeout", "minimum of 0", "change")),
    ("platform half configured", {"tiktok_advertiser_ids": None}, ("TikTok", "tiktok_advertiser_ids")),
    ("account id not an id", {"meta_account_ids": ["my-shop-ads"]}, ("meta_account_ids", "digits")),
]
SHIPPING_CASES = [
    ("missing API secret", {"shipstation_api_secret": None}, ("shipstation_api_secret is missing", "API Settings")),
    ("start_date not a date", {"start_date": "soon"}, ("start_date", "2024-01-01")),
    ("start_date in the future", {"start_date": FUTURE}, ("start_date", "in the future", "past day")),
    ("start_date out of range", {"start_date": "0001-01-01"}, ("start_date", "before 1970-01-02", "set a day")),
    ("http to a remote host", {"shippo_api_url": "http://api.goshippo.com"}, ("shippo_api_url", "https://")),
    ("negative re-read window", {"lookback_days": -3}, ("lookback_days", "minimum of 0", "change")),
    ("zero request pace", {"shippo_requests_per_minute": 0}, ("shippo_requests_per_minute", "change")),
    ("zero request timeout", {"request_timeout": 0}, ("request_timeout", "minimum of 0", "change")),
    ("malformed token", {"shippo_api_token": "sk_live_123"}, ("shippo_api_token", "shippo_live_")),
    ("unknown currency", {"shipstation_currency": "dollars"}, ("shipstation_currency", "USD")),
    ("misspelled setting", {"shipstation_api_secrte": "x"}, ("did you mean shipstation_api_secret",)),
]
CONFIGS = {"tap-shopify-bloom": shopify_config, "tap-adplatforms": ads_config, "tap-shipping": shipping_config}
CASES = [
    pytest.param(tap, change, expected, id=f"{tap}: {name}")
    for tap, cases in (("tap-shopify-bloom", SHOPIFY_CASES), ("tap-adplatforms", ADS_CASES),
                       ("tap-shipping", SHIPPING_CASES))
    for name, change, expected in cases
]  # fmt: skip


@pytest.mark.parametrize(("tap", "change", "expected"), CASES)
def test_a_wrong_setting_stops_the_sync_before_any_message(sandbox, tmp_path, tap, change, expected):
    before = sandbox.get("/_sandbox/stats")["requests"]
    result = run_tap(tap, CONFIGS[tap](sandbox.url, **change), tmp_path)
    assert_refused(result, *expected)
    assert sandbox.get("/_sandbox/stats")["requests"] == before, "the tap called an API despite a wrong setting"


@pytest.mark.parametrize(
    ("tap", "change", "expected"),
    [
        ("tap-adplatforms", {"tiktok_api_url": "http://business-api.tiktok.com"}, ("tiktok_api_url", "https://")),
        ("tap-adplatforms", {"bogus": 1, "meta_api_version": "latest"}, ()),  # two problems: checked below
        ("tap-shipping", {"shipstation_api_url": "http://ssapi.shipstation.com"}, ("shipstation_api_url", "https")),
    ],
    ids=["tap-adplatforms: remote http", "tap-adplatforms: two problems", "tap-shipping: remote http"],
)
def test_discovery_with_a_wrong_setting_prints_no_catalog_and_no_stack_trace(sandbox, tmp_path, tap, change, expected):
    result = run_tap(tap, CONFIGS[tap](sandbox.url, **change), tmp_path, "--discover")
    if expected:
        assert_refused(result, *expected)
    else:  # every problem gets its own line
        assert result.returncode != 0
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
        assert [("bogus" in line, "meta_api_version" in line) for line in result.error_lines] == [
            (True, False),
            (False, True),
        ]


@pytest.mark.parametrize(
    ("tap", "change", "expected"),
    [
        ("tap-adplatforms", {"meta_access_token": WRONG}, ("Meta", "meta_access_token")),
        ("tap-adplatforms", {"google_ads_refresh_token": WRONG}, ("Google Ads", "google_ads_refresh_token")),
        ("tap-adplatforms", {"tiktok_access_token": WRONG}, ("TikTok", "tiktok_access_token")),
        (
            "tap-shipping",
            {"shippo_api_token": "shippo_live_" + WRONG},
            ("credentials refused (401)", "shippo_api_token"),
        ),
        ("tap-shipping", {"shipstation_api_key": WRONG}, ("credentials refused (401)", "shipstation_api_key")),
        (
            "tap-shipping",
            {"shipstation_api_url": "http://127.0.0.1:9/shipstation", "retry_initial_seconds": 0.01},
            ("cannot reach http://127.0.0.1:9/shipstation", "shipstation_api_url"),
        ),
        (
            "tap-adplatforms",
            {"tiktok_api_url": "http://127.0.0.1:9/tiktok", "request_max_tries": 1},
            ("TikTok account", "cannot reach tiktok_api_url http://127.0.0.1:9/tiktok", "check tiktok_api_url"),
        ),
    ],
    ids=[
        "tap-adplatforms: refused Meta token",
        "tap-adplatforms: revoked Google refresh token",
        "tap-adplatforms: refused TikTok token",
        "tap-shipping: refused Shippo token",
        "tap-shipping: refused ShipStation key",
        "tap-shipping: nothing listens at the URL",
        "tap-adplatforms: nothing listens at the URL",
    ],
)
def test_a_refused_credential_or_dead_url_stops_the_sync_before_any_message(sandbox, tmp_path, tap, change, expected):
    result = run_tap(tap, CONFIGS[tap](sandbox.url, **change), tmp_path)
    assert_refused(result, *expected, secrets=(WRONG,))


# ---- the warehouse: python -m bloom_suite.sync, the pre-flight of `meltano run` ----


def preflight(tmp_path, **env: str):
    """``python -m bloom_suite.sync --environment=dev sync-shipping`` with the warehouse settings ``env``."""
    settings = {"BLOOM_PG_HOST": "127.0.0.1", "BLOOM_PG_PORT": "5432", "BLOOM_PG_USER": "postgres",
                "BLOOM_PG_PASSWORD": "not-needed", "BLOOM_PG_DATABASE": "postgres", "BLOOM_PG_SSL_ENABLE": "false",
                "BLOOM_PG_SSL_MODE": "disable", **env}  # fmt: skip
    environ = {**os.environ, **settings, "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
               "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"}  # fmt: skip
    return run([sys.executable, "-m", "bloom_suite.sync", "--environment=dev", "sync-shipping"], cwd=project(),
               env=environ)  # fmt: skip


def assert_preflight_refused(result, *expected: str) -> str:
    line = assert_refused(result, *expected)
    assert result.returncode == 2
    assert "Running job" not in result.stderr, "meltano run started despite the refusal"
    return line


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"BLOOM_PG_PORT": "5999"}, ("cannot reach PostgreSQL at 127.0.0.1:5999", "BLOOM_PG_PORT")),
        ({"BLOOM_PG_HOST": "127.0.0.2"}, ("cannot reach PostgreSQL at 127.0.0.2:5432", "BLOOM_PG_HOST")),
        (
            {"BLOOM_PG_HOST": "warehouse.invalid", "BLOOM_PG_SSL_ENABLE": "true", "BLOOM_PG_SSL_MODE": "require"},
            ("cannot reach PostgreSQL at warehouse.invalid:5432", "resolve"),
        ),
        ({"BLOOM_PG_HOST": ""}, ("`host`", "is not set", "BLOOM_PG_HOST")),
        ({"BLOOM_PG_PORT": "54x2"}, ("`port`", "not a TCP port", "BLOOM_PG_PORT")),
        ({"BLOOM_PG_DATABASE": "no_such_warehouse"}, ("no database 'no_such_warehouse'", "createdb")),
        ({"BLOOM_PG_USER": "no_such_user"}, ("no user 'no_such_user'", "BLOOM_PG_USER")),
        ({"BLOOM_PG_HOST": "db.example.com"}, ("db.example.com:5432", "without TLS", "BLOOM_PG_SSL_ENABLE=true")),
        ({"BLOOM_PG_SSL_ENABLE": "true", "BLOOM_PG_SSL_MODE": "verify-full"}, ("ssl_mode", "TLS", "127.0.0.1:5432")),
    ],
    ids=[
        "port unreachable",
        "host unreachable",
        "host unknown",
        "host missing",
        "port not a number",
        "database missing",
        "user missing",
        "remote without TLS",
        "TLS refused",
    ],
)
def test_a_wrong_warehouse_setting_stops_before_meltano_runs(tmp_path, env, expected):
    assert_preflight_refused(preflight(tmp_path, **env), *expected)


@pytest.fixture(scope="module")
def password_postgres(tmp_path_factory) -> Iterator[EmbeddedPostgres]:
    """A real PostgreSQL that checks passwords (scram-sha-256), with an empty database ``bloom``."""
    server = EmbeddedPostgres(data_dir=tmp_path_factory.mktemp("pwpg") / "pgdata", port=free_port())
    server.start()
    try:
        with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
            conn.execute("create database bloom")
            conn.execute("alter user postgres password 'the-right-one'")
            hba = server.data_dir / "pg_hba.conf"
            hba.write_text("local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n")
            conn.execute("select pg_reload_conf()")
        yield server
    finally:
        server.stop()


def test_a_wrong_password_is_named_and_nothing_is_written(tmp_path, password_postgres):
    wrong = "the-wrong-one-5b1e"
    result = preflight(tmp_path, BLOOM_PG_PORT=str(password_postgres.port), BLOOM_PG_PASSWORD=wrong,
                       BLOOM_PG_DATABASE="bloom")  # fmt: skip
    line = assert_preflight_refused(result, "refused the password of user 'postgres'", "BLOOM_PG_PASSWORD",
                                    f"127.0.0.1:{password_postgres.port}")  # fmt: skip
    assert wrong not in result.stderr
    assert "the-right-one" not in line
    dsn = f"host=127.0.0.1 port={password_postgres.port} user=postgres dbname=bloom password="
    assert user_schemas(dsn + "the-right-one") == []  # nothing written, and the server does check passwords:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(dsn + wrong).close()


def test_a_user_without_create_rights_is_named(tmp_path):
    with fresh_database() as database:
        with psycopg.connect(admin_dsn(database), autocommit=True) as conn:
            conn.execute("drop role if exists bloom_reader_test")
            conn.execute("create role bloom_reader_test login")
        try:
            result = preflight(tmp_path, BLOOM_PG_USER="bloom_reader_test", BLOOM_PG_DATABASE=database)
            assert_preflight_refused(result, "may not create schemas", f"grant create on database {database}")
            assert user_schemas(admin_dsn(database)) == []
        finally:
            with psycopg.connect(admin_dsn(), autocommit=True) as conn:
                conn.execute(f'drop database "{database}" with (force)')
                conn.execute("drop role bloom_reader_test")


def test_a_wrong_tap_setting_in_a_meltano_run_is_one_line_and_writes_nothing(sandbox, tmp_path):
    with fresh_database() as database:
        env = {
            **os.environ,
            "BLOOM_PG_PORT": "5432",
            "BLOOM_PG_DATABASE": database,
            "BLOOM_SANDBOX_PORT": sandbox.url.rsplit(":", 1)[1],
            "BLOOM_START_DATE": TODAY.isoformat(),
            "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "TAP_ADPLATFORMS_TIKTOK_API_URL": "http://business-api.tiktok.com",
        }  # the environment wins
        before = sandbox.get("/_sandbox/stats")["requests"]
        result = run([sys.executable, "-m", "bloom_suite.sync", "--environment=demo", "tap-adplatforms",
                      "target-postgres"], cwd=project(), env=env, timeout=300)  # fmt: skip
        assert result.returncode != 0
        assert "Traceback" not in result.stderr
        explained = [line for line in result.stderr.splitlines() if line.startswith("2") and "tiktok_api_url" in line]
        assert len(explained) == 1, explained
        assert "https://" in explained[0]
        assert user_schemas(admin_dsn(database)) == []
        assert sandbox.get("/_sandbox/stats")["requests"] == before
