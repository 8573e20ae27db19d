"""local/catalog_sync_local/simulators/bigcommerce: BigCommerce: catalog in layers, routes, webhooks,
checks against the spec."""
