"""local/catalog_sync_local/simulators/pixlpay: Pixlpay: products, webhooks, rate limit."""
