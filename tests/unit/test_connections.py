"""The connections document: one secret, validated up front, with clear errors for what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from catalog_sync.connections import ConnectionsDocument
from catalog_sync.errors import ConfigurationError, UnknownConnection

LOCAL = Path(__file__).resolve().parents[2] / "config" / "connections.local.yaml"


def test_the_committed_local_connections_file_is_valid() -> None:
    doc = ConnectionsDocument.parse(yaml.safe_load(LOCAL.read_text()))
    conn = doc.get("store-a-to-b")
    assert conn.name == "store-a-to-b"
    assert conn.source.v3_base.endswith("/stores/storea/v3")
    assert conn.syncs_scope("store/product/updated")
    assert not conn.syncs_scope("store/order/created")


def test_unknown_connection_is_a_typed_error() -> None:
    doc = ConnectionsDocument.parse(yaml.safe_load(LOCAL.read_text()))
    with pytest.raises(UnknownConnection):
        doc.get("nope")


@pytest.mark.parametrize("raw", [None, [], {"connections": []}, {"connections": {"x": {"source": {}}}}])
def test_malformed_documents_are_configuration_errors(raw: object) -> None:
    with pytest.raises(ConfigurationError):
        ConnectionsDocument.parse(raw)


def test_secrets_never_appear_in_reprs() -> None:
    doc = ConnectionsDocument.parse(yaml.safe_load(LOCAL.read_text()))
    text = repr(doc)
    assert "local-token-store-a" not in text
    assert "whsec_" not in text


def test_scopes_default_to_what_the_source_kind_sends() -> None:
    doc = ConnectionsDocument.parse(
        {
            "connections": {
                "bc": yaml.safe_load(LOCAL.read_text())["connections"]["store-a-to-b"] | {"scopes": []},
                "px": {
                    "source": {"kind": "pixlpay", "api_url": "http://127.0.0.1:1", "api_token": "t"},
                    "destination": {"kind": "medusa", "api_url": "http://127.0.0.1:2", "api_key": "k"},
                    "signing": {"scheme": "pixlpay", "secrets": ["s"]},
                },
            }
        }
    )
    assert doc.get("bc").syncs_scope("store/sku/updated")
    assert doc.get("px").syncs_scope("product.updated")
    assert not doc.get("px").syncs_scope("store/product/updated")
