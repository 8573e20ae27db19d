"""local/catalog_sync_local/dashboard: make dashboard: the template dashboard evaluated over EMF
metrics, and drawn."""
