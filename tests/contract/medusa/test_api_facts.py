"""The real Medusa does what our simulator assumes (the same checks run against the simulator in
tests/unit/test_medusa_sim_fidelity.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.contract.medusa.api_facts import FACTS, Api


@pytest.mark.parametrize("fact", FACTS, ids=lambda f: f.__name__)
def test_real_medusa(medusa_api: Api, fact: Callable[[Api], None]) -> None:
    fact(medusa_api)
