"""Local emulators of the Shopify, ad-platform and shipping APIs, seeded with a synthetic store."""
