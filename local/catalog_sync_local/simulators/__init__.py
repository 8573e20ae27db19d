"""local/catalog_sync_local/simulators: the stores we sync, simulated on 127.0.0.1 (tests, demo, local
start)."""
