"""local/catalog_sync_local/runtime: template.yaml on one machine: moto stack, workers, pollers, HTTP
API, schedules."""
