"""Pages one stream read, kept for the other stream of the same account that reads them too.

With a raw stream and ``shipping_labels`` both selected, both ask an account for the same
list pages in one run (the same URLs when their bookmarks agree, as they do after a run
that synced both). Whichever runs first leaves each page here and the other takes it
instead of spending a request of the rate limit. A page is handed out once; pages nobody
takes are dropped with the process. Nothing is kept unless both streams are selected.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import requests


class PageMemo:
    """Successful list responses by URL, for one account and one run."""

    def __init__(self, labels_selected: Callable[[], bool]) -> None:
        """``labels_selected()`` says whether ``shipping_labels`` is part of this run."""
        self.labels_selected = labels_selected
        self._pages: dict[str, requests.Response] = {}
        self._lock = threading.Lock()
        self.hits = 0

    def keep(self, response: requests.Response) -> None:
        """Keep a page for the other reader."""
        with self._lock:
            self._pages[response.request.url or response.url] = response

    def take(self, url: str) -> requests.Response | None:
        """The page kept for ``url``, once."""
        with self._lock:
            response = self._pages.pop(url, None)
            self.hits += response is not None
            return response
