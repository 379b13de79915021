"""Test helpers: the sandbox's ad-platform emulators over real HTTP, tap output, truth."""

from __future__ import annotations

import json
import threading
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from bloom_sandbox.ads import credentials, make_apis
from bloom_sandbox.server import Sandbox, SandboxServer, build_world
from bloom_sandbox.world import World

SEED = 42
ORDERS = 2000


@dataclass
class AdsSandbox:
    """The sandbox server with only the ad-platform emulators mounted (the tap needs no others)."""

    url: str
    world: World

    def control(self, method: str, name: str, payload: Any = None) -> Any:
        """Call a /_sandbox control endpoint."""
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(
            f"{self.url}/_sandbox/{name}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def faults(self, *faults: dict[str, Any]) -> None:
        """Replace the injected faults."""
        self.control("POST", "faults", {"faults": list(faults)})

    def truth(self, platform: str) -> dict[str, Any]:
        """The sandbox's ground truth for one platform."""
        return self.control("GET", "truth")[platform]

    def stats(self, platform: str) -> dict[str, int]:
        """The emulator's counters."""
        return self.control("GET", "stats")[platform]

    @property
    def today(self) -> str:
        """The sandbox clock's UTC day (the tap's end_date, so that tests do not depend on the real clock)."""
        return self.world.store.now.date().isoformat()

    def days_ago(self, days: int) -> str:
        """A day relative to the sandbox clock."""
        return (self.world.store.now.date() - timedelta(days=days)).isoformat()

    def config(self, *platforms: str, **overrides: Any) -> dict[str, Any]:
        """A tap config for the given platforms (default: all three)."""
        platforms = platforms or ("meta", "google_ads", "tiktok")
        config: dict[str, Any] = {
            "start_date": self.days_ago(60),
            "end_date": self.today,
            "rate_limit_max_wait_seconds": 0.05,
            "meta_report_poll_seconds": 0.01,
        }
        if "meta" in platforms:
            config |= {
                "meta_access_token": credentials.META_ACCESS_TOKEN,
                "meta_account_ids": ["act_1001", "1002"],
                "meta_api_url": f"{self.url}/meta",
            }
        if "google_ads" in platforms:
            config |= {
                "google_ads_developer_token": credentials.GOOGLE_DEVELOPER_TOKEN,
                "google_ads_client_id": credentials.GOOGLE_CLIENT_ID,
                "google_ads_client_secret": credentials.GOOGLE_CLIENT_SECRET,
                "google_ads_refresh_token": credentials.GOOGLE_REFRESH_TOKEN,
                "google_ads_customer_ids": ["123-456-7890"],
                "google_ads_login_customer_id": credentials.GOOGLE_MANAGER_ID,
                "google_ads_api_url": f"{self.url}/googleads",
                "google_ads_token_url": f"{self.url}/googleads/oauth2/token",
            }
        if "tiktok" in platforms:
            config |= {
                "tiktok_access_token": credentials.TIKTOK_ACCESS_TOKEN,
                "tiktok_advertiser_ids": ["7000000000001"],
                "tiktok_api_url": f"{self.url}/tiktok",
            }
        return config | overrides


@dataclass
class Output:
    """What one tap run wrote."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    log: str = ""
    error: Exception | None = None
    messages: str = ""  # the Singer messages as written

    def spend_by_day(self, platform: str) -> dict[str, dict[str, Decimal]]:
        """Σ spend per account per day, from the ad_spend_daily records."""
        result: dict[str, dict[str, Decimal]] = {}
        for record in self.records.get("ad_spend_daily", []):
            if record["platform"] == platform:
                days = result.setdefault(record["account_id"], {})
                days[record["date"]] = days.get(record["date"], Decimal(0)) + Decimal(record["spend"])
        return result

    def history(self, platform: str, account_id: str) -> list[dict[str, Any]]:
        """The ``HISTORY:`` lines the run logged for one account, in order, as dicts."""
        lines = [json.loads(line.split("HISTORY: ", 1)[1]) for line in self.log.splitlines() if "HISTORY: " in line]
        return [line for line in lines if (line["platform"], line["account_id"]) == (platform, account_id)]

    def partition(self, platform: str, account_id: str) -> dict[str, Any]:
        """The ad_spend_daily state of one account."""
        partitions = self.state["bookmarks"]["ad_spend_daily"]["partitions"]
        return next(p for p in partitions if p["context"] == {"platform": platform, "account_id": account_id})


def truth_by_day(truth: dict[str, Any], start: str, end: str) -> dict[str, dict[str, Decimal]]:
    """The truth's spend per account per day within ``start..end``."""
    return {
        account: {day: Decimal(v) for day, v in block["spend"].items() if start <= day <= end}
        for account, block in truth.items()
    }


def start_sandbox(seed: int = SEED, orders: int = ORDERS, **kwargs: Any) -> tuple[AdsSandbox, SandboxServer]:
    """Serve a fresh world with the ad emulators on a free loopback port, in a thread."""
    world = build_world(seed=seed, orders=orders, **kwargs)
    server = SandboxServer(("127.0.0.1", 0), Sandbox(world, make_apis(world)))
    threading.Thread(target=server.serve_forever, name="ads-sandbox", daemon=True).start()
    return AdsSandbox(server.url, world), server


def stop_sandbox(server: SandboxServer) -> None:
    """Stop a server from :func:`start_sandbox`."""
    server.shutdown()
    server.server_close()
