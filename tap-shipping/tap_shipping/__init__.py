"""Singer tap for shipping label costs from ShipStation and Shippo."""
