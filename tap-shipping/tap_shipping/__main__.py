"""Run the tap as ``python -m tap_shipping``."""

from tap_shipping.tap import TapShipping

TapShipping.cli()
