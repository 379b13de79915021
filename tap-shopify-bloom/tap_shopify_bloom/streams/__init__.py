"""The tap's streams, in sync order: the shop, then the figures reports need first."""

from __future__ import annotations

from tap_shopify_bloom.streams.catalog import ProductsStream
from tap_shopify_bloom.streams.customers import CustomersStream
from tap_shopify_bloom.streams.orders import OrdersStream, TransactionsStream
from tap_shopify_bloom.streams.payments import BalanceTransactionsStream, PayoutsStream
from tap_shopify_bloom.streams.shop import ShopStream

STREAM_TYPES = (
    ShopStream,
    OrdersStream,
    TransactionsStream,
    ProductsStream,
    CustomersStream,
    PayoutsStream,
    BalanceTransactionsStream,
)

__all__ = ["STREAM_TYPES"]
