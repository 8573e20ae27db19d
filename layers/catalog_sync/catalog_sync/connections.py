"""Which systems are connected, and how.

The whole document lives in one Secrets Manager secret (it holds API tokens and webhook secrets);
locally it is `config/connections.local.yaml`. Handlers load it through a TTL cache so that a
rotated secret is picked up without a redeploy.
"""

from __future__ import annotations

import fnmatch
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from catalog_sync.errors import ConfigurationError, UnknownConnection

SigningScheme = Literal["standard-webhooks", "bigcommerce-legacy", "pixlpay", "shopify"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BigCommerceEndpoint(_Frozen):
    kind: Literal["bigcommerce"] = "bigcommerce"
    store_hash: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")]
    access_token: SecretStr
    # Overridden for the local store simulator; production uses the public API host.
    api_url: str = "https://api.bigcommerce.com"
    # Requests/second this connection may spend on the store (its plan's quota is shared with other apps).
    max_requests_per_second: float = 4.0

    @property
    def v3_base(self) -> str:
        return f"{self.api_url.rstrip('/')}/stores/{self.store_hash}/v3"


class Signing(_Frozen):
    scheme: SigningScheme = "standard-webhooks"
    # Several secrets are accepted at once so that a rotation never rejects a valid delivery.
    secrets: Annotated[list[SecretStr], Field(min_length=1)]
    # Standard Webhooks: how far a delivery's timestamp may be from now, either way.
    tolerance_seconds: int = 300
    # bigcommerce-legacy: the custom header set at hook registration.
    header_name: str = "X-Catalog-Sync-Secret"


class Connection(_Frozen):
    name: str
    source: BigCommerceEndpoint
    destination: BigCommerceEndpoint
    signing: Signing
    # Webhook scopes this connection syncs; a signed event of another scope is acknowledged and ignored.
    scopes: list[str] = Field(
        default_factory=lambda: ["store/product/*", "store/category/*", "store/sku/*"],
    )
    # Seed 003's STORE_B_CHANNEL_ON_STORE_A: the channel on the source that represents the destination.
    channel_on_source: int | None = None

    def syncs_scope(self, scope: str) -> bool:
        return any(fnmatch.fnmatchcase(scope, pattern) for pattern in self.scopes)


class ConnectionsDocument(_Frozen):
    connections: dict[str, Connection]

    @classmethod
    def parse(cls, raw: object) -> ConnectionsDocument:
        """Accept `{name: {...}}` under `connections`, filling each entry's `name` from its key."""
        if not isinstance(raw, dict) or not isinstance(raw.get("connections"), dict):
            raise ConfigurationError("connections document must be a mapping with a 'connections' mapping")
        entries = {
            name: {**body, "name": name} if isinstance(body, dict) else body
            for name, body in raw["connections"].items()
        }
        try:
            return cls.model_validate({"connections": entries})
        except ValueError as exc:
            raise ConfigurationError(f"invalid connections document: {exc}") from exc

    def get(self, name: str) -> Connection:
        try:
            return self.connections[name]
        except KeyError:
            raise UnknownConnection(f"unknown connection '{name}'") from None
