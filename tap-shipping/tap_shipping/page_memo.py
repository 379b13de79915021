"""Pages one stream read, kept for the other stream of the same account that reads them too.

With a raw stream and ``shipping_labels`` both selected, both ask an account for the same
list pages in one run (the same URLs when their bookmarks agree, as they do after a run
that synced both). Whichever runs first leaves each page here and the other takes it
instead of spending a request of the rate limit. A page is handed out once; pages nobody
takes are dropped with the memo (its file closed and deleted). Nothing is kept unless both
streams are selected.

A first sync reads the whole history before the second reader starts, so the bodies wait in
a temporary file (compressed), not in memory: the process stays small however long the
history (a 100k-order store's pages held as responses took the tap to 426 MB).
"""

from __future__ import annotations

import tempfile
import threading
import weakref
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

import requests
from requests.structures import CaseInsensitiveDict


@dataclass(frozen=True)
class _Kept:
    """Where a page's compressed body sits in the file, and what rebuilds its response."""

    offset: int
    length: int
    status_code: int
    headers: dict[str, str]
    encoding: str | None
    url: str


class PageMemo:
    """Successful list responses by URL, for one account and one run."""

    def __init__(self, labels_selected: Callable[[], bool]) -> None:
        """``labels_selected()`` says whether ``shipping_labels`` is part of this run."""
        self.labels_selected = labels_selected
        self._pages: dict[str, _Kept] = {}
        self._file: IO[bytes] | None = None
        self._lock = threading.Lock()
        self.hits = 0

    def keep(self, response: requests.Response) -> None:
        """Keep a page for the other reader."""
        body = zlib.compress(response.content, 1)
        url = response.request.url or response.url
        with self._lock:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="tap-shipping-pages-")  # noqa: SIM115 (lives with the memo)
                weakref.finalize(self, self._file.close)
            offset = self._file.seek(0, 2)
            self._file.write(body)
            headers = dict(response.headers)
            self._pages[url] = _Kept(offset, len(body), response.status_code, headers, response.encoding, response.url)

    def take(self, request: requests.PreparedRequest) -> requests.Response | None:
        """The page kept for ``request``'s URL, once, as a response to ``request``."""
        with self._lock:
            kept = self._pages.pop(request.url or "", None)
            if kept is None or self._file is None:
                return None
            self.hits += 1
            self._file.seek(kept.offset)
            body = self._file.read(kept.length)
        response = requests.Response()
        response._content = zlib.decompress(body)
        response.status_code = kept.status_code
        response.headers = CaseInsensitiveDict(kept.headers)
        response.encoding = kept.encoding
        response.url = kept.url
        response.request = request
        return response
