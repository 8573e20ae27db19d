"""Process-wide wiring for the handlers: settings, AWS clients, stores, connections, engines.

Built lazily on first use and reused across warm invocations (clients, HTTP sessions and their
rate-limit state survive between invocations of one container). `reset()` drops everything: tests
and the local runtime call it when the environment changes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import cached_property
from typing import Any

from catalog_sync.connection_metrics import ResponseCounter
from catalog_sync.connections import ConnectionsDocument
from catalog_sync.errors import ConfigurationError
from catalog_sync.settings import Settings

CONNECTIONS_TTL_S = 300.0


class Services:
    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self._connections: ConnectionsDocument | None = None
        self._connections_loaded_at = 0.0
        self._http_clients: dict[tuple[Any, ...], tuple[Any, Any]] = {}
        # The destination stores' responses (requests, 429s) per connection, for the consumer's metrics.
        self.destination_responses = ResponseCounter()

    # boto3 is imported here, not at module import: a handler module stays cheap to import.
    def client(self, service: str) -> Any:
        return _client(service)

    @cached_property
    def events(self) -> Any:
        from catalog_sync.store.events import EventStore

        return EventStore(
            self.settings.events_table,
            self.client("dynamodb"),
            retention_days=self.settings.event_retention_days,
        )

    @cached_property
    def state(self) -> Any:
        from catalog_sync.store.state import StateStore

        return StateStore(self.settings.state_table, self.client("dynamodb"))

    @cached_property
    def queue(self) -> Any:
        from catalog_sync.store.queue import SyncQueue

        return SyncQueue(self.settings.queue_url, self.client("sqs"))

    @cached_property
    def dead_letters(self) -> Any:
        """The DLQ, for records a retry cannot fix (None: leave them to the queue's redrive policy)."""
        from catalog_sync.store.queue import SyncQueue

        url = self.settings.dead_letter_queue_url
        return SyncQueue(url, self.client("sqs")) if url else None

    def connections(self) -> ConnectionsDocument:
        """The connections document, re-read after a TTL so rotated secrets take effect."""
        now = self.clock()
        if self._connections is None or now - self._connections_loaded_at > CONNECTIONS_TTL_S:
            self._connections = self._load_connections()
            self._connections_loaded_at = now
        return self._connections

    @cached_property
    def changes(self) -> Any:
        """The audit trail (in SyncStateTable, with a TTL)."""
        from catalog_sync.store.changelog import ChangeLog

        return ChangeLog(self.settings.state_table, self.client("dynamodb"))

    @cached_property
    def conflicts(self) -> Any:
        """Two-way connections' conflicts (in SyncStateTable)."""
        from catalog_sync.store.conflicts import ConflictStore

        return ConflictStore(self.settings.state_table, self.client("dynamodb"))

    def engine(self, connection_name: str, *, owner: str, deadline: Callable[[], float] | None) -> Any:
        """A sync engine for one connection, chosen by its (source kind, destination kind). HTTP clients
        are reused across invocations so their view of the store's rate-limit window carries over; the
        deadline is this invocation's."""
        connection = self.connections().get(connection_name)
        kinds = (connection.source.kind, connection.destination.kind)
        build = ENGINES.get(kinds)
        if build is None:
            raise ConfigurationError(
                f"connection '{connection_name}': no sync engine for {kinds[0]} -> {kinds[1]}"
            )
        key = (connection_name, connection.source, connection.destination)
        if key not in self._http_clients:
            destination = _client_for(connection.destination)
            destination.http.session.hooks["response"].append(
                self.destination_responses.hook(connection_name)
            )
            self._http_clients[key] = (_client_for(connection.source), destination)
        source, destination = self._http_clients[key]
        source.http.deadline = destination.http.deadline = deadline
        lease_s = float(self.settings.lease_s)
        # A two-way connection's one-way engine leaves the merged fields to the merge (two_way_sync).
        merged = frozenset(connection.merge_rules()) if connection.two_way else frozenset[str]()
        forward = build(
            connection,
            source,
            destination,
            self.state,
            owner=owner,
            changes=self.changes,
            lease_s=lease_s,
            merged_fields=merged,
        )
        if not connection.two_way:
            return forward
        from catalog_sync.two_way_wiring import two_way_engine

        return two_way_engine(
            connection,
            forward,
            source,
            destination,
            self.state,
            self.conflicts,
            owner=owner,
            changes=self.changes,
            lease_s=lease_s,
        )

    def _load_connections(self) -> ConnectionsDocument:
        resp = self.client("secretsmanager").get_secret_value(SecretId=self.settings.connections_secret_id)
        try:
            raw = json.loads(resp["SecretString"])
        except (KeyError, ValueError) as exc:
            raise ConfigurationError("connections secret is not a JSON document") from exc
        return ConnectionsDocument.parse(raw)


_clients: dict[str, Any] = {}
_services: Services | None = None


def _client(service: str) -> Any:
    if service not in _clients:
        import boto3

        _clients[service] = boto3.client(service)  # type: ignore[call-overload]
    return _clients[service]


def get_services() -> Services:
    global _services  # noqa: PLW0603 - one wiring per Lambda container, by design
    if _services is None:
        _services = Services(Settings.from_env())
    return _services


def reset() -> None:
    global _services  # noqa: PLW0603
    _services = None
    _clients.clear()


def _client_for(endpoint: Any) -> Any:
    """The connector client of an endpoint, by its kind (imported on first use)."""
    if endpoint.kind == "bigcommerce":
        from catalog_sync.connectors.bigcommerce import BigCommerceClient

        return BigCommerceClient.for_endpoint(endpoint)
    if endpoint.kind == "pixlpay":
        from catalog_sync.connectors.pixlpay import PixlpayClient

        return PixlpayClient.for_endpoint(endpoint)
    if endpoint.kind == "medusa":
        from catalog_sync.connectors.medusa import MedusaClient

        return MedusaClient.for_endpoint(endpoint)
    raise ConfigurationError(f"no connector for endpoint kind '{endpoint.kind}'")


def _bigcommerce_engine(connection: Any, source: Any, destination: Any, state: Any, **kwargs: Any) -> Any:
    from catalog_sync.engine import CatalogSync

    return CatalogSync(connection, source, destination, state, **kwargs)


def _external_id_engine(connection: Any, source: Any, destination: Any, state: Any, **kwargs: Any) -> Any:
    from catalog_sync.external_id_sync import ExternalIdSync

    return ExternalIdSync(connection, source, destination, state, brand=connection.source.brand, **kwargs)


# (source kind, destination kind) -> engine. A new pair is one connector file plus one line here.
ENGINES: dict[tuple[str, str], Callable[..., Any]] = {
    ("bigcommerce", "bigcommerce"): _bigcommerce_engine,
    ("pixlpay", "medusa"): _external_id_engine,
}
