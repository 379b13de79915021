"""Run the tap with ``python -m tap_adplatforms``."""

from __future__ import annotations

from tap_adplatforms.tap import TapAdPlatforms

TapAdPlatforms.cli()
