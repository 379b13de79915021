"""Command line: ``bloom-sandbox serve --port 8765 --seed 42 --orders 10000 --plan standard``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import UTC, datetime
from types import FrameType

from bloom_sandbox.server import build_world, make_server
from bloom_sandbox.store.generate import PLANS
from bloom_sandbox.world import SHOP_STATES

log = logging.getLogger("bloom_sandbox")


def _date(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--now must be a date YYYY-MM-DD, not {text!r}") from None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bloom-sandbox", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="generate a store and serve every emulated API on one port")
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="port (0: any free port; default 8765)")
    serve.add_argument("--seed", type=int, default=42, help="seed of the synthetic store (default 42)")
    serve.add_argument("--orders", type=int, default=10000, help="orders in the history (default 10000)")
    serve.add_argument("--months", type=int, default=24, help="months of history (default 24)")
    serve.add_argument("--plan", choices=PLANS, default="standard", help="Shopify plan: sets the rate limit")
    serve.add_argument("--now", type=_date, default=None, help="the store's clock, YYYY-MM-DD (default: today UTC)")
    serve.add_argument(
        "--bulk-scale", type=float, default=0.05, help="seconds a bulk operation runs per 1,000 objects (default 0.05)"
    )
    serve.add_argument(
        "--no-shopify-payments",
        dest="payments",
        action="store_false",
        help="a shop without Shopify Payments: no payouts or balance transactions, shopifyPaymentsAccount null",
    )
    serve.add_argument(
        "--shop-state",
        choices=SHOP_STATES,
        default="active",
        help="frozen: every Admin API call gets HTTP 402; locked: HTTP 423 (default active)",
    )
    serve.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bloom-sandbox`` console script."""
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    problems = [
        text
        for bad, text in (
            (args.bulk_scale < 0, "--bulk-scale must be >= 0"),
            (args.orders < 0, "--orders must be >= 0"),
            (args.months < 1, "--months must be >= 1"),
            (not 0 <= args.port <= 65535, "--port must be from 0 to 65535"),
        )
        if bad
    ]
    if problems:
        for text in problems:
            log.error(text)
        return 2
    log.info(
        "generating store: seed=%s orders=%s months=%s plan=%s shopify_payments=%s shop_state=%s",
        args.seed,
        args.orders,
        args.months,
        args.plan,
        args.payments,
        args.shop_state,
    )
    world = build_world(
        seed=args.seed,
        orders=args.orders,
        months=args.months,
        plan=args.plan,
        now=args.now,
        bulk_scale=args.bulk_scale,
        payments=args.payments,
        shop_state=args.shop_state,
    )
    server = make_server(world, args.host, args.port)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received signal %s, stopping", signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("listening on %s", server.url)
    sys.stderr.flush()
    try:
        server.serve_forever()
    finally:
        server.server_close()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
