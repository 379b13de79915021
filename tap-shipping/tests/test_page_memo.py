"""The page memo hands a kept page back once, whole, without holding its body in memory."""

from __future__ import annotations

import json

import requests
from tap_shipping.page_memo import PageMemo

URL = "https://api.goshippo.com/transactions/?results=100&page=2"


def response(body: bytes) -> requests.Response:
    kept = requests.Response()
    kept._content = body
    kept.status_code = 200
    kept.headers = requests.structures.CaseInsensitiveDict({"Content-Type": "application/json"})
    kept.url = URL
    kept.request = requests.Request("GET", URL).prepare()
    return kept


def test_kept_page_comes_back_once_as_a_response_to_the_new_request():
    page = {"next": None, "results": [{"object_id": f"t{i}", "rate": {"amount": "7.25"}} for i in range(5000)]}
    body = json.dumps(page).encode()
    memo = PageMemo(labels_selected=lambda: True)
    memo.keep(response(body))
    held = [value for kept in memo._pages.values() for value in vars(kept).values()]
    assert not any(isinstance(value, bytes | requests.Response) for value in held)  # the body waits on disk
    again = requests.Request("GET", URL).prepare()
    taken = memo.take(again)
    assert taken is not None
    assert taken.content == body
    assert taken.json() == page
    assert taken.status_code == 200
    assert taken.headers["content-type"] == "application/json"
    assert taken.request is again
    assert taken.url == URL
    assert memo.take(again) is None  # handed out once
    assert memo.hits == 1
    other = requests.Request("GET", URL.replace("page=2", "page=3")).prepare()
    assert memo.take(other) is None
