"""Docker-free local runtime for catalog-sync, driven by template.yaml (moto + in-process handlers)."""
