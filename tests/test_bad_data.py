"""Bad data from Shopify: a clear error naming the stream and record, or the documented tolerance; state never
advances past data that was not loaded.

The real tap-shopify-bloom console script reads a sandbox store through a local HTTP proxy
(pytest-httpserver) that passes every request on and spoils the answers to the orders pages:
malformed JSON, an order without its ``id``, a field of the wrong type, a field Shopify added.
Bulk operations are off (``bulk_threshold`` 0) so that every order comes through the proxy.
After a failed run, the tap is run again from the last STATE it emitted, through a clean proxy:
together the two runs must have emitted every order a clean run emits (nothing lost).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from _helpers import TODAY, run_tap, shopify_config
from _proxy import Proxy, Spoil, error_lines, last_state, messages
from pytest_httpserver import HTTPServer
from werkzeug import Request

from bloom_suite.processes import Sandbox, running_sandbox


def orders_pages(request: Request) -> bool:
    """The requests for a page of orders (not bulk operations, not the shop)."""
    sent = json.loads(request.get_data() or b"{}") if request.method == "POST" else {}
    return str(sent.get("query", "")).lstrip().startswith("query Orders(")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator[Sandbox]:
    log = tmp_path_factory.mktemp("sandbox") / "sandbox.log"
    with running_sandbox(seed=5, orders=150, now=TODAY.isoformat(), log_path=log) as server:
        yield server


@pytest.fixture
def proxy(httpserver: HTTPServer, sandbox: Sandbox) -> Proxy:
    return Proxy(httpserver, sandbox, orders_pages)


def config(proxy: Proxy) -> dict:
    return shopify_config(proxy.url, bulk_threshold=0)


def order_ids(msgs: list[dict]) -> set[str]:
    return {m["record"]["id"] for m in msgs if m["type"] == "RECORD" and m["stream"] == "orders"}


def first_node(spoil_node: Callable[[dict], None]) -> Spoil:
    """Spoil the first order of every orders page with ``spoil_node``."""

    def spoil(page: dict) -> str | None:
        nodes = ((page.get("data") or {}).get("orders") or {}).get("nodes") or []
        if not nodes:
            return None
        spoil_node(nodes[0])
        return json.dumps(page)

    return spoil


@pytest.fixture(scope="module")
def clean_orders(sandbox, tmp_path_factory) -> set[str]:
    """The orders a clean run emits."""
    server = HTTPServer()
    server.start()
    try:
        proxy = Proxy(server, sandbox, orders_pages)
        done = run_tap("tap-shopify-bloom", config(proxy), tmp_path_factory.mktemp("clean"))
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr[-3000:]
    ids = order_ids(messages(done.stdout))
    assert len(ids) > 10
    return ids


def drop_id(node: dict) -> None:
    node.pop("id")


def number_as_updated_at(node: dict) -> None:
    node["updatedAt"] = 1732752000  # the bookmark field, as a number


def drop_line_item_id(node: dict) -> None:
    for item in (node.get("lineItems") or {}).get("nodes") or []:
        item.pop("id")


def drop_refund_id(page: dict) -> str | None:
    """Spoil the first order with refunds of every orders page: its first refund loses its ``id``."""
    nodes = ((page.get("data") or {}).get("orders") or {}).get("nodes") or []
    refunded = [node for node in nodes if node.get("refunds")]
    if not refunded:
        return None
    refunded[0]["refunds"][0].pop("id")
    return json.dumps(page)


# (case, how each orders page is spoiled, texts the error line must hold)
REFUSED = [
    ("an order without its key", first_node(drop_id), ("orders", "id", "gid://shopify/Order/")),
    ("updatedAt of the wrong type", first_node(number_as_updated_at), ("orders", "updatedAt", "gid://shopify/Order/")),
    ("a line item without its key", first_node(drop_line_item_id), ("orders", "KeyError 'id'", "gid://shopify/Order/")),
    ("a refund without its key", drop_refund_id, ("orders", "`refunds` without its key `id`", "gid://shopify/Order/")),
]


@pytest.mark.parametrize(("case", "spoil", "names"), REFUSED, ids=[case[0] for case in REFUSED])
def test_a_bad_record_stops_the_run_and_its_state_loses_nothing(proxy, tmp_path, clean_orders, case, spoil,
                                                                 names):  # fmt: skip
    """The run fails; a clean re-run from its last STATE emits every order the failed run did not."""
    proxy.spoil = spoil
    done = run_tap("tap-shopify-bloom", config(proxy), tmp_path)
    assert done.returncode != 0, f"{case}: the spoiled run did not fail"
    assert proxy.spoiled > 0
    first = messages(done.stdout)
    proxy.spoil = None
    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps(last_state(first)))
    again = run_tap("tap-shopify-bloom", config(proxy), tmp_path, "--state", str(state_file))
    assert again.returncode == 0, again.stderr[-3000:]
    lost = clean_orders - order_ids(first) - order_ids(messages(again.stdout))
    assert not lost, f"{case}: {len(lost)} orders were never emitted: the failed run's STATE went past them"


@pytest.mark.parametrize(("case", "spoil", "names"), REFUSED, ids=[case[0] for case in REFUSED])
def test_a_bad_record_is_named_in_one_clear_error_line(proxy, tmp_path, case, spoil, names):
    proxy.spoil = spoil
    done = run_tap("tap-shopify-bloom", config(proxy), tmp_path)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, f"{case}: a stack trace:\n{done.stderr[-2000:]}"
    lines = error_lines(done.stderr)
    assert any(all(name in line for name in names) for line in lines), (names, lines[-10:])


def test_malformed_json_is_retried_and_nothing_is_lost(proxy, tmp_path, clean_orders):
    """Two garbled answers in a row are retried (a transient fault): the run completes with every order."""
    budget = [2]

    def garble(page: dict) -> str | None:
        if budget[0] <= 0:
            return None
        budget[0] -= 1
        return json.dumps(page)[:200]

    proxy.spoil = garble
    done = run_tap("tap-shopify-bloom", config(proxy), tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert proxy.spoiled == 2
    assert order_ids(messages(done.stdout)) == clean_orders
    assert "not complete JSON" in done.stderr


def test_an_unexpected_new_field_is_ignored(proxy, tmp_path, clean_orders):
    """A field Shopify adds to an order is not in the tap's schema: it is dropped, the run is not stopped."""
    proxy.spoil = first_node(lambda node: node.update({"brandNewField": {"a": 1}}))
    done = run_tap("tap-shopify-bloom", config(proxy), tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert proxy.spoiled > 0
    msgs = messages(done.stdout)
    assert order_ids(msgs) == clean_orders
    assert not [m for m in msgs if m["type"] == "RECORD" and "brandNewField" in json.dumps(m["record"])]
