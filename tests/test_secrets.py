"""No token, password or key in anything the suite writes; http only to loopback; personal data kept out.

The taps run as real processes against a small sandbox store, in successful runs (with DEBUG
logging), in runs the APIs refuse (401) and with wrong settings. Everything they write is
scanned for every secret of their config: logs, Singer messages, state, the catalog, error
output. A whole `meltano run` (through the warehouse pre-flight) is scanned the same way, with
Meltano's system database and every row it loaded.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _helpers import (
    PG_PORT,
    ROOT,
    TARGET_POSTGRES,
    TODAY,
    Run,
    admin_dsn,
    ads_config,
    all_rows_as_text,
    basic_auth,
    fresh_database,
    leaks,
    project,
    run,
    run_tap,
    shipping_config,
    shopify_config,
    user_schemas,
)

from bloom_suite.processes import Sandbox, running_sandbox

CONFIGS = {"tap-shopify-bloom": shopify_config, "tap-adplatforms": ads_config, "tap-shipping": shipping_config}
# Settings that must be marked secret in each tap's --about (a tap that forgets one fails here).
SECRET_SETTINGS = {
    "tap-shopify-bloom": {"access_token"},
    "tap-adplatforms": {"meta_access_token", "google_ads_developer_token", "google_ads_client_secret",
                        "google_ads_refresh_token", "tiktok_access_token"},
    "tap-shipping": {"shipstation_api_key", "shipstation_api_secret", "shippo_api_token"},
}  # fmt: skip
URL_SETTINGS = {
    "tap-shopify-bloom": ["api_url"],
    "tap-adplatforms": ["meta_api_url", "google_ads_api_url", "google_ads_token_url", "tiktok_api_url"],
    "tap-shipping": ["shipstation_api_url", "shippo_api_url"],
}
# Hosts that are not this machine, some of them dressed up as if they were.
REMOTE_HOSTS = ["example.com", "127.0.0.1.example.com", "localhost.example.com", "10.0.0.5", "[2001:db8::1]"]
PERSONAL_FIELDS = ("email", "first_name", "last_name", "phone", "city")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator[Sandbox]:
    log = tmp_path_factory.mktemp("sandbox") / "sandbox.log"
    with running_sandbox(seed=13, orders=50, now=TODAY.isoformat(), log_path=log) as server:
        yield server


def secret_settings(tap: str, tmp_path: Path) -> set[str]:
    """The settings the tap itself marks secret in ``--about --format=json``."""
    about = run_tap(tap, {}, tmp_path, "--about", "--format=json")
    settings = json.loads(about.stdout)["settings"]["properties"]
    return {name for name, spec in settings.items() if spec.get("secret")}


def secrets_of(tap: str, config: dict) -> list[str]:
    """Every secret value of ``config``, and ShipStation's Basic credential built from two of them."""
    values = [str(config[name]) for name in SECRET_SETTINGS[tap] if config.get(name)]
    if config.get("shipstation_api_key") and config.get("shipstation_api_secret"):
        values.append(basic_auth(config["shipstation_api_key"], config["shipstation_api_secret"]))
    return values


def everything(*runs: Run, files: tuple[Path, ...] = ()) -> str:
    """All a set of runs wrote, plus files they left (state, catalog)."""
    texts = [text for result in runs for text in (result.stdout, result.stderr)]
    texts += [path.read_bytes().decode("utf-8", "replace") for path in files if path.exists()]
    return "\n".join(texts)


def last_state(result: Run) -> dict:
    states = [json.loads(line)["value"] for line in result.stdout.splitlines() if '"type":"STATE"' in line]
    assert states, "the run wrote no state"
    return states[-1]


@pytest.mark.parametrize("tap", list(CONFIGS))
def test_every_secret_setting_is_marked_secret(tap, tmp_path):
    assert SECRET_SETTINGS[tap] <= secret_settings(tap, tmp_path)


@pytest.mark.parametrize("tap", ["tap-adplatforms", "tap-shipping"])
def test_no_secret_in_anything_a_sync_writes(sandbox, tmp_path, tap):
    config = CONFIGS[tap](sandbox.url)
    secrets = secrets_of(tap, config)
    catalog = tmp_path / "catalog.json"
    discovered = run_tap(tap, config, tmp_path, "--discover")
    assert discovered.returncode == 0, discovered.stderr[-2000:]
    catalog.write_text(discovered.stdout)
    synced = run_tap(tap, config, tmp_path, "--catalog", str(catalog), env={"LOGLEVEL": "DEBUG"})
    assert synced.returncode == 0, synced.stderr[-3000:]
    assert '"type":"RECORD"' in synced.stdout  # a real sync was scanned, not an empty one
    assert "DEBUG" in synced.stderr
    state = tmp_path / "state.json"
    state.write_text(json.dumps(last_state(synced)))
    again = run_tap(tap, config, tmp_path, "--catalog", str(catalog), "--state", str(state))
    assert again.returncode == 0, again.stderr[-3000:]
    tested = run_tap(tap, config, tmp_path, "--test")
    scanned = everything(discovered, synced, again, tested, files=(catalog, state))
    assert leaks(scanned, secrets) == []
    assert "ya29." not in scanned  # nor the Google access tokens the refresh token bought during the run


@pytest.mark.parametrize(
    ("tap", "wrong"),
    [
        ("tap-shopify-bloom", {"access_token": "shpat_refused_1b2c3d4e"}),
        ("tap-adplatforms", {"meta_access_token": "meta_refused_1b2c3d4e"}),
        ("tap-adplatforms", {"google_ads_client_secret": "google_refused_1b2c3d4e"}),
        ("tap-adplatforms", {"google_ads_developer_token": "google_dev_refused_1b2c3d4e"}),
        ("tap-adplatforms", {"tiktok_access_token": "tiktok_refused_1b2c3d4e"}),
        ("tap-shipping", {"shipstation_api_secret": "ss_refused_1b2c3d4e"}),
        ("tap-shipping", {"shippo_api_token": "shippo_live_refused_1b2c3d4e"}),
    ],
    ids=[
        "shopify token",
        "meta token",
        "google client secret",
        "google developer token",
        "tiktok token",
        "shipstation secret",
        "shippo token",
    ],
)
def test_no_secret_when_an_api_refuses_it(sandbox, tmp_path, tap, wrong):
    config = CONFIGS[tap](sandbox.url, **wrong)
    result = run_tap(tap, config, tmp_path, env={"LOGLEVEL": "DEBUG"})
    assert result.returncode != 0, "the API accepted a wrong credential: the scan proved nothing"
    assert "Traceback" not in result.stderr
    assert leaks(everything(result), secrets_of(tap, config)) == []


@pytest.mark.parametrize("tap", list(CONFIGS))
def test_no_secret_when_a_setting_is_wrong(sandbox, tmp_path, tap):
    config = CONFIGS[tap](sandbox.url, start_date="not a date")
    results = [run_tap(tap, config, tmp_path), run_tap(tap, config, tmp_path, "--test")]
    for result in results:
        assert result.returncode != 0
    assert leaks(everything(*results), secrets_of(tap, config)) == []


@pytest.mark.parametrize(
    ("tap", "setting"), [(tap, setting) for tap, settings in URL_SETTINGS.items() for setting in settings]
)
def test_plain_http_is_refused_except_to_loopback(sandbox, tmp_path, tap, setting):
    host = REMOTE_HOSTS[sum(map(ord, setting)) % len(REMOTE_HOSTS)]  # a different disguise per setting
    config = CONFIGS[tap](sandbox.url, **{setting: f"http://{host}:8080/api"})
    result = run_tap(tap, config, tmp_path)
    assert result.returncode != 0
    assert result.stdout == ""
    assert [line for line in result.error_lines if setting in line and "https" in line], result.stderr[-2000:]
    assert leaks(result.stderr, secrets_of(tap, config)) == []


def test_tls_verification_is_never_turned_off():
    pattern = re.compile(r"verify\s*=\s*False|CERT_NONE|check_hostname\s*=\s*False|PYTHONHTTPSVERIFY|"
                         r"disable_warnings|sslmode=(disable|allow)")  # fmt: skip
    sources = [path for part in ("tap-shopify-bloom", "tap-adplatforms", "tap-shipping", "bloom_suite")
               for path in (ROOT / part).rglob("*.py") if "tests" not in path.parts]  # fmt: skip
    assert len(sources) > 20
    offenders = [f"{path.relative_to(ROOT)}:{number}" for path in sources
                 for number, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]  # fmt: skip
    assert offenders == []


def test_the_scan_finds_a_secret_in_every_form_it_could_take():
    secret = "s3cr3t/token+value"
    for text in (f"x{secret}y", "a=s3cr3t%2Ftoken%2Bvalue", f"Basic {basic_auth('key', secret)}",
                 f"b64 {base64.b64encode(secret.encode()).decode()}"):  # fmt: skip
        assert leaks(text, [secret, basic_auth("key", secret)]) != [], text
    assert leaks("nothing here", [secret]) == []


def test_shopify_sync_leaks_no_secret_and_customer_personal_fields_never_reach_postgres(sandbox, tmp_path):
    """One test for the Shopify tap's scan and its PII setting: its syncs take seconds each."""
    config = shopify_config(sandbox.url, pii="keep")
    discovered = run_tap("tap-shopify-bloom", config, tmp_path, "--discover")
    kept = run_tap("tap-shopify-bloom", config, tmp_path, env={"LOGLEVEL": "DEBUG"})
    assert kept.returncode == 0, kept.stderr[-3000:]
    assert "DEBUG" in kept.stderr
    state = tmp_path / "state.json"
    state.write_text(json.dumps(last_state(kept)))
    again = run_tap("tap-shopify-bloom", config, tmp_path, "--state", str(state))
    assert again.returncode == 0, again.stderr[-3000:]
    assert leaks(everything(discovered, kept, again, files=(state,)), secrets_of("tap-shopify-bloom", config)) == []
    customers = {r["id"]: r for r in records(kept, "customers")}
    personal = {r[field] for r in customers.values() for field in PERSONAL_FIELDS if r.get(field)}
    emails = {r["email"] for r in customers.values() if r.get("email")}
    assert len(customers) >= 10
    assert len(emails) >= 10  # a store with personal data to lose, or the test proves nothing
    distinctive = {value for value in personal if len(value) >= 8}  # names like "Ann" also make up product titles
    assert {r["phone"] for r in customers.values() if r.get("phone")} <= distinctive

    for mode in ("hash", "drop"):
        result = run_tap("tap-shopify-bloom", shopify_config(sandbox.url, pii=mode), tmp_path)
        assert result.returncode == 0, result.stderr[-3000:]
        assert [value for value in distinctive if value in result.stdout + result.stderr] == []
        for record in records(result, "customers"):
            original = customers[record["id"]]
            for field in PERSONAL_FIELDS:
                if mode == "drop" or not original.get(field):
                    assert record.get(field) is None, (mode, field)
                else:
                    expected = hashlib.sha256(original[field].strip().lower().encode()).hexdigest()
                    assert record[field] == expected, (mode, field)
        if mode == "hash":
            loaded = load_into_postgres(result, tmp_path)
            assert "raw_shopify" in loaded["schemas"]
            assert len(loaded["rows"]) > 1000  # rows were loaded and scanned
            assert [value for value in distinctive if value in loaded["rows"]] == []
            assert leaks(loaded["rows"], secrets_of("tap-shopify-bloom", config)) == []


def records(result: Run, stream: str) -> list[dict]:
    prefix = f'{{"type":"RECORD","stream":"{stream}"'
    return [json.loads(line)["record"] for line in result.stdout.splitlines() if line.startswith(prefix)]


def test_shipping_customer_personal_fields_never_reach_postgres_unless_kept(sandbox, tmp_path):
    """tap-shipping's pii setting, from the sandbox over HTTP into a real Postgres: every email and name the
    sandbox's shipping truth lists (ShipStation's customers, Shippo's label buyers) is in the loaded rows with
    keep, and in none with hash or drop (the tables scanned whole, as text)."""
    truth = sandbox.get("/_sandbox/truth")
    personal = {value for provider in ("shipstation", "shippo") for kind in ("emails", "names")
                for value in truth[provider]["personal"][kind]}  # fmt: skip
    assert len(truth["shipstation"]["personal"]["emails"]) >= 10  # personal data to lose, or the test proves nothing
    assert truth["shippo"]["personal"]["names"]
    for mode in ("keep", "hash", "drop"):
        config = shipping_config(sandbox.url, start_date=None, pii=mode)  # all history: the truth's labels
        result = run_tap("tap-shipping", config, tmp_path)
        assert result.returncode == 0, result.stderr[-3000:]
        loaded = load_into_postgres(result, tmp_path, "raw_shipping")
        assert loaded["schemas"] == ["raw_shipping"]
        assert loaded["rows"].count("\n") >= truth["shipstation"]["labels"] + truth["shippo"]["labels"]
        found = {value for value in personal if value in loaded["rows"]}
        assert found == (personal if mode == "keep" else set()), (mode, sorted(found)[:5])
        if mode != "keep":
            assert [value for value in personal if value in result.stdout + result.stderr] == []


def load_into_postgres(result: Run, tmp_path: Path, schema: str = "raw_shopify") -> dict:
    """Feed a tap's output to the real target-postgres in a fresh database; return what landed."""
    messages = tmp_path / "messages.jsonl"
    messages.write_text(result.stdout)
    with fresh_database() as database:
        config = tmp_path / "target.json"
        config.write_text(json.dumps({"host": "127.0.0.1", "port": int(PG_PORT), "user": "postgres",
                                      "password": "unused", "database": database,
                                      "default_target_schema": schema}))  # fmt: skip
        loaded = run([str(TARGET_POSTGRES), "--config", str(config)], stdin=messages)
        assert loaded.returncode == 0, loaded.stderr[-3000:]
        return {"schemas": user_schemas(admin_dsn(database)), "rows": all_rows_as_text(admin_dsn(database))}


def meltano_env(sandbox: Sandbox, database: str, system_db: Path, start_date: str) -> dict[str, str]:
    return {
        **os.environ,
        "BLOOM_PG_PORT": PG_PORT,
        "BLOOM_PG_DATABASE": database,
        "BLOOM_SANDBOX_PORT": sandbox.url.rsplit(":", 1)[1],
        "BLOOM_START_DATE": start_date,
        "MELTANO_DATABASE_URI": f"sqlite:///{system_db}",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def test_a_meltano_run_refused_by_an_api_leaks_no_secret(sandbox, tmp_path):
    wrong = "shippo_live_refused_9d8c7b6a"
    with fresh_database() as database:
        env = {
            **meltano_env(sandbox, database, tmp_path / "meltano.db", shipping_config(sandbox.url)["start_date"]),
            "TAP_SHIPPING_SHIPPO_API_TOKEN": wrong,
        }  # the environment wins over meltano.yml
        result = run([sys.executable, "-m", "bloom_suite.sync", "--environment=demo", "tap-shipping",
                      "target-postgres"], cwd=project(), env=env, timeout=300)  # fmt: skip
        assert result.returncode != 0
        assert "credentials refused (401); check shippo_api_token" in result.stderr
        assert user_schemas(admin_dsn(database)) == []  # the tap checks each account before its first message
        assert leaks(everything(result, files=(tmp_path / "meltano.db",)), [wrong, "ss_sandbox_secret"]) == []


def test_a_whole_meltano_run_leaks_no_secret(sandbox, tmp_path):
    """`python -m bloom_suite.sync` (pre-flight, then meltano run) of the ads and shipping taps."""
    demo = {
        **ads_config(sandbox.url), **shipping_config(sandbox.url),
        "BLOOM_PG_PASSWORD": "trust-auth-ignores-it",  # the demo environment's, see meltano.yml
    }  # fmt: skip
    secrets = secrets_of("tap-adplatforms", demo) + secrets_of("tap-shipping", demo) + [demo["BLOOM_PG_PASSWORD"]]
    with fresh_database() as database:
        system_db = tmp_path / "meltano.db"
        env = meltano_env(sandbox, database, system_db, demo["start_date"])
        result = run(
            [
                sys.executable,
                "-m",
                "bloom_suite.sync",
                "--environment=demo",
                "tap-adplatforms",
                "target-postgres",
                "tap-shipping",
                "target-postgres",
            ],
            cwd=project(),
            env=env,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-4000:]
        assert "answers; starting meltano run" in result.stderr
        rows = all_rows_as_text(admin_dsn(database))
        assert {"raw_ads", "raw_shipping"} <= set(user_schemas(admin_dsn(database)))
        assert rows.count("\n") > 50
        scanned = everything(result, files=(system_db,)) + rows
        assert "ad_spend_daily" in scanned  # state and logs were really there to scan
        assert leaks(scanned, secrets) == []
