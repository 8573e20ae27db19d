"""local/catalog_sync_local/demo: make demo: the scenario, source-vs-destination comparison, sample
events."""
