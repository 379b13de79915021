"""tap-adplatforms: daily ad spend and results from Meta, Google Ads and TikTok."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import click
from singer_sdk import Stream, Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError
from typing_extensions import override

from tap_adplatforms import settings
from tap_adplatforms.streams import AdPlatformsStream, configured_streams


class TapAdPlatforms(Tap):
    """Singer tap for the Meta Marketing, Google Ads and TikTok Business APIs."""

    name = "tap-adplatforms"
    config_jsonschema = settings.CONFIG_SCHEMA
    message_writer_class = MsgSpecWriter

    @override
    def discover_streams(self) -> list[Stream]:
        self._check_settings(require_platform=False)
        return list(configured_streams(self))

    @override
    def sync_all(self) -> None:
        self._check_settings(require_platform=True)
        self._check_accounts()
        super().sync_all()

    def _check_accounts(self) -> None:
        """Read each account once before any message, so a refused token or an unknown account
        stops the run before a table is created. The answer is kept for ``<platform>_ad_accounts``.
        ``ad_spend_daily`` holds every configured platform's source (a sync needs at least one)."""
        stream = self.streams["ad_spend_daily"]
        assert isinstance(stream, AdPlatformsStream)
        for platform, source in stream.sources.items():
            for account_id in settings.account_ids(self.config, platform):
                source.account(account_id)

    def _check_settings(self, *, require_platform: bool) -> None:
        known = set(self.config_jsonschema["properties"])
        errors = settings.problems(self.config, require_platform=require_platform, known=known)
        if errors:
            raise ConfigValidationError("Invalid tap-adplatforms settings", errors=errors)

    # The command line: a wrong setting or a refused credential is one line naming the setting
    # and the fix, never a stack trace. The SDK already does so for settings checked while a
    # sync starts; these hooks extend it to --discover, --test and errors the APIs answer.

    @classmethod
    def _explained(cls, ctx: click.Context, run: Callable[[], None]) -> None:
        try:
            run()
        except ConfigValidationError as exc:
            for error in exc.errors or [str(exc)]:
                cls.logger.error("%s", _readable(error))
            cls.logger.error("Config validation failed")
            ctx.exit(1)
        except FatalAPIError as exc:
            cls.logger.error("%s", exc)
            ctx.exit(1)

    @classmethod
    @override
    def invoke(cls, **kwargs: Any) -> None:  # type: ignore[override]
        cls._explained(click.get_current_context(), lambda: super(TapAdPlatforms, cls).invoke(**kwargs))

    @classmethod
    @override
    def cb_discover(cls, ctx: click.Context, param: click.Option, value: bool) -> None:
        cls._explained(ctx, lambda: super(TapAdPlatforms, cls).cb_discover(ctx, param, value))

    @classmethod
    @override
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        cls._explained(ctx, lambda: super(TapAdPlatforms, cls).cb_test(ctx, param, value))


def _readable(error: str) -> str:
    """A JSON-schema error of the settings, turned around to start with the setting and end with the fix."""
    if match := re.fullmatch(r"(.*) in config\['(\w+)'\]", error):
        return f"{match[2]}: {match[1]}; change {match[2]} (tap-adplatforms --about describes every setting)"
    if match := re.fullmatch(r"'(\w+)' is a required property", error):
        return f"{match[1]} is required: set it (tap-adplatforms --about describes every setting)"
    return error


if __name__ == "__main__":
    TapAdPlatforms.cli()
