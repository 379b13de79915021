"""The history each source still owes, from the taps' ``HISTORY:`` lines to the warehouse.

Each tap logs, per stream and account, a ``HISTORY: {json}`` line when it starts reading and
after each history window (the taps' READMEs, "History progress line"); a run's last line for
a key is what is pending after it. The runner keeps those lines per job and, once a job has
succeeded, writes them to ``bloom_sync.source_history`` in the warehouse (one row per tap,
stream, shop or account; a later run's line replaces the row). The dbt project reads that
table (``stg_sync__source_history``) to mark the report days whose history is still pending.

A job that fails writes nothing: its rows keep what the last successful run said, which is
never less than what is really pending.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg

log = logging.getLogger(__name__)

LINE = re.compile(r"HISTORY: (?P<json>\{.*\})\s*$")
SCHEMA = "bloom_sync"
TABLE = f"{SCHEMA}.source_history"
KEY = ("stream", "shop", "platform", "account_id")
FIGURES = ("months", "months_pending", "pending_from", "pending_to")

CREATE = f"""
    create schema if not exists {SCHEMA};
    create table if not exists {TABLE} (
        plugin text not null,
        stream text not null,
        shop text not null,
        platform text not null,
        account_id text not null,
        months integer,
        months_pending integer,
        pending_from text,
        pending_to text,
        recorded_at timestamptz not null default now(),
        primary key (plugin, stream, shop, platform, account_id)
    )
"""
UPSERT = """
    insert into bloom_sync.source_history
        (plugin, stream, shop, platform, account_id, months, months_pending, pending_from, pending_to)
    values (%s, %s, %s, %s, %s, %s, %s, %s, %s)
    on conflict (plugin, stream, shop, platform, account_id) do update set
        months = excluded.months, months_pending = excluded.months_pending,
        pending_from = excluded.pending_from, pending_to = excluded.pending_to, recorded_at = now()
"""


@dataclass(frozen=True)
class Pending:
    """What one tap said last about one stream's history for one shop or account."""

    plugin: str
    stream: str
    shop: str
    platform: str
    account_id: str
    months: int | None
    months_pending: int | None  # None: some history is pending (``pending_to``), its months not known
    pending_from: str | None
    pending_to: str | None

    @classmethod
    def parse(cls, plugin: str, message: str) -> Pending | None:
        """The pending history a log message states, or None when it is not a well-formed ``HISTORY:`` line."""
        match = LINE.search(message)
        if not match:
            return None
        try:
            said = json.loads(match["json"])
            return cls(
                plugin, str(said["stream"]), *(str(said.get(name) or "") for name in KEY[1:]),
                months=None if said.get("months") is None else int(said["months"]),
                months_pending=None if said["months_pending"] is None else int(said["months_pending"]),
                pending_from=said.get("pending_from"), pending_to=said.get("pending_to"),
            )  # fmt: skip
        except (ValueError, KeyError, TypeError):
            log.warning("%s: a HISTORY line that does not follow the contract was ignored", plugin)
            return None

    @property
    def key(self) -> tuple[str, ...]:
        return (self.plugin, self.stream, self.shop, self.platform, self.account_id)

    @property
    def loaded(self) -> int | None:
        """History months loaded, when both counts are known."""
        return None if self.months is None or self.months_pending is None else self.months - self.months_pending


class HistoryBook:
    """The latest :class:`Pending` per key, for each job."""

    def __init__(self) -> None:
        self.by_job: dict[str, dict[tuple[str, ...], Pending]] = {}

    def note(self, job: str, plugin: str, message: str) -> Pending | None:
        """Keep what ``message`` says, if it is a ``HISTORY:`` line, and return it."""
        pending = Pending.parse(plugin, message)
        if pending is not None:
            self.by_job.setdefault(job, {})[pending.key] = pending
        return pending

    def of(self, job: str) -> list[Pending]:
        return list(self.by_job.get(job, {}).values())


def record_pending(connection: Mapping[str, Any], rows: Iterable[Pending]) -> None:
    """Upsert ``rows`` into ``bloom_sync.source_history`` (created if need be)."""
    rows = list(rows)
    if not rows:
        return
    with psycopg.connect(**connection) as conn:
        conn.execute(CREATE)
        with conn.cursor() as cursor:
            cursor.executemany(UPSERT, [(*row.key, *(getattr(row, name) for name in FIGURES)) for row in rows])
