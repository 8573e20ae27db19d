"""The Medusa simulator answers as the real Medusa 2.21.2 did: the very checks `make contract` runs against
a real Medusa (tests/contract/medusa/api_facts.py) run here against the simulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from catalog_sync_local.simulators.medusa.store import MedusaStore
from tests.contract.medusa.api_facts import FACTS, Api


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    with MedusaStore("sk_fidelity", publishable_key="pk_fidelity") as medusa:
        yield Api(medusa.api_url, "sk_fidelity", lambda: medusa.publishable_key)


@pytest.mark.parametrize("fact", FACTS, ids=lambda f: f.__name__)
def test_the_simulator_matches_real_medusa(api: Api, fact: Callable[[Api], None]) -> None:
    fact(api)
