"""Handler settings from the function's environment (names are a contract with template.yaml)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from catalog_sync.errors import ConfigurationError


@dataclass(frozen=True)
class Settings:
    events_table: str
    state_table: str
    queue_url: str
    connections_secret_id: str
    stage: str = "dev"
    event_retention_days: int = 7
    stuck_after_s: int = 900
    pull_overlap_s: int = 300
    full_sync_page_size: int = 250
    retry_backoff_base_s: int = 30
    dead_letter_queue_url: str | None = None
    lease_s: int = 120  # the per-entity lease of a sync (entity_sync): >= 2x the consumer's timeout

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        required = {
            "events_table": "EVENTS_TABLE_NAME",
            "state_table": "STATE_TABLE_NAME",
            "queue_url": "SYNC_QUEUE_URL",
            "connections_secret_id": "CONNECTIONS_SECRET_ID",
        }
        missing = [name for name in required.values() if not env.get(name)]
        if missing:
            raise ConfigurationError(f"missing environment variables: {', '.join(missing)}")
        try:
            return cls(
                **{field: env[name] for field, name in required.items()},
                stage=env.get("STAGE", "dev"),
                event_retention_days=int(env.get("EVENT_RETENTION_DAYS", "7")),
                stuck_after_s=int(env.get("STUCK_AFTER_SECONDS", "900")),
                pull_overlap_s=int(env.get("PULL_OVERLAP_SECONDS", "300")),
                full_sync_page_size=int(env.get("FULL_SYNC_PAGE_SIZE", "250")),
                retry_backoff_base_s=int(env.get("RETRY_BACKOFF_BASE_SECONDS", "30")),
                dead_letter_queue_url=env.get("SYNC_DLQ_URL") or None,
                lease_s=int(env.get("SYNC_LEASE_SECONDS", "120")),
            )
        except ValueError as exc:
            raise ConfigurationError(f"invalid numeric setting: {exc}") from exc
