"""local/catalog_sync_local/cli: the catalog-sync command: local start/invoke/generate-event, hooks,
ops."""
