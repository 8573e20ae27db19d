"""local/catalog_sync_local/simulators/medusa: Medusa v2: products, categories, sales channels, brands."""
