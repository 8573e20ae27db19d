"""The whole stack on one machine: moto, the template's resources, store simulators, the HTTP API.

Used by the tests, `make demo` and `catalog-sync local start`, so all three run the same handlers the
same way. Everything binds to 127.0.0.1 and stops when the context exits.

Each endpoint of config/connections.local.yaml gets a simulator of its kind: a BigCommerce store per
`store_hash` (`stores`), a Pixlpay store (`pixlpay_stores`) and a Medusa application (`medusa_stores`),
the last two keyed by the `api_url` the document gives. The published connections document points every
endpoint's `api_url` at its simulator; sources deliver their signed webhooks to the local HTTP API.

AWS is moto embedded in this process by default; with `serve_aws` it is a moto server on 127.0.0.1 (what
`local start` runs, so that other processes reach the same stack), and `aws` says where either way.
With `processes` (which needs `serve_aws`) every function runs in worker processes of its own, side by
side (`ProcessRuntime`); otherwise handlers run in this process, one invocation at a time.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import yaml

from catalog_sync_local.runtime.api_server import LocalApiServer
from catalog_sync_local.runtime.aws_backend import AwsBackend, MotoServer, applied
from catalog_sync_local.runtime.local_runtime import DrainReport, LocalRuntime, reset_containers
from catalog_sync_local.runtime.moto_process import MotoServerProcess
from catalog_sync_local.runtime.process_runtime import ProcessRuntime
from catalog_sync_local.runtime.stack import LocalStack, deploy_local_stack
from catalog_sync_local.simulators.bigcommerce.store import BigCommerceStore
from catalog_sync_local.simulators.medusa.store import MedusaStore
from catalog_sync_local.simulators.pixlpay.store import PixlpayStore

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = REPO / "template.yaml"
CONNECTIONS = REPO / "config" / "connections.local.yaml"
# Local retries come back at once (the template's default backoff base is 30 s).
LOCAL_PARAMETERS = {"RetryBackoffBaseSeconds": "0"}


class WebhookSource(Protocol):
    """A simulator that delivers webhooks (BigCommerce and Pixlpay stores, Medusa's subscriber)."""

    def wait_for_deliveries(self, timeout: float = 5.0) -> bool: ...

    def pending_deliveries(self) -> int: ...


Simulator = BigCommerceStore | PixlpayStore | MedusaStore


class Sandbox:
    def __init__(
        self,
        *,
        template_path: Path = TEMPLATE,
        connections_path: Path = CONNECTIONS,
        parameter_overrides: Mapping[str, str] | None = None,
        store_quota: int = 150,
        store_window_ms: int = 30_000,
        pixlpay_quota: int = 60,
        pixlpay_window_s: float = 60.0,
        register_webhooks: bool = True,
        api_port: int = 0,
        env_overrides: Mapping[str, Mapping[str, str]] | None = None,
        serve_aws: bool = False,
        aws_port: int = 0,
        processes: bool = False,
        aws_faults: bool = False,
        log_path: Path | None = None,
    ) -> None:
        if processes and not serve_aws:
            raise ValueError("worker processes reach AWS through a moto server: processes needs serve_aws")
        if aws_faults and not processes:
            raise ValueError("failure injection lives in the moto server process: aws_faults needs processes")
        self.template_path = template_path
        self.connections_doc: dict[str, Any] = yaml.safe_load(connections_path.read_text())
        self.parameter_overrides = {**LOCAL_PARAMETERS, **(parameter_overrides or {})}
        self.store_quota = store_quota
        self.store_window_ms = store_window_ms
        self.pixlpay_quota = pixlpay_quota
        self.pixlpay_window_s = pixlpay_window_s
        self.register_webhooks = register_webhooks
        self.api_port = api_port
        self.env_overrides = env_overrides
        self.serve_aws = serve_aws
        self.aws_port = aws_port
        self.processes = processes
        self.aws_faults = aws_faults  # the moto server process injects failures on request (aws_faults)
        self.log_path = log_path  # with processes: the containers' logs go to this file
        self.stores: dict[str, BigCommerceStore] = {}  # BigCommerce stores by store_hash
        self.pixlpay_stores: dict[str, PixlpayStore] = {}  # by the api_url the document gives
        self.medusa_stores: dict[str, MedusaStore] = {}  # likewise
        self._endpoints: dict[tuple[str, str], Simulator] = {}  # (connection, role) -> its simulator
        self._aws_scope = contextlib.ExitStack()
        self.aws: AwsBackend
        self.stack: LocalStack
        self.runtime: LocalRuntime
        self.api: LocalApiServer

    # --- lifecycle ----------------------------------------------------------------------------------

    def __enter__(self) -> Sandbox:
        from moto import mock_aws

        try:
            if self.serve_aws:
                # With worker processes, AWS is most of the work: its own process, its own core.
                server = (
                    MotoServerProcess(self.aws_port, faults=self.aws_faults)
                    if self.processes
                    else MotoServer(self.aws_port)
                )
                self.aws = server.start()
                self._aws_scope.callback(server.stop)
            else:
                self.aws = AwsBackend()
            self._aws_scope.enter_context(applied(self.aws))
            if not self.serve_aws:
                self._aws_scope.enter_context(mock_aws())
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start(self) -> None:
        reset_containers()
        self.stack = deploy_local_stack(self.template_path, parameter_overrides=self.parameter_overrides)
        if self.processes:
            self.runtime = ProcessRuntime(
                self.stack, self.aws, env_overrides=self.env_overrides, log_path=self.log_path
            )
        else:
            self.runtime = LocalRuntime(self.stack, env_overrides=self.env_overrides)
        for name, conn in self.connections_doc["connections"].items():
            # A two-way connection's destination sends webhooks too, signed by its own secret if it has one.
            secrets = {"source": conn["signing"]["secrets"][0]}
            if conn.get("direction") == "two-way":
                secrets["destination"] = (conn.get("destination_signing") or conn["signing"])["secrets"][0]
            for role in ("source", "destination"):
                endpoint = conn[role]
                store = self._simulator(endpoint, webhook_secret=secrets.get(role))
                self._endpoints[(name, role)] = store
                endpoint["api_url"] = store.api_url
        self._publish_connections()
        self.api = LocalApiServer(self.runtime, port=self.api_port).start()
        if self.register_webhooks:
            for name in self.connections_doc["connections"]:
                self.register_hooks(name)

    def _simulator(self, endpoint: dict[str, Any], *, webhook_secret: str | None) -> Simulator:
        """The running simulator of an endpoint, by its kind (one per store: endpoints naming the same
        store share it)."""
        kind = endpoint.get("kind", "bigcommerce")
        if kind == "pixlpay":
            pixlpay = self.pixlpay_stores.get(endpoint["api_url"])
            if pixlpay is None:
                pixlpay = PixlpayStore(
                    endpoint["api_token"],
                    quota=self.pixlpay_quota,
                    window_s=self.pixlpay_window_s,
                    webhook_secret=webhook_secret,
                ).start()
                self.pixlpay_stores[endpoint["api_url"]] = pixlpay
            return pixlpay
        if kind == "medusa":
            medusa = self.medusa_stores.get(endpoint["api_url"])
            if medusa is None:
                medusa = MedusaStore(endpoint["api_key"], webhook_secret=webhook_secret).start()
                self.medusa_stores[endpoint["api_url"]] = medusa
            return medusa
        if kind != "bigcommerce":
            raise ValueError(f"no local simulator for endpoint kind {kind!r}")
        store = self.stores.get(endpoint["store_hash"])
        if store is None:
            store = BigCommerceStore(
                store_hash=endpoint["store_hash"],
                access_token=endpoint["access_token"],
                quota=self.store_quota,
                window_ms=self.store_window_ms,
                webhook_secret=webhook_secret,
                allow_loopback_http=True,  # the local HTTP API is http on a loopback port
            )
            store.start()
            self.stores[endpoint["store_hash"]] = store
        return store

    def __exit__(self, *exc: object) -> None:
        if hasattr(self, "api"):
            self.api.stop()
        if hasattr(self, "runtime"):
            self.runtime.close()  # containers stop before the stores and AWS they talk to
        for store in self._simulators():
            store.stop()
        reset_containers()
        self._aws_scope.close()  # moto stopped, then the process environment restored

    # --- helpers for tests and the demo -------------------------------------------------------------

    def connection(self, name: str) -> dict[str, Any]:
        conn: dict[str, Any] = self.connections_doc["connections"][name]
        return conn

    def source_store(self, name: str) -> BigCommerceStore:
        """The BigCommerce store a connection reads (TypeError for another kind of source)."""
        return self._endpoint(name, "source", BigCommerceStore)

    def destination_store(self, name: str) -> BigCommerceStore:
        """The BigCommerce store a connection writes (TypeError for another kind of destination)."""
        return self._endpoint(name, "destination", BigCommerceStore)

    def pixlpay_store(self, name: str) -> PixlpayStore:
        """The Pixlpay store a connection reads (TypeError for another kind of source)."""
        return self._endpoint(name, "source", PixlpayStore)

    def medusa_store(self, name: str) -> MedusaStore:
        """The Medusa application a connection writes (TypeError for another kind of destination)."""
        return self._endpoint(name, "destination", MedusaStore)

    def _endpoint[S: Simulator](self, name: str, role: str, kind: type[S]) -> S:
        store = self._endpoints[(name, role)]
        if not isinstance(store, kind):
            raise TypeError(
                f"connection {name!r}: its {role} is a {type(store).__name__}, not a {kind.__name__}"
            )
        return store

    def _simulators(self) -> list[Simulator]:
        return [*self.stores.values(), *self.pixlpay_stores.values(), *self.medusa_stores.values()]

    def _webhook_sources(self) -> list[WebhookSource]:
        return [*self.stores.values(), *self.pixlpay_stores.values(), *self.medusa_stores.values()]

    def endpoint_urls(self) -> dict[str, str]:
        """Every connection endpoint's simulator URL, as "<connection>/<role>" -> URL."""
        return {
            f"{name}/{role}": str(conn[role]["api_url"])
            for name, conn in self.connections_doc["connections"].items()
            for role in ("source", "destination")
        }

    def webhook_url(self, name: str) -> str:
        return f"{self.api.url}/webhooks/{name}"

    def register_hooks(self, name: str) -> None:
        """Register the connection's scopes on its source store, pointing at the local HTTP API."""
        conn = self.connection(name)
        if conn["source"].get("kind", "bigcommerce") == "pixlpay":
            self._register_pixlpay_webhook(name)
        else:
            self._register_bigcommerce_hooks(name)
        if conn.get("direction") != "two-way":
            return
        if conn["destination"].get("kind", "bigcommerce") == "bigcommerce":
            self._register_bigcommerce_hooks(name, side="destination")
        else:  # our Medusa subscriber, configured by its CATALOG_SYNC_WEBHOOK_URL
            self.medusa_store(name).webhook_url = self.webhook_url(name) + "/destination"

    def _register_bigcommerce_hooks(self, name: str, *, side: str = "source") -> None:
        """Through our client, as `catalog-sync hooks sync` does (a hook per scope; the legacy scheme's
        secret in the hooks' headers). The local HTTP API is plain http on a loopback port, which the
        simulated stores accept (allow_loopback_http) besides BigCommerce's https on 443."""
        from catalog_sync.connections import BigCommerceEndpoint, Connection
        from catalog_sync.connectors.bigcommerce import BigCommerceClient
        from catalog_sync.hooks import reconcile_hooks

        self._endpoint(name, side, BigCommerceStore)  # started, so that its URL is in the connection
        connection = Connection.model_validate({**self.connection(name), "name": name})
        endpoint = connection.source if side == "source" else connection.destination
        if not isinstance(endpoint, BigCommerceEndpoint):
            raise TypeError(f"{name}: its {side} is not a BigCommerce store")
        signing = connection.signing_of(side)
        headers = None
        if signing.scheme == "bigcommerce-legacy":
            headers = {signing.header_name: signing.secrets[0].get_secret_value()}
        client = BigCommerceClient.for_endpoint(endpoint)
        url = self.webhook_url(name) + ("/destination" if side == "destination" else "")
        reconcile_hooks(client, connection.scopes, url, connection=name, headers=headers)

    def _register_pixlpay_webhook(self, name: str) -> None:
        """Pixlpay's webhook API (docs.pixlpay.net/developers/api/webhooks), reconciled the way
        `catalog-sync hooks sync` does it: one webhook per URL, listing the connection's product events.
        A newly created webhook's secret is added to the connection's secrets (what an operator does
        with it); the simulator signs with the connection's own test secret, so that is normally a no-op."""
        from catalog_sync.connections import Connection, PixlpayEndpoint
        from catalog_sync.connectors.pixlpay import PixlpayClient
        from catalog_sync.hooks import PIXLPAY_PRODUCT_EVENTS, reconcile_event_hooks

        conn = self.connection(name)
        connection = Connection.model_validate({**conn, "name": name})
        events = [e for e in PIXLPAY_PRODUCT_EVENTS if connection.syncs_scope(e)]
        if not isinstance(connection.source, PixlpayEndpoint):
            raise TypeError(f"{name}: not a Pixlpay source")
        client = PixlpayClient.for_endpoint(connection.source)
        client.http.min_interval_s = 0.0  # setup, not the connection's paced traffic
        _, secret = reconcile_event_hooks(client, events, self.webhook_url(name), connection=name)
        if secret and secret not in conn["signing"]["secrets"]:
            conn["signing"]["secrets"].append(secret)
            self._publish_connections()

    def update_connection(self, name: str, **changes: Any) -> None:
        self.connection(name).update(changes)
        self._publish_connections()

    def _publish_connections(self) -> None:
        import boto3

        boto3.client("secretsmanager").put_secret_value(
            SecretId=self.stack.resources["ConnectionsSecret"], SecretString=json.dumps(self.connections_doc)
        )

    def settle(self, *, max_rounds: int = 50, max_seconds: float = 60.0) -> DrainReport:
        """Deliver pending webhooks and drain the queue until both are quiet (bounded)."""
        total = DrainReport()
        deadline = time.monotonic() + max_seconds
        for _ in range(max_rounds):
            for store in self._webhook_sources():
                store.wait_for_deliveries(timeout=max(0.1, deadline - time.monotonic()))
            report = self.runtime.drain(max_seconds=max(0.1, deadline - time.monotonic()))
            total.add(report)
            if report.received == 0 or time.monotonic() > deadline:
                break
        return total

    def deliveries_pending(self) -> bool:
        return any(store.pending_deliveries() for store in self._webhook_sources())

    def events(self) -> list[dict[str, Any]]:
        import boto3

        from catalog_sync.store.items import from_item

        client = boto3.client("dynamodb")
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.stack.resources["EventsTable"]}
        for _ in range(1000):
            resp = client.scan(**kwargs)
            items.extend(from_item(i) for i in resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return items

    def queue_depth(self, logical_id: str) -> int:
        import boto3

        attrs = boto3.client("sqs").get_queue_attributes(
            QueueUrl=self.stack.queues[logical_id].url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])
