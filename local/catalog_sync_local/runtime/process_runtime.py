"""The local runtime with invocations side by side, as in AWS: every function runs in containers of its own.

`ProcessRuntime` is a `LocalRuntime` whose `invoke` hands the event to the function's `ContainerPool`
instead of running the handler in this process, so:

- the receiver answers while consumers sync (no invocation waits behind another function's);
- the consumer runs up to its event source mapping's `MaximumConcurrency` batches at once, one poller
  per unit of concurrency, each gathering its batch with the template's batch size and batching window
  (`QueuePollers`); the per-entity lease is what keeps them apart, as in AWS;
- module state and environment are per container; warm containers are reused, new ones start cold;
- a container killed mid-batch returns nothing, so the poller deletes nothing: the batch reappears
  after the queue's visibility timeout, and SQS redrives it after `maxReceiveCount` receives.

All containers talk to one AWS: the moto server the runtime is given (`AwsBackend.endpoint_url`).

Functions without a concurrency setting (the receiver, the scheduled jobs) get `DEFAULT_CONCURRENCY`
containers. In AWS the receiver scales to the account's concurrency (1,000 by default); on one machine
more containers than that only add memory (~60 MB each) and contention: a receiver invocation spends
most of its ~10 ms waiting on moto, so 8 containers keep a few CPU cores busy while a burst queues for
a free one (bounded by the function's timeout) instead of for a process start.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from catalog_sync_local.runtime.aws_backend import AwsBackend
from catalog_sync_local.runtime.containers import ContainerConfig, ContainerPool, Invocation
from catalog_sync_local.runtime.local_runtime import LocalRuntime
from catalog_sync_local.runtime.stack import FunctionSpec, LocalStack, LocalStackError, SqsSource

DEFAULT_CONCURRENCY = 8
# In AWS every container has CPU of its own; here they share the machine's. Functions nobody waits on
# (queue consumers, scheduled jobs) yield the CPU to those answering a caller (the HTTP API's), as
# they never compete with them in AWS.
BACKGROUND_NICENESS = 10


class ProcessRuntime(LocalRuntime):
    def __init__(
        self,
        stack: LocalStack,
        backend: AwsBackend,
        *,
        env_overrides: Mapping[str, Mapping[str, str]] | None = None,
        default_concurrency: int = DEFAULT_CONCURRENCY,
        log_path: Path | None = None,
    ) -> None:
        if backend.endpoint_url is None:
            raise LocalStackError("worker processes need a moto server (Sandbox(serve_aws=True))")
        super().__init__(stack, env_overrides=env_overrides)
        self.backend = backend
        self.default_concurrency = default_concurrency
        self.log_path = log_path  # every container's output appended to this file, else shared
        self._pools: dict[str, ContainerPool] = {}
        self._pools_lock = threading.Lock()
        self._closed = False

    def invoke(self, logical_id: str, event: Mapping[str, Any]) -> Any:
        return self.invocation(logical_id, event).result

    def invocation(self, logical_id: str, event: Mapping[str, Any]) -> Invocation:
        """Invoke in one of the function's containers; the answer says which one and its init time."""
        return self.pool(logical_id).invoke(dict(event))

    def pool(self, logical_id: str) -> ContainerPool:
        spec = self._function(logical_id)
        with self._pools_lock:
            if self._closed:
                raise LocalStackError("the local runtime has stopped")
            pool = self._pools.get(logical_id)
            if pool is None:
                pool = ContainerPool(
                    self.container_config(spec),
                    max_containers=self.concurrency(spec),
                    wait_s=float(spec.timeout_s),  # a caller would have timed out by then anyway
                )
                self._pools[logical_id] = pool
            return pool

    def concurrency(self, spec: FunctionSpec) -> int:
        """Containers of a function: its mappings' concurrency, so every poller has one, else the default."""
        limits = [self.poller_concurrency(source) for source in spec.sqs_sources]
        return sum(limits) if limits else self.default_concurrency

    def poller_concurrency(self, source: SqsSource) -> int:
        return source.maximum_concurrency or self.default_concurrency

    def container_config(self, spec: FunctionSpec) -> ContainerConfig:
        # This machine's environment (PATH, HOME, ...) without any AWS identity or endpoint of its own,
        # then the shared moto server with fake credentials, then the function's template environment.
        environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        environment.update({k: v for k, v in self.backend.environment().items() if v is not None})
        environment.update(self._environment(spec))
        return ContainerConfig(
            function_name=spec.function_name,
            handler=spec.handler,
            code_dir=spec.code_dir,
            layer_dirs=spec.layer_dirs,
            environment=environment,
            timeout_s=float(spec.timeout_s),
            memory_mb=spec.memory_mb,
            region=self.stack.region,
            niceness=0 if spec.http_routes else BACKGROUND_NICENESS,
            log_path=self.log_path,
        )

    def close(self) -> None:
        """Stop every container (bounded: idle ones exit, busy ones are killed)."""
        with self._pools_lock:
            self._closed = True
            pools = list(self._pools.values())
        for pool in pools:
            pool.close()
