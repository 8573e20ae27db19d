"""Lambda containers as worker processes, and a pool of them per function.

A `Container` is one `catalog_sync_local.runtime.lambda_container` process: the function's environment, its
own imported handler (module state per container), one invocation at a time. A `ContainerPool` keeps a
function's containers: it reuses an idle warm one (the most recently used first, as Lambda tends to),
starts a new one (a cold start) while fewer than the function's concurrency exist, and otherwise waits,
bounded, for one to come free. A container that crashes or overruns the function's timeout is killed and
forgotten, as Lambda does; one whose handler raised stays warm.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog_sync_local.runtime.lambda_container import frame, read_message

INIT_ALLOWANCE_S = 10.0  # Lambda's own limit for a container's init phase
STOP_GRACE_S = 2.0  # an idle container exits at once when its pipe closes; then it is killed


class InvocationFailed(RuntimeError):
    """The invocation produced no result: the handler raised, or its container died or timed out."""


class HandlerError(InvocationFailed):
    """The handler raised (the container lives on)."""


class ContainerLost(InvocationFailed):
    """The container died or overran the timeout (it is gone)."""


class NoCapacity(InvocationFailed):
    """Every container was busy for the whole wait (Lambda's throttle), or the pool is closed."""


@dataclass(frozen=True)
class ContainerConfig:
    """What one container of a function needs."""

    function_name: str
    handler: str  # "app.handler"
    code_dir: Path
    layer_dirs: tuple[Path, ...]
    environment: Mapping[str, str]  # the whole process environment of the container
    timeout_s: float
    memory_mb: int
    region: str
    niceness: int = 0  # added to the process's CPU niceness (os.nice) before the handler is imported
    quiet: bool = False  # its stdout (the function's logs and metrics) discarded rather than shared
    log_path: Path | None = None  # its stdout and stderr appended to this file instead (unless quiet)

    def message(self) -> dict[str, Any]:
        return {
            "function_name": self.function_name,
            "handler": self.handler,
            "code_dir": str(self.code_dir),
            "layer_dirs": [str(d) for d in self.layer_dirs],
            "timeout_s": self.timeout_s,
            "memory_mb": self.memory_mb,
            "region": self.region,
            "niceness": self.niceness,
        }


@dataclass
class Invocation:
    result: Any
    init_ms: float  # the container's init (handler import), paid by its first invocation only
    pid: int


class Container:
    """One worker process. Not thread-safe: the pool hands it to one caller at a time."""

    def __init__(self, config: ContainerConfig) -> None:
        self.config = config
        self.invocations = 0
        request_r, self._request_w = os.pipe()
        self._result_r, result_w = os.pipe()
        log = None if config.quiet or config.log_path is None else config.log_path.open("ab")
        try:
            self._process = subprocess.Popen(  # noqa: S603 - this interpreter, this package's module
                [
                    sys.executable,
                    "-m",
                    "catalog_sync_local.runtime.lambda_container",
                    str(request_r),
                    str(result_w),
                ],
                pass_fds=(request_r, result_w),
                env=dict(config.environment),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL if config.quiet else log,
                stderr=log,
                close_fds=True,
            )
        except OSError:
            for fd in (self._request_w, self._result_r):
                os.close(fd)
            raise
        finally:
            os.close(request_r)  # the child's ends: EOF on either side then means the other has gone
            os.close(result_w)
            if log is not None:
                log.close()  # the child has its own copy
        os.set_blocking(self._request_w, False)  # every write has a deadline (_write_within)
        try:
            if not _write_within(self._request_w, frame(config.message()), time.monotonic() + STOP_GRACE_S):
                raise OSError("the container did not take its configuration")
        except OSError:
            self._discard()
            raise

    @property
    def pid(self) -> int:
        return self._process.pid

    def alive(self) -> bool:
        return self._process.poll() is None

    def invoke(self, event: Mapping[str, Any]) -> Invocation:
        """Run one invocation; HandlerError if the handler raised, ContainerLost if the process died or
        overran the timeout (it is then killed)."""
        limit = self.config.timeout_s + (INIT_ALLOWANCE_S if self.invocations == 0 else 0.0)
        deadline = time.monotonic() + limit
        self.invocations += 1
        try:
            in_time = _write_within(self._request_w, frame({"event": event}), deadline)
        except OSError:
            self._discard()
            raise ContainerLost(f"{self.config.function_name}: container {self.pid} is gone") from None
        if not (in_time and _readable_within(self._result_r, deadline)):
            self._discard()
            raise ContainerLost(f"{self.config.function_name}: timed out after {limit:.0f} s (killed)")
        try:
            answer = read_message(self._result_r)
        except (OSError, ValueError):
            answer = None
        if answer is None:
            self._discard()
            raise ContainerLost(f"{self.config.function_name}: container {self.pid} died mid-invocation")
        if not answer.get("ok"):
            raise HandlerError(str(answer.get("error")))
        return Invocation(answer.get("result"), float(answer.get("init_ms") or 0.0), self.pid)

    def kill(self) -> None:
        """SIGKILL the process (safe from any thread: its invoker then sees the pipe close)."""
        if self.alive():
            self._process.kill()
        self._process.wait(timeout=STOP_GRACE_S)

    def _discard(self) -> None:
        self.kill()
        self._close_pipes()

    def stop(self) -> None:
        """Close its pipe (an idle container exits), then kill it if it has not gone in a moment."""
        self._close_pipes()
        try:
            self._process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self.kill()

    def _close_pipes(self) -> None:
        for name in ("_request_w", "_result_r"):
            fd = getattr(self, name)
            if fd >= 0:
                os.close(fd)
                setattr(self, name, -1)


@dataclass
class PoolStats:
    cold_starts: int = 0
    invocations: int = 0
    peak_concurrency: int = 0  # most invocations in flight at once
    lost: int = 0  # containers that died or timed out


class ContainerPool:
    """Up to `max_containers` containers of one function; `invoke` waits at most `wait_s` for one."""

    def __init__(self, config: ContainerConfig, *, max_containers: int, wait_s: float) -> None:
        if max_containers < 1:
            raise ValueError("a function needs room for at least one container")
        self.config = config
        self.max_containers = max_containers
        self.wait_s = wait_s
        self.stats = PoolStats()
        self._idle: list[Container] = []
        self._busy: set[Container] = set()
        self._starting = 0
        self._closed = False
        self._changed = threading.Condition()

    def invoke(self, event: Mapping[str, Any]) -> Invocation:
        container = self._acquire()
        try:
            invocation = container.invoke(event)
        except ContainerLost:
            self._forget(container)
            raise
        except BaseException:
            self._release(container)
            raise
        self._release(container)
        return invocation

    def kill_busy(self, pick: int = 0) -> int | None:
        """SIGKILL one container in the middle of an invocation (failure injection, as when a Lambda
        host dies): its invoker sees the pipe close (ContainerLost). The victim's pid, or None if idle."""
        with self._changed:
            busy = sorted(self._busy, key=lambda c: c.pid)
        if not busy:
            return None
        victim = busy[pick % len(busy)]
        victim.kill()
        return victim.pid

    def busy_pids(self) -> list[int]:
        with self._changed:
            return [c.pid for c in self._busy]

    def size(self) -> int:
        with self._changed:
            return len(self._idle) + len(self._busy) + self._starting

    def _acquire(self) -> Container:
        deadline = time.monotonic() + self.wait_s
        with self._changed:
            while True:
                if self._closed:
                    raise NoCapacity(f"{self.config.function_name}: the local runtime is stopping")
                if self._idle:
                    container = self._idle.pop()  # the warmest
                    if container.alive():
                        return self._mark_busy(container)
                    self.stats.lost += 1
                    continue
                if len(self._busy) + self._starting < self.max_containers:
                    self._starting += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise NoCapacity(
                        f"{self.config.function_name}: all {self.max_containers} containers busy "
                        f"for {self.wait_s:.0f} s"
                    )
                self._changed.wait(remaining)
        try:
            container = Container(self.config)
        except BaseException:
            with self._changed:
                self._starting -= 1
                self._changed.notify()
            raise
        with self._changed:
            self._starting -= 1
            self.stats.cold_starts += 1
            if self._closed:
                container.stop()
                raise NoCapacity(f"{self.config.function_name}: the local runtime is stopping")
            return self._mark_busy(container)

    def _mark_busy(self, container: Container) -> Container:
        self._busy.add(container)
        self.stats.invocations += 1
        self.stats.peak_concurrency = max(self.stats.peak_concurrency, len(self._busy))
        return container

    def _release(self, container: Container) -> None:
        with self._changed:
            self._busy.discard(container)
            closed = self._closed
            if not closed:
                self._idle.append(container)
            self._changed.notify()
        if closed:
            container.stop()

    def _forget(self, container: Container) -> None:
        with self._changed:
            self._busy.discard(container)
            self.stats.lost += 1
            self._changed.notify()

    def close(self) -> None:
        """Stop every container: idle ones exit, busy ones are killed (their work is abandoned, as when
        a Lambda container is reclaimed: unfinished SQS batches reappear after their visibility timeout)."""
        with self._changed:
            self._closed = True
            idle, busy = list(self._idle), list(self._busy)
            self._idle.clear()
            self._changed.notify_all()
        for container in busy:
            container.kill()
        for container in idle:
            container.stop()


def _write_within(fd: int, data: bytes, deadline: float) -> bool:
    """Write all of `data` to a non-blocking pipe before `deadline` (False if it could not)."""
    view = memoryview(data)
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    while view:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        if poller.poll(remaining * 1000):
            with contextlib.suppress(BlockingIOError):
                view = view[os.write(fd, view) :]
    return True


def _readable_within(fd: int, deadline: float) -> bool:
    """An answer (or the end of the pipe: the container died) arrived before `deadline`."""
    poller = select.poll()  # not select.select: no limit on descriptor numbers
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(max(0.0, deadline - time.monotonic()) * 1000))
