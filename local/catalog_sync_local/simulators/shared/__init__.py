"""local/catalog_sync_local/simulators/shared: what they share: HTTP and JSON servers, failure
injection, virtual time."""
