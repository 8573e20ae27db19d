"""bigcommerce_contract.json holds what the tests need from BigCommerce's official specs, derived by our
script: it is whole (its digest), self-contained (every reference resolves inside it), covers every
operation the simulated store serves, and - wherever the specs are at hand (../shared/reference/bigcommerce,
never needed in a clone) - is exactly what the generator derives from them today."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from catalog_sync_local.simulators.bigcommerce import spec_derive as derive
from catalog_sync_local.simulators.bigcommerce.spec import ARTEFACT, artefact_digest, contract, find_operation
from catalog_sync_local.simulators.bigcommerce.store import BigCommerceStore

ARTEFACT_TEXT = ARTEFACT.read_text()
LOADED: dict[str, Any] = json.loads(ARTEFACT_TEXT)


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def test_the_artefact_is_whole_and_names_its_source() -> None:
    assert LOADED["digest"] == artefact_digest(LOADED), "edited by hand? regenerate it (see its `about`)"
    assert derive.render(LOADED) == ARTEFACT_TEXT  # as the generator writes it
    source = LOADED["source"]
    assert (source["repository"], source["commit"]) == (derive.SOURCE["repository"], derive.SOURCE["commit"])
    assert set(source["files"]) >= set(derive.SPEC_FILES.values())
    for ids in source["files"].values():
        assert re.fullmatch(r"[0-9a-f]{64}", ids["sha256"]) and re.fullmatch(r"[0-9a-f]{40}", ids["git_blob"])


def test_every_reference_resolves_inside_the_artefact() -> None:
    refs = _refs({k: v for k, v in LOADED.items() if k != "definitions"}) | _refs(LOADED["definitions"])
    assert refs, "no references at all: the derivation lost them"
    assert {r.removeprefix("#/definitions/") for r in refs} <= set(LOADED["definitions"])
    assert all(r.startswith("#/definitions/") for r in refs)


def test_it_keeps_structure_not_the_specs_prose() -> None:
    def keys(node: Any) -> set[str]:
        if isinstance(node, dict):
            own = {k for k in node if k != "properties"}
            inner = [*node.get("properties", {}).values(), *(v for k, v in node.items() if k != "properties")]
            return own.union(*(keys(v) for v in inner))
        if isinstance(node, list):
            return set().union(*(keys(v) for v in node))
        return set()

    schemas = [LOADED["operations"], LOADED["definitions"], LOADED["webhook_payloads"]]
    assert not keys(schemas) & {"description", "example", "examples", "title", "summary"}


def test_every_operation_the_simulator_serves_is_in_the_artefact() -> None:
    with BigCommerceStore("s", "t") as store:
        routes = store._app.routes._table
    served = []
    for method, pattern, _ in routes:
        concrete = re.sub(r"\(\\d\+\)", "7", pattern.pattern)
        op = find_operation(method, concrete)
        assert op is not None, f"{method} {pattern.pattern} is served but not derived"
        served.append(op.name)
    assert sorted(served) == sorted(contract()["operations"])
    assert sorted(served) == sorted(f"{m} {t}" for _, m, t in derive.OPERATIONS)


def test_errata_are_listed_with_their_reasons() -> None:
    listed = [(e["spec"], e["location"]) for e in LOADED["errata"]]
    assert listed == [(e.spec, "/".join(e.location)) for e in derive.ERRATA]
    assert all(len(e["reason"]) > 20 for e in LOADED["errata"])


def test_the_artefact_is_what_the_generator_derives_from_the_specs_when_they_are_present() -> None:
    """The one test that may read ../shared: in a clone without it, the integrity tests above stand."""
    spec_dir = derive.default_spec_dir()
    present = (spec_dir / derive.SPEC_FILES["catalog"]).is_file()
    if present:
        fresh = derive.render(derive.derive(spec_dir))
        assert fresh == ARTEFACT_TEXT, (
            "bigcommerce_contract.json is out of date: python -m "
            "catalog_sync_local.simulators.bigcommerce.spec_derive"
        )
    else:
        assert derive.main(["--spec-dir", str(spec_dir)]) == 2  # says where it looked, writes nothing
        assert ARTEFACT.read_text() == ARTEFACT_TEXT


def test_an_erratum_the_spec_no_longer_needs_stops_the_derivation() -> None:
    doc = {"definitions": {"product_Base": {"required": ["name"]}}}
    erratum = derive.Erratum("catalog", ("definitions", "product_Base", "required"), ["x"], [], "a reason")
    with pytest.raises(derive.DeriveError, match="no longer reads"):
        derive._patch(doc, erratum)
