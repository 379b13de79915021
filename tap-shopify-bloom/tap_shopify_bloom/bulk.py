"""Bulk operations: submit a query, poll it, stream its JSONL and join children to parents.

Shopify writes one JSON line per node; a nested node carries ``__parentId`` and, from API
2026-01, may come before its parent. The file is downloaded to a temporary file (again after
a transient fault), its lines go into a temporary SQLite file (never held in memory) and are
read back parent by parent with their children.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import time
import typing as t
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_shopify_bloom.errors import MerchantActionError

if t.TYPE_CHECKING:
    from tap_shopify_bloom.client import ShopifyStream

BULK_QUERIES = resources.files("tap_shopify_bloom") / "queries" / "bulk"
FINISHED = {"COMPLETED", "FAILED", "CANCELED", "EXPIRED"}
BUSY_CODES = {"OPERATION_IN_PROGRESS", "LIMIT_REACHED"}


class BulkFailedError(Exception):
    """A bulk operation ended without a complete result."""

    def __init__(self, operation: dict[str, t.Any]) -> None:
        """Keep the final operation (status, errorCode, partialDataUrl)."""
        super().__init__(
            f"bulk operation {operation.get('id')} ended {operation.get('status')} ({operation.get('errorCode')})"
        )
        self.operation = operation


class BulkResultUnavailableError(Exception):
    """A bulk result file could not be read (its signed URL expired, or it is gone)."""


def bulk_query_text(stream_name: str, search: str) -> str:
    """The bulk query of a stream with its window's search filter filled in."""
    return (BULK_QUERIES / f"{stream_name}.graphql").read_text().replace('"SEARCH"', json.dumps(search))


@dataclass
class BulkClient:
    """Bulk operations through a stream's GraphQL client (same auth, bucket and retries)."""

    stream: ShopifyStream
    poll_seconds: float = 0.5
    max_poll_seconds: float = 10.0

    def submit(self, query: str) -> str:
        """Start a bulk query; wait while the shop's concurrent-operation limit is reached."""
        delay = self.poll_seconds
        while True:
            result = self.stream.graphql("bulk_run", {"query": query})["bulkOperationRunQuery"]
            errors = result.get("userErrors") or []
            if not errors:
                return str(result["bulkOperation"]["id"])
            if not {e.get("code") for e in errors} <= BUSY_CODES:
                messages = "; ".join(str(e.get("message")) for e in errors)
                raise MerchantActionError(f"Shopify refused the bulk query of '{self.stream.name}': {messages}")
            time.sleep(delay)
            delay = min(self.max_poll_seconds, delay * 2)

    def poll(self, operation_id: str) -> dict[str, t.Any]:
        """The operation's current status."""
        return self.stream.graphql("bulk_poll", {"id": operation_id}).get("node") or {
            "id": operation_id,
            "status": "EXPIRED",
        }

    def wait(self, operation_id: str) -> dict[str, t.Any]:
        """Poll until the operation has finished; return it."""
        delay = self.poll_seconds
        while True:
            operation = self.poll(operation_id)
            if operation.get("status") in FINISHED:
                return operation
            time.sleep(delay)
            delay = min(self.max_poll_seconds, delay * 1.5)

    def lines(self, url: str) -> t.Iterator[dict[str, t.Any]]:
        """The JSONL at ``url`` (a signed URL: no Shopify token is sent), line by line.

        The file is downloaded to a temporary file first, and downloaded again whole after a
        transient fault (5xx, 429, a reset, a truncated body): memory stays flat, no line
        comes twice.
        """
        with scratch_folder() as folder:
            path = folder / "result.jsonl"
            self._download(url, path)
            with path.open("rb") as file:
                for line in file:
                    if line.strip():
                        yield json.loads(line)

    @cached_property
    def _download(self) -> t.Callable[[str, Path], None]:
        """:meth:`download_once` with the stream's retries."""
        return self.stream.with_retries(self.download_once)

    def download_once(self, url: str, path: Path) -> None:
        """Write the file at ``url`` to ``path``."""
        with requests.get(url, stream=True, timeout=self.stream.timeout) as response:
            status = response.status_code
            if status in {400, 403, 404, 410}:  # e.g. an expired signed URL
                raise BulkResultUnavailableError(f"bulk result unavailable ({status})")
            if status == 429 or status >= 500:
                raise RetriableAPIError(f"Shopify answered {status} to a bulk result download; retrying", response)
            response.raise_for_status()
            with path.open("wb") as file:
                for chunk in response.iter_content(chunk_size=1 << 16):
                    file.write(chunk)


@contextmanager
def scratch_folder() -> t.Iterator[Path]:
    """A temporary folder, deleted when the block ends, also in a generator the garbage
    collector closes (where ``TemporaryDirectory``'s own finalizer may come first and warn)."""
    folder = Path(tempfile.mkdtemp(prefix="tap-shopify-bloom-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def gid_number(gid: object) -> int | None:
    """The number at the end of a GID (``gid://shopify/LineItem/12`` -> 12), if it has one."""
    tail = str(gid).rsplit("/", 1)[-1] if gid else ""
    return int(tail) if tail.isdigit() else None


def joined_nodes(
    lines: t.Iterable[dict[str, t.Any]],
    children: t.Mapping[str, str],
) -> t.Iterator[dict[str, t.Any]]:
    """Root nodes with their children attached as ``{field: {"nodes": [...]}}``.

    ``children`` maps a child's GID type (``LineItem``) to its parent's field
    (``lineItems``). Lines may come in any order; children are attached in the order
    of their ids, which is the order they were added in. A paged query lists an
    order's line items and shipping lines that way too, so both paths give the same
    record. (A product's variants are listed by ``position``, which a merchant can
    change: the products stream sorts them by it, whichever path they came by.)
    """
    with scratch_folder() as folder:
        database = sqlite3.connect(folder / "bulk.sqlite")
        try:
            database.execute("CREATE TABLE line (seq INTEGER PRIMARY KEY, parent TEXT, number INTEGER, body TEXT)")
            database.executemany(
                "INSERT INTO line (parent, number, body) VALUES (?, ?, ?)",
                ((line.get("__parentId"), gid_number(line.get("id")), json.dumps(line)) for line in lines),
            )
            database.execute("CREATE INDEX line_parent ON line (parent)")
            roots = database.execute("SELECT body FROM line WHERE parent IS NULL ORDER BY seq")
            for (body,) in roots:
                node = json.loads(body)
                for field in children.values():
                    node[field] = {"nodes": []}
                rows = database.execute(
                    "SELECT body FROM line WHERE parent = ? ORDER BY number, seq", (node.get("id"),)
                )
                for (child_body,) in rows:
                    child = json.loads(child_body)
                    child.pop("__parentId", None)
                    kind = str(child.get("id", "")).split("/")[-2] if child.get("id") else ""
                    if kind in children:
                        node[children[kind]]["nodes"].append(child)
                yield node
        finally:
            database.close()
