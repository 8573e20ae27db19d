"""One connector per system, over the shared rate-limit-aware HTTP client."""
