"""Which systems are connected, and how.

The whole document lives in one Secrets Manager secret (it holds API tokens and webhook secrets);
locally it is `config/connections.local.yaml`. Handlers load it through a TTL cache so that a
rotated secret is picked up without a redeploy.
"""

from __future__ import annotations

import fnmatch
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, SecretStr, Tag, model_validator

from catalog_sync.errors import ConfigurationError, UnknownConnection

DEFAULT_SCOPES: dict[str, tuple[str, ...]] = {
    "bigcommerce": ("store/product/*", "store/category/*", "store/sku/*"),
    "pixlpay": ("product.*",),
}

SigningScheme = Literal["standard-webhooks", "bigcommerce-legacy", "pixlpay", "shopify"]
FieldRule = Literal["source", "destination", "newest", "manual"]

# Two-way connections: the fields that flow both ways (merge.py), by (source kind, destination kind),
# with their default rules: price and stock are the source's (the system of record for what is sold),
# text and visibility go to the side edited last. Everything else flows from the source only.
MERGED_FIELDS: dict[tuple[str, str], dict[str, FieldRule]] = {
    ("bigcommerce", "bigcommerce"): {
        "name": "newest",
        "description": "newest",
        "price": "source",
        "sale_price": "source",
        "inventory_level": "source",
        "is_visible": "newest",
    },
    # Seed 000's write-back: name, description, price and is_active.
    ("pixlpay", "medusa"): {
        "name": "newest",
        "description": "newest",
        "price": "source",
        "is_active": "newest",
    },
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BigCommerceEndpoint(_Frozen):
    kind: Literal["bigcommerce"] = "bigcommerce"
    store_hash: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")]
    access_token: SecretStr
    # Overridden for the local store simulator; production uses the public API host.
    api_url: str = "https://api.bigcommerce.com"
    # The store's quota is shared by every app and worker on it; the X-Rate-Limit-* headers pace all of
    # them together. These cap this connection's own share: requests kept unspent in each quota window,
    # and a client-side ceiling in requests per second per worker (0 = the headers alone pace us).
    quota_reserve: Annotated[int, Field(ge=0)] = 0
    max_requests_per_second: Annotated[float, Field(ge=0)] = 0.0

    @property
    def v3_base(self) -> str:
        return f"{self.api_url.rstrip('/')}/stores/{self.store_hash}/v3"


class PixlpayEndpoint(_Frozen):
    """Pixlpay store API (seed 000): Bearer token, `GET /products?page=&per_page=` (≤ 100), no sort or
    filter by modification time (so pulls run in audit mode), about 60 requests a minute."""

    kind: Literal["pixlpay"]
    api_url: str
    api_token: SecretStr
    per_page: Annotated[int, Field(ge=1, le=100)] = 100
    max_requests_per_minute: float = 60.0
    # Pixlpay has no brands: the brand its products carry at the destination (seed 002's brand module),
    # typically the store's own name. None: products get no brand.
    brand: str | None = None


class MedusaEndpoint(_Frozen):
    """Medusa v2 Admin API: server-to-server with a secret API key; brands per seed 002's custom module."""

    kind: Literal["medusa"]
    api_url: str
    api_key: SecretStr
    sales_channel_id: str | None = None
    max_requests_per_second: float = 10.0
    # Currency of the prices written to variants (Medusa v2 amounts are in major units).
    currency_code: Annotated[str, Field(min_length=3, max_length=3)] = "usd"


def _endpoint_kind(value: object) -> str:
    """`kind` may be omitted for BigCommerce, the first and most common system."""
    if isinstance(value, dict):
        return str(value.get("kind", "bigcommerce"))
    return str(getattr(value, "kind", "bigcommerce"))


SourceEndpoint = Annotated[
    Annotated[BigCommerceEndpoint, Tag("bigcommerce")] | Annotated[PixlpayEndpoint, Tag("pixlpay")],
    Discriminator(_endpoint_kind),
]
DestinationEndpoint = Annotated[
    Annotated[BigCommerceEndpoint, Tag("bigcommerce")] | Annotated[MedusaEndpoint, Tag("medusa")],
    Discriminator(_endpoint_kind),
]


class ScheduleSettings(_Frozen):
    """Per-connection settings of the scheduled jobs (the schedules themselves are in template.yaml)."""

    # cursor: the source sorts, pages and filters by modification time (BigCommerce); audit: it cannot
    # (Pixlpay), so every entity's hash is compared with a snapshot; auto: chosen by the source's kind.
    pull_mode: Literal["auto", "cursor", "audit"] = "auto"
    pull_enabled: bool = True
    full_sync_enabled: bool = True
    page_size: Annotated[int, Field(ge=1, le=250)] = 250
    # None: the function's PULL_OVERLAP_SECONDS.
    overlap_seconds: Annotated[int, Field(ge=0)] | None = None


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
    source: SourceEndpoint
    destination: DestinationEndpoint
    signing: Signing
    # Two-way: how the destination's webhooks are signed (None: as the source's, `signing`).
    destination_signing: Signing | None = None
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    # Webhook scopes this connection syncs; a signed event of another scope is acknowledged and ignored.
    # Omitted: the source kind's defaults (DEFAULT_SCOPES), so a Pixlpay connection needs no scope list.
    scopes: list[str] = Field(default_factory=list)
    # Seed 003's STORE_B_CHANNEL_ON_STORE_A: the channel on the source that represents the destination.
    channel_on_source: int | None = None
    # two-way: each side's changes flow to the other (merged field by field); one-way: source -> destination.
    direction: Literal["one-way", "two-way"] = "one-way"
    # Two-way: rules that replace MERGED_FIELDS' defaults, by field.
    field_rules: dict[str, FieldRule] = Field(default_factory=dict)

    def signing_of(self, side: str) -> Signing:
        return self.destination_signing or self.signing if side == "destination" else self.signing

    @property
    def two_way(self) -> bool:
        return self.direction == "two-way"

    def merge_rules(self) -> dict[str, FieldRule]:
        """Every merged field's rule (two-way connections only)."""
        return {**MERGED_FIELDS[(self.source.kind, self.destination.kind)], **self.field_rules}

    def syncs_scope(self, scope: str) -> bool:
        return any(fnmatch.fnmatchcase(scope, pattern) for pattern in self.scopes)

    @model_validator(mode="after")
    def _default_scopes(self) -> Connection:
        if not self.scopes:
            self.scopes.extend(DEFAULT_SCOPES[self.source.kind])
        return self

    @model_validator(mode="after")
    def _two_way_fields(self) -> Connection:
        kinds = (self.source.kind, self.destination.kind)
        if self.direction == "one-way":
            if self.field_rules:
                raise ValueError("field_rules apply to two-way connections only")
            return self
        if kinds not in MERGED_FIELDS:
            raise ValueError(f"two-way is not supported between {kinds[0]} and {kinds[1]}")
        unknown = sorted(set(self.field_rules) - set(MERGED_FIELDS[kinds]))
        if unknown:
            known = ", ".join(MERGED_FIELDS[kinds])
            raise ValueError(
                f"field_rules: {', '.join(unknown)} not merged between {kinds[0]} and "
                f"{kinds[1]} (merged: {known})"
            )
        return self


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
