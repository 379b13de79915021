"""Shopify's error answers, turned into messages a merchant can act on."""

from __future__ import annotations

import re
import typing as t

import requests
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError

SCOPE_PATTERN = re.compile(r"\bread_[a-z_]+")


class ActionableError(ConfigValidationError):
    """A fatal error whose one message says what to fix; the CLI prints just that line.

    It is a :class:`ConfigValidationError`, so any SDK runner stops without a stack trace.
    """

    def __init__(self, message: str) -> None:
        """Keep ``message`` as the single error shown."""
        super().__init__(message, errors=[message])


class MerchantActionError(ActionableError, FatalAPIError):
    """A fatal error the merchant fixes in Shopify or in the tap's settings."""


def http_error(response: requests.Response, store: str, url: str) -> MerchantActionError | None:
    """The merchant-facing error for a 4xx answer, if Shopify's status has one."""
    status = response.status_code
    if status == 401:
        return MerchantActionError(
            "Shopify refused the access token (401: invalid or revoked). Create a new Admin API "
            "access token in the custom app (Settings > Apps and sales channels > Develop apps > "
            "API credentials) and set `access_token`."
        )
    if status == 402:
        return MerchantActionError(
            f"The shop {store} is frozen (402 Payment Required): its Shopify bill is unpaid. The shop "
            "owner must log in to the Shopify admin and pay the outstanding balance, then run the sync again."
        )
    if status == 403:
        scopes = sorted(set(SCOPE_PATTERN.findall(response.text)))
        wanted = ", ".join(scopes) or "the scopes listed in the README"
        return MerchantActionError(
            f"Shopify denied access (403). Grant the app {wanted} and reinstall it, then update `access_token`."
        )
    if status == 404:
        return MerchantActionError(
            f"Store not found: {url} answered 404. Check `store` (the handle before "
            ".myshopify.com) and, if set, `api_url`."
        )
    if status == 423:
        return MerchantActionError(
            f"The shop {store} is locked (423 Locked): Shopify locks a shop that repeatedly exceeds its API "
            "request limits or whose account has a problem (e.g. a suspected compromise or fraud). The shop "
            "owner must contact Shopify Support; run the sync again once the shop is unlocked."
        )
    return None


def access_denied(errors: list[t.Mapping[str, t.Any]]) -> MerchantActionError:
    """The error for GraphQL ``ACCESS_DENIED``, naming the scope Shopify asks for."""
    texts = []
    for error in errors:
        extensions = error.get("extensions") or {}
        texts.append(str(extensions.get("requiredAccess") or ""))
        texts.append(str(error.get("message") or ""))
    scopes = sorted(set(SCOPE_PATTERN.findall(" ".join(texts))))
    # One entry per field, not per node: orders.nodes.0.customer -> orders.nodes.customer
    paths = sorted({".".join(str(p) for p in e.get("path") or [] if not isinstance(p, int)) for e in errors} - {""})
    where = f" to {', '.join(paths)}" if paths else ""
    wanted = ", ".join(f"`{s}`" for s in scopes) or "the missing scope"
    return MerchantActionError(
        f"Shopify denied access{where} (ACCESS_DENIED): the app needs the scope {wanted}. Add it "
        "in the custom app's Admin API scopes, reinstall the app and update `access_token`."
    )


def error_codes(payload: t.Mapping[str, t.Any]) -> list[str]:
    """The ``extensions.code`` of every GraphQL error in an answer."""
    errors = payload.get("errors")
    if not isinstance(errors, list):
        return []
    return [str((e.get("extensions") or {}).get("code") or "") for e in errors if isinstance(e, dict)]


def error_text(payload: t.Mapping[str, t.Any]) -> str:
    """The messages of a GraphQL answer's errors, one line."""
    errors = payload.get("errors")
    if isinstance(errors, str):
        return errors
    return "; ".join(str(e.get("message")) for e in errors or [] if isinstance(e, dict))


def describe(exc: BaseException | None) -> str:
    """A short account of a transient fault (the exception's own text can be a page long)."""
    if isinstance(exc, RetriableAPIError):
        return str(exc)
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc)
        if "refused" in text:
            return "connection refused"
        if "resolution" in text or "not known" in text or "getaddrinfo" in text or "servname" in text:
            return "host name not found"
        if isinstance(exc, requests.exceptions.Timeout) or "timed out" in text:
            return "connection timed out"
        return "connection failed"
    if isinstance(exc, requests.exceptions.Timeout):
        return "no answer in time"
    return type(exc).__name__ if exc else "unknown fault"


def bad_record(stream: str, problem: str, where: str) -> MerchantActionError:
    """The error for a record the tap cannot sync (no key, a cursor of the wrong type ...)."""
    return MerchantActionError(
        f"{stream}: Shopify sent a record the tap cannot sync: {problem} ({where}). The run stops there and "
        "state stays at the last complete window, so nothing is skipped. Run the sync again; if the same "
        "record is refused again, report this line."
    )


def shown(value: object) -> str:
    """A short account of a wrong value: its type and at most 40 characters of it."""
    text = repr(value)
    return f"{text[:40]}{'...' if len(text) > 40 else ''} (type {type(value).__name__})"


def unreachable(url: str, exc: requests.exceptions.ConnectionError, tries: int) -> MerchantActionError:
    """The error for a Shopify endpoint that never answered."""
    return MerchantActionError(
        f"Cannot reach Shopify at {url} ({describe(exc)}, {tries} tries). Check `store` and, if set, "
        "`api_url`, and that this machine can reach it."
    )


def no_answer(stream: str, timeout: float, tries: int) -> MerchantActionError:
    """The error for requests that got no answer within ``request_timeout``, try after try."""
    return MerchantActionError(
        f"{stream}: Shopify sent no answer within `request_timeout` ({timeout:g} s), {tries} tries in a row. "
        "Shopify or the network is slow: run again later (state keeps what was synced), or raise "
        "`request_timeout` (default 300 s)."
    )
