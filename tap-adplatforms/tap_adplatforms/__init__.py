"""Singer tap for ad spend from Meta, Google Ads and TikTok."""
