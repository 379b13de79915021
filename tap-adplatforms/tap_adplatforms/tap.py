"""tap-adplatforms: daily ad spend and results from Meta, Google Ads and TikTok."""

from __future__ import annotations

from singer_sdk import Stream, Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import ConfigValidationError
from typing_extensions import override

from tap_adplatforms import settings
from tap_adplatforms.streams import SOURCES, STREAM_TYPES


class TapAdPlatforms(Tap):
    """Singer tap for the Meta Marketing, Google Ads and TikTok Business APIs."""

    name = "tap-adplatforms"
    config_jsonschema = settings.CONFIG_SCHEMA
    message_writer_class = MsgSpecWriter

    @override
    def discover_streams(self) -> list[Stream]:
        errors = settings.problems(self.config)
        if errors:
            raise ConfigValidationError("Invalid tap-adplatforms settings", errors=errors)
        sources = {p: SOURCES[p](self) for p in settings.configured_platforms(self.config)}
        return [stream_type(self, sources) for stream_type in STREAM_TYPES]

    @override
    def sync_all(self) -> None:
        errors = settings.problems(self.config, require_platform=True)
        if errors:
            raise ConfigValidationError("Invalid tap-adplatforms settings", errors=errors)
        super().sync_all()


if __name__ == "__main__":
    TapAdPlatforms.cli()
