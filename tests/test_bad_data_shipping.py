"""Bad data from ShipStation and Shippo: a clear error naming the stream and record, or the documented
tolerance (a new field is kept); state never advances past data that was not loaded.

The real tap-shipping console script reads the sandbox through a local HTTP proxy that spoils
the list answers of one provider (ShipStation ``/shipments``, Shippo ``/transactions/``): a label
without its id, a creation time of the wrong type, malformed JSON, a field the provider added.
A bad record is the last of its page, so the records before it are emitted first. After a
failed run, the tap runs again from the last STATE it emitted through a clean proxy: together
the two runs must have emitted every label a clean run emits (raw records and shipping_labels).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from _helpers import TODAY, run_tap, shipping_config
from _proxy import Proxy, clean_messages, fails_then_recovers, last_state, messages, records_but, spoil_matrix
from werkzeug import Request

from bloom_suite.processes import Sandbox, running_sandbox


@dataclass(frozen=True)
class Provider:
    """Where one provider's list answers are and what its records are called."""

    name: str
    label: str  # how messages name the account (its derived id follows)
    stream: str
    key: str  # the raw record's id
    created: str  # the raw record's creation time
    list_path: str
    rows_key: str
    settings: str  # the prefix of its settings
    clean_answers: int  # answers with rows left clean (Shippo's credential probe lists labels)


PROVIDERS = {
    "shipstation": Provider("shipstation", "ShipStation account 'shipstation-", "shipstation_shipments",
                            "shipmentId", "createDate", "/shipstation/shipments", "shipments", "shipstation_", 0),
    "shippo": Provider("shippo", "Shippo account 'shippo-", "shippo_transactions", "object_id", "object_created",
                       "/shippo/transactions/", "results", "shippo_", 1),
}  # fmt: skip


NEW_VALUE = {"note": "a value that is never logged", "n": 1}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator[Sandbox]:
    log = tmp_path_factory.mktemp("sandbox") / "sandbox.log"
    with running_sandbox(seed=5, orders=150, now=TODAY.isoformat(), log_path=log) as server:
        yield server


def picks(provider: Provider) -> Callable[[Request], bool]:
    return lambda request: request.method == "GET" and request.path == provider.list_path


def config(provider: Provider, url: str) -> dict:
    """shipping_config with only ``provider``'s settings; retries start after 0.05 s."""
    other = next(p for p in PROVIDERS.values() if p is not provider)
    full = shipping_config(url, retry_initial_seconds=0.05)
    return {k: v for k, v in full.items() if not k.startswith(other.settings)}


def label_keys(provider: Provider) -> Callable[[list[dict]], set[tuple]]:
    """The provider's raw records and shipping_labels rows among Singer messages."""

    def keys(msgs: list[dict]) -> set[tuple]:
        records = [m for m in msgs if m["type"] == "RECORD"]
        raw = {(provider.stream, str(m["record"][provider.key])) for m in records if m["stream"] == provider.stream}
        return raw | {("shipping_labels", m["record"]["label_id"]) for m in records
                      if m["stream"] == "shipping_labels" and m["record"]["provider"] == provider.name}  # fmt: skip

    return keys


@pytest.fixture(scope="module")
def clean_runs(sandbox, tmp_path_factory) -> dict[str, list[dict]]:
    """Per provider, the messages of a clean run."""
    found = {name: clean_messages("tap-shipping", sandbox, tmp_path_factory.mktemp(name), picks(provider),
                                  lambda url, provider=provider: config(provider, url))
             for name, provider in PROVIDERS.items()}  # fmt: skip
    sizes = {name: len(label_keys(PROVIDERS[name])(msgs)) for name, msgs in found.items()}
    assert all(size >= 6 for size in sizes.values()), sizes
    return found


def last_row(provider: Provider, spoil_row: Callable[[Provider, dict, int], str]) -> tuple[Any, list[str]]:
    """Spoil the last record of every list answer with records (but the first ``clean_answers``); the list
    collects how the error should name each spoiled record."""
    seen, names = [0], []

    def spoil(answer: Any) -> str | None:
        rows = answer.get(provider.rows_key) or []
        if not rows:
            return None
        seen[0] += 1
        if seen[0] <= provider.clean_answers:
            return None
        names.append(spoil_row(provider, rows[-1], len(rows)))
        return json.dumps(answer)

    return spoil, names


def without_id(provider: Provider, row: dict, place: int) -> str:
    row.pop(provider.key)
    return f"the record number {place} of its page has no {provider.key}"


def created_as_number(provider: Provider, row: dict, place: int) -> str:
    row[provider.created] = 1732752000
    return f"the record {provider.key} {row[provider.key]} has {provider.created} 1732752000, which is not"


SPOILS = [("a label without its id", without_id), ("the creation time of the wrong type", created_as_number)]


@pytest.mark.parametrize(("name", "case", "spoil_row"), spoil_matrix(list(PROVIDERS), SPOILS))
def test_a_bad_record_stops_the_run_with_one_line_and_its_state_loses_nothing(
        httpserver, sandbox, tmp_path, clean_runs, name, case, spoil_row):  # fmt: skip
    provider = PROVIDERS[name]
    proxy = Proxy(httpserver, sandbox, picks(provider))
    proxy.spoil, names = last_row(provider, spoil_row)
    expected = lambda: (provider.stream, provider.label, names[0], "What to do: run again")  # noqa: E731
    fails_then_recovers(
        "tap-shipping",
        config(provider, proxy.url),
        proxy,
        tmp_path,
        label_keys(provider),
        label_keys(provider)(clean_runs[name]),
        expected,
    )


@pytest.mark.parametrize("name", PROVIDERS)
def test_malformed_json_is_retried_and_a_new_field_kept(httpserver, sandbox, tmp_path, clean_runs, name):
    """The first list answer is garbled (a transient fault: retried), every other one carries a field the
    provider added: each raw record keeps its name in extra_fields, one warning names it (not its value), and the
    run otherwise equals the clean run (every record of every stream, shipping_labels too, and the state)."""
    provider = PROVIDERS[name]
    proxy = Proxy(httpserver, sandbox, picks(provider))
    garbled = [0]

    def spoil(answer: Any) -> str | None:
        if not garbled[0]:
            garbled[0] += 1
            return json.dumps(answer)[:-10]
        for row in answer.get(provider.rows_key) or []:
            row["brand_new_field"] = NEW_VALUE
        return json.dumps(answer)

    proxy.spoil = spoil
    done = run_tap("tap-shipping", config(provider, proxy.url), tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert proxy.spoiled >= 2
    assert "incomplete JSON from" in done.stderr
    got, clean = messages(done.stdout), clean_runs[name]
    raw = [m["record"] for m in got if m["type"] == "RECORD" and m["stream"] == provider.stream]
    assert raw
    # pii hash (the default): the new field's name, not its value (the tap cannot know whether it is personal)
    assert all(record["extra_fields"] == {"brand_new_field": None} for record in raw)
    assert NEW_VALUE["note"] not in done.stdout
    assert all(m["record"].get("extra_fields") is None for m in clean if m["type"] == "RECORD")
    assert records_but(got, "extra_fields") == records_but(clean, "extra_fields")
    assert last_state(got) == last_state(clean)
    named = [line for line in done.stderr.splitlines() if "the tap does not know" in line]
    assert len(named) == 1, named
    assert all(text in named[0] for text in (f"{provider.stream}: ", provider.label, "'brand_new_field'",
                                             "extra_fields"))  # fmt: skip
    assert NEW_VALUE["note"] not in done.stderr


def test_malformed_json_that_persists_ends_in_one_line(httpserver, sandbox, tmp_path):
    provider = PROVIDERS["shipstation"]
    proxy = Proxy(httpserver, sandbox, picks(provider))
    proxy.spoil = lambda answer: json.dumps(answer)[:-10]
    done = run_tap("tap-shipping", config(provider, proxy.url), tmp_path)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    expected = (
        provider.label,
        "/shipments still failing after 5 tries (the answer of /shipments was not "
        "complete JSON); the run stopped and the bookmarks are kept: run again later",
    )
    assert any(all(text in line for text in expected) for line in done.stderr.splitlines()), done.stderr[-2000:]
