"""Several hubs, one service: session ownership (leases) and the relay between hubs."""
