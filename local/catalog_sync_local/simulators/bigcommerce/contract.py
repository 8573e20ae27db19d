"""The contract check of a simulated BigCommerce store: every request it receives and every answer it sends
is validated against BigCommerce's official operation schemas (`simulators.bigcommerce.spec`).

A request the spec refuses is refused (a body: 422 naming each problem, as BigCommerce words its own
validation errors; a query parameter the operation does not declare: 400; an operation the spec does not
have: the store's 404/405). An answer the spec does not describe (checked strictly: a property the schema
does not name counts) is a simulator bug: it is sent as is, and logged. Either way the violation is
recorded here, process-wide, so a test run fails loudly (`tests/conftest.py` checks after every test that
none was recorded) - unless a test expects it:

    with store.contract.expect_violations() as seen:   # a test that sends a bad request on purpose
        ...
    assert seen == [...]

Every checked exchange is also counted per operation and status (`coverage()`), for the contract tests.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from catalog_sync_local.simulators.bigcommerce.fields import ApiError
from catalog_sync_local.simulators.bigcommerce.spec import (
    Operation,
    Problem,
    documented_scopes,
    find_operation,
    notification_problems,
    request_problems,
    response_problems,
)

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_unexpected: list[Violation] = []
_coverage: Counter[tuple[str, int]] = Counter()  # ("PUT /hooks/{id}", 200) -> exchanges


@dataclass(frozen=True)
class Violation:
    store: str  # the store hash
    side: str  # "request", "response" or "notification"
    method: str
    path: str
    problems: tuple[Problem, ...]

    def __str__(self) -> str:
        listed = "; ".join(str(p) for p in self.problems[:8])
        return f"store {self.store}: {self.side} {self.method} {self.path}: {listed}"[:1000]


def take_unexpected_violations() -> list[Violation]:
    """Every violation recorded (and not expected by a test) since the last call; clears them."""
    with _lock:
        taken = list(_unexpected)
        _unexpected.clear()
        return taken


def coverage() -> dict[tuple[str, int], int]:
    """Exchanges checked so far in this process, per (operation, status)."""
    with _lock:
        return dict(_coverage)


class ContractMonitor:
    """The check of one store's traffic (thread-safe: a store serves requests on many threads)."""

    def __init__(self, store: str) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._expecting: list[list[Violation]] = []

    @contextlib.contextmanager
    def expect_violations(self) -> Iterator[list[Violation]]:
        """Collect this store's violations in the block into the yielded list instead of failing the run."""
        seen: list[Violation] = []
        with self._lock:
            self._expecting.append(seen)
        try:
            yield seen
        finally:
            with self._lock:
                self._expecting.remove(seen)

    def check_request(
        self, method: str, path: str, query: Sequence[tuple[str, str]], body: Any
    ) -> tuple[Operation | None, ApiError | None]:
        """The operation `method path` is (None: not in the spec) and the refusal to answer, if any."""
        op = find_operation(method, path)
        if op is None:
            self._record("request", method, path, [Problem("operation", "not in BigCommerce's specs")])
            return None, None
        problems = request_problems(op, query, body)
        if not problems:
            return op, None
        self._record("request", method, path, problems)
        errors = {_field(p.where): p.message[:200] for p in problems[:20]}
        if any(p.where.startswith("?") and p.message == "error.path.unexpected" for p in problems):
            return op, ApiError(400, f"{op.name} declares no such query parameter", errors)
        return op, ApiError(422, "JSON data is missing or invalid", errors)

    def unreadable_request(self, method: str, path: str) -> Operation | None:
        """Record a request whose body is not JSON; the operation it was meant for, if any."""
        self._record("request", method, path, [Problem("$", "the body is not valid JSON")])
        return find_operation(method, path)

    def check_response(self, op: Operation, method: str, path: str, status: int, body: Any) -> None:
        with _lock:
            _coverage[(op.name, status)] += 1
        problems = response_problems(op, status, body, strict=True)
        if problems:
            logger.error(
                "simulated store %s answered outside the spec: %s %s -> %s", self.store, method, path, status
            )
            self._record(
                "response", method, path, [Problem(f"{status} {p.where}", p.message) for p in problems]
            )

    def check_notification(self, payload: dict[str, Any]) -> None:
        """A webhook payload the store sends, against the one documented for its scope (when there is one:
        BigCommerce documents product, category and sku payloads)."""
        if payload.get("scope") in documented_scopes():
            problems = notification_problems(payload)
            if problems:
                self._record("notification", "POST", str(payload.get("scope")), problems)

    def _record(self, side: str, method: str, path: str, problems: list[Problem]) -> None:
        violation = Violation(self.store, side, method, path, tuple(problems))
        with self._lock:
            if self._expecting:
                self._expecting[-1].append(violation)
                return
        with _lock:
            _unexpected.append(violation)


def _field(where: str) -> str:
    """BigCommerce names a field by its path: `0.variants`, `price`; the whole body is `body`."""
    if where.startswith("?"):
        return where[1:]
    dotted = re.sub(r"\[(\d+)\]", r".\1", where).removeprefix("$").removeprefix(".")
    return dotted or "body"
