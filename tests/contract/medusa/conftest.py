"""The real Medusa that `make contract` starts (integrations/medusa-contract/with-medusa.sh passes its URL
and a secret API key). Without it these tests fail, never skip: run them through `make contract`."""

from __future__ import annotations

import os
from functools import cache

import pytest

from tests.contract.medusa.api_facts import Api


@pytest.fixture(scope="session")
def medusa_api() -> Api:
    url, key = os.environ.get("MEDUSA_URL"), os.environ.get("MEDUSA_SECRET_KEY")
    if not url or not key:
        pytest.fail("MEDUSA_URL / MEDUSA_SECRET_KEY are not set: run the contract tests with `make contract`")
    api = Api(url, key, lambda: "")

    @cache
    def publishable_key() -> str:
        """A publishable key linked to the store's default sales channel (what a storefront uses)."""
        body = {"title": "catalog-sync contract storefront", "type": "publishable"}
        created = api.ok(api.post("/admin/api-keys", body))["api_key"]
        link = {"add": [api.default_channel()]}
        api.ok(api.post(f"/admin/api-keys/{created['id']}/sales-channels", link))
        return str(created["token"])

    api.publishable_key = publishable_key
    return api
