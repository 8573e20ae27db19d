"""Derive `bigcommerce_contract.json` — the facts our tests need from BigCommerce's official API specs.

    python -m catalog_sync_local.simulators.bigcommerce.spec_derive [--spec-dir DIR] [--check]

Reads `DIR` (default `$CATALOG_SYNC_SHARED/reference/bigcommerce`, i.e. `<repo>/../shared/...`): the specs
from the public bigcommerce/api-specs repository (`catalog.v3.yml` is Swagger 2.0, `channels.v3.yml` and
`webhooks.v3.yml` are OpenAPI 3.0) and `webhooks/*.json`, the payloads BigCommerce documents. The spec
files carry no license, so they are not copied: the artefact keeps, for each operation in OPERATIONS (the
ones our client and simulator use), its request body schema, query parameter schema and response schemas
by status as Draft 4 JSON Schema, the definitions those refer to, the shape of each documented webhook
payload, and the sha256 / git blob id of every file it read. Nothing at test time reads the specs;
`tests/unit/test_bigcommerce_contract_artefact.py` compares the artefact with them when they are present.

Conversion to JSON Schema:
- `$ref`s become references into the artefact's own `definitions` (`catalog.product_Full`); a `$ref` to a
  *response* object (channels.v3.yml does this) is followed to that response's schema;
- `allOf` branches that are plain objects are merged into one object (so a strict check can forbid
  properties the spec does not name);
- `nullable: true` (OpenAPI 3.0) and `x-nullable: true` (Swagger 2.0) admit `null`; other `x-*` keys,
  descriptions, titles, examples and annotations are dropped (we keep structure, not the spec's prose);
- `properties: {additionalProperties: {...}}` (a slip in catalog.v3.yml's error schemas, which means a
  map of field -> message) is read as `additionalProperties: {...}`.

Known errors of the specs are patched before conversion, each only while the spec still reads as
expected (else deriving fails, so a fixed spec is noticed): see ERRATA.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from catalog_sync_local.simulators.bigcommerce.spec import ARTEFACT, artefact_digest

REPO = Path(__file__).resolve().parents[4]
SPEC_FILES = {"catalog": "catalog.v3.yml", "channels": "channels.v3.yml", "webhooks": "webhooks.v3.yml"}
SOURCE = {"repository": "https://github.com/bigcommerce/api-specs", "commit": "1072ce7"}
GENERATOR = "python -m catalog_sync_local.simulators.bigcommerce.spec_derive"

_P = "/catalog/products/{product_id}"
# Every operation the simulator serves (and so every one our client may call): (spec, METHOD, template).
OPERATIONS: tuple[tuple[str, str, str], ...] = (
    *(("catalog", m, "/catalog/products") for m in ("GET", "POST", "PUT", "DELETE")),
    *(("catalog", m, _P) for m in ("GET", "PUT", "DELETE")),
    *(("catalog", m, f"{_P}/variants") for m in ("GET", "POST")),
    *(("catalog", m, f"{_P}/variants/{{variant_id}}") for m in ("GET", "PUT", "DELETE")),
    *(("catalog", m, f"{_P}/options") for m in ("GET", "POST")),
    ("catalog", "GET", f"{_P}/options/{{option_id}}"),
    *(("catalog", m, f"{_P}/options/{{option_id}}/values") for m in ("GET", "POST")),
    *(("catalog", m, f"{_P}/images") for m in ("GET", "POST")),
    *(("catalog", m, f"{_P}/images/{{image_id}}") for m in ("GET", "PUT", "DELETE")),
    *(("catalog", m, "/catalog/variants") for m in ("GET", "PUT")),
    *(("catalog", m, "/catalog/categories") for m in ("GET", "POST")),
    *(("catalog", m, "/catalog/categories/{category_id}") for m in ("GET", "PUT", "DELETE")),
    *(("catalog", m, "/catalog/brands") for m in ("GET", "POST")),
    *(("catalog", m, "/catalog/brands/{brand_id}") for m in ("GET", "PUT", "DELETE")),
    *(("channels", m, "/channels/{channel_id}/listings") for m in ("GET", "POST", "PUT")),
    ("channels", "GET", "/channels/{channel_id}/listings/{listing_id}"),
    *(("webhooks", m, "/hooks") for m in ("GET", "POST")),
    *(("webhooks", m, "/hooks/{id}") for m in ("GET", "PUT", "DELETE")),
)

# An error status an operation does not declare (401, 404, 429, 5xx...), or declares without a body, is
# checked against the catalog's generic error payload: the live API answers every error in that shape.
UNDECLARED_ERROR = ("catalog", "#/definitions/errorResponse_Full")

# Prose and annotations are not kept: the artefact holds the structure (the facts we test against), not
# the spec's text.
_ANNOTATIONS = frozenset(
    {"example", "examples", "discriminator", "readOnly", "writeOnly", "xml", "externalDocs", "deprecated"}
    | {"description", "title"}
)
_OBJECT_KEYS = frozenset({"type", "properties", "required", "description", "title", "additionalProperties"})
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_PARAM_SCHEMA_KEYS = frozenset(
    {"type", "items", "enum", "format", "minimum", "maximum", "minLength", "maxLength", "pattern", "default"}
)
_ABSENT = "<absent>"


@dataclass(frozen=True)
class Erratum:
    spec: str
    location: tuple[str, ...]  # keys from the document root
    expected: Any  # what the published spec says there (_ABSENT: nothing)
    patched: Any  # what we read instead (_ABSENT: removed)
    reason: str


def _variants_erratum(model: str, branch: str, variant_model: str) -> Erratum:
    ref = {"$ref": f"#/definitions/{variant_model}"}
    return Erratum(
        "catalog",
        ("definitions", model, "allOf", branch, "properties", "variants"),
        ref,
        {"type": "array", "items": ref},
        f"{model}.variants is declared as one variant; the API takes and returns an array of them",
    )


def _variant_list_erratum(method: str, branch: str, name: str, schema: dict[str, str]) -> Erratum:
    items = (
        "paths",
        "/catalog/variants",
        method,
        "responses",
        "200",
        "schema",
        "properties",
        "data",
        "items",
    )
    return Erratum(
        "catalog",
        (*items, "allOf", branch, "properties", name),
        _ABSENT,
        schema,
        f"{method.upper()} /catalog/variants answers variants with `{name}`, as productVariant_Full names it",
    )


_PRODUCT_REQUIRED = ["name", "type", "weight", "price"]
_SUB_RESOURCES = [
    "variants",
    "images",
    "custom_fields",
    "bulk_pricing_rules",
    "primary_image",
    "modifiers",
    "options",
    "videos",
]
_INCLUDE = {
    "name": "include",
    "description": (
        "Sub-resources to include on a product, in a comma-separated list. If `options` or `modifiers` "
        "is used, results are limited to 10 per page."
    ),
    "required": False,
    "in": "query",
}


def _include_erratum(path: str, index: str) -> Erratum:
    return Erratum(
        "catalog",
        ("paths", path, "get", "parameters", index),
        {**_INCLUDE, "type": "string", "enum": _SUB_RESOURCES},
        {**_INCLUDE, "type": "array", "items": {"type": "string", "enum": _SUB_RESOURCES}},
        f"GET {path}: `include` is a comma-separated list of sub-resources (its description), not one",
    )


_BATCH_ERROR = {"$ref": "#/definitions/errorResponse_409"}

ERRATA: tuple[Erratum, ...] = (
    _variants_erratum("product_Full", "2", "productVariant_Full"),
    _variants_erratum("product_Post", "1", "productVariant_Post_Product"),
    _variants_erratum("product_Put", "2", "productVariant_Put_Product"),
    Erratum(
        "catalog",
        ("definitions", "productOption_Base", "properties", "option_values"),
        {"$ref": "#/definitions/productOptionOptionValue_Full"},
        {"type": "array", "items": {"$ref": "#/definitions/productOptionOptionValue_Full"}},
        "an option has many values: the API returns them as an array, not one object",
    ),
    # product_Base ("shared properties used in POST, PUT, GET") requires name, type, weight and price,
    # which makes every PUT a full replacement. The operations' own descriptions say otherwise: POST
    # requires those four, batch PUT only `id` (product_Put_Collection says so itself), a single PUT
    # nothing; and a GET with include_fields answers only the fields asked for.
    Erratum(
        "catalog",
        ("definitions", "product_Base", "required"),
        _PRODUCT_REQUIRED,
        _ABSENT,
        "product_Base's required fields hold for POST only (see the POST and PUT descriptions)",
    ),
    Erratum(
        "catalog",
        ("definitions", "product_Post", "required"),
        _ABSENT,
        _PRODUCT_REQUIRED,
        "POST /catalog/products requires name, type, weight and price (its description)",
    ),
    Erratum(
        "catalog",
        ("paths", "/catalog/categories/{category_id}", "put", "parameters", "0", "schema", "required"),
        ["parent_id", "name"],
        _ABSENT,
        "PUT /catalog/categories/{category_id} requires no field (its description: Required Fields: none)",
    ),
    Erratum(
        "catalog",
        (
            "paths",
            "/catalog/products/{product_id}/images/{image_id}",
            "put",
            "parameters",
            "0",
            "schema",
            "allOf",
            "0",
            "properties",
            "image_url",
        ),
        _ABSENT,
        {"type": "string", "maxLength": 255},
        "PUT of a product image takes `image_url` (its usage notes: at most 255 characters); its schema "
        "omits it",
    ),
    Erratum(
        "catalog",
        ("paths", "/catalog/brands/{brand_id}", "put", "parameters", "0", "schema", "required"),
        ["name"],
        _ABSENT,
        "PUT /catalog/brands/{brand_id} requires no field (its description: Required Fields: None)",
    ),
    _include_erratum("/catalog/products", "38"),
    _include_erratum("/catalog/products/{product_id}", "0"),
    *(
        _variant_list_erratum(method, branch, name, {"type": kind})
        for method in ("get", "put")
        for branch, name, kind in (("0", "mpn", "string"), ("1", "calculated_weight", "number"))
    ),
    Erratum(
        "channels",
        ("paths", "/channels/{channel_id}/listings", "get", "requestBody"),
        {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/listing_Full"}}}},
        _ABSENT,
        "a GET of listings takes no body (the spec gives it listing_Full's)",
    ),
    Erratum(
        "webhooks",
        ("components", "schemas", "webhook_Base", "properties", "headers"),
        {
            "type": "object",
            "description": (
                "You can pass in any number of custom headers to validate webhooks being returned. "
            ),
            "properties": {"custom": {"type": "string"}},
        },
        {"type": "object", "additionalProperties": {"type": "string"}},
        "a hook's headers are any number of custom headers (its description); `custom` is an example name",
    ),
    Erratum(
        "webhooks",
        ("components", "responses", "422_UnprocessableEntity", "content", "application/json", "schema"),
        {
            "type": "object",
            "properties": {
                "status": {"type": "integer"},
                "title": {"type": "string"},
                "type": {"type": "string"},
                "errors": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "primary_contact.district": {"type": "string"},
                    },
                },
            },
        },
        {
            "type": "object",
            "properties": {
                "status": {"type": "integer"},
                "title": {"type": "string"},
                "type": {"type": "string"},
                "errors": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "a 422's errors map each refused field to a message (its own example names `destination`)",
    ),
    Erratum(
        "channels",
        ("paths", "/channels/{channel_id}/listings", "post", "responses", "200"),
        {"$ref": "#/components/responses/listing_Resp"},
        {"$ref": "#/components/responses/listing_Resp_Collection"},
        "POST takes an array of listings and answers them as an array (as PUT does), not one listing",
    ),
    # Not an error of the spec but a documented gap we model: a batch whose items partly fail answers
    # 207 with the items that landed and one errorResponse_409-shaped error per failed item (named by
    # index). catalog.v3.yml lists no 207 for this operation; our client handles it per item.
    Erratum(
        "catalog",
        ("paths", "/catalog/products", "put", "responses", "207"),
        _ABSENT,
        {
            "description": "Some items of the batch failed (modelled by catalog-sync; not in the spec)",
            "schema": {
                "type": "object",
                "properties": {
                    "data": {"type": "array", "items": {"$ref": "#/definitions/product_Full"}},
                    "meta": {"type": "object"},
                    "batch_errors": {"type": "array", "items": _BATCH_ERROR},
                },
                "required": ["data", "batch_errors"],
            },
        },
        "batch product PUT with some failed items: 207 Multi-Status (modelled, absent from the spec)",
    ),
)


class DeriveError(Exception):
    """The specs do not read as the errata or OPERATIONS expect."""


# --- the artefact ---------------------------------------------------------------------------------------


def default_spec_dir() -> Path:
    shared = Path(os.environ.get("CATALOG_SYNC_SHARED", REPO.parent / "shared"))
    return shared / "reference" / "bigcommerce"


def derive(spec_dir: Path) -> dict[str, Any]:
    """The artefact (a JSON-ready dict, its `digest` included) from the specs in `spec_dir`."""
    docs = {key: _load(spec_dir / name, key) for key, name in SPEC_FILES.items()}
    converter = _Converter(docs)
    operations: dict[str, Any] = {}
    for spec, method, template in OPERATIONS:
        operations[f"{method} {template}"] = {"spec": spec, **converter.operation(spec, method, template)}
    samples = sorted((spec_dir / "webhooks").glob("*.json"))
    artefact: dict[str, Any] = {
        "about": (
            "Derived from BigCommerce's official API specs by "
            f"`{GENERATOR}`; do not edit by hand (the digest would no longer match)."
        ),
        "source": {
            **SOURCE,
            "files": {
                path.relative_to(spec_dir).as_posix(): _file_ids(path)
                for path in [spec_dir / name for name in SPEC_FILES.values()] + samples
            },
        },
        "errata": [{"spec": e.spec, "location": "/".join(e.location), "reason": e.reason} for e in ERRATA],
        "undeclared_error": converter.ref(*UNDECLARED_ERROR),
        "operations": operations,
        "webhook_payloads": {
            str(json.loads(p.read_text())["scope"]): _shape(json.loads(p.read_text())) for p in samples
        },
    }
    artefact["definitions"] = dict(sorted(converter.definitions.items()))
    artefact["digest"] = artefact_digest(artefact)
    return artefact


def render(artefact: Mapping[str, Any]) -> str:
    return json.dumps(artefact, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _file_ids(path: Path) -> dict[str, str]:
    raw = path.read_bytes()
    blob = hashlib.sha1(b"blob %d\0" % len(raw) + raw, usedforsecurity=False).hexdigest()  # git's object id
    return {"sha256": hashlib.sha256(raw).hexdigest(), "git_blob": blob}


def _shape(value: Any) -> dict[str, Any]:
    """The JSON Schema of a documented payload: the same keys, each of the same JSON type."""
    if isinstance(value, dict):
        return {
            "type": "object",
            "properties": {k: _shape(v) for k, v in value.items()},
            "required": sorted(value),
            "additionalProperties": False,
        }
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, list):
        return {"type": "array"}
    return {"type": "string" if isinstance(value, str) else "null"}


# --- reading the specs ------------------------------------------------------------------------------------


def _load(path: Path, spec_key: str) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("rb") as fh:
        doc = yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader  # nosec B506
    if not isinstance(doc, dict):
        raise DeriveError(f"{path} is not a spec document")
    for erratum in ERRATA:
        if erratum.spec == spec_key:
            _patch(doc, erratum)
    return doc


def _patch(doc: dict[str, Any], erratum: Erratum) -> None:
    *parents, last = erratum.location
    node: Any = doc
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) else last
    current = node[key] if isinstance(node, list) else node.get(key, _ABSENT)
    if current != erratum.expected:
        raise DeriveError(
            f"{erratum.spec}: {'/'.join(erratum.location)} no longer reads {erratum.expected!r:.200}; "
            f"the spec may be fixed ({erratum.reason}): drop this erratum"
        )
    if erratum.patched == _ABSENT:
        del node[key]
    else:
        node[key] = copy.deepcopy(erratum.patched)


def _pointer(doc: Mapping[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise DeriveError(f"external reference not supported: {ref}")
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _deref(doc: Mapping[str, Any], node: Any) -> Any:
    for _ in range(20):
        if not (isinstance(node, Mapping) and "$ref" in node):
            return node
        node = _pointer(doc, node["$ref"])
    raise DeriveError("reference chain too long")


def _schema_of_response(response: Mapping[str, Any]) -> Any:
    if "content" in response:  # OpenAPI 3
        return _media_schema(response["content"])
    return response.get("schema")  # Swagger 2


def _media_schema(content: Mapping[str, Any]) -> Any:
    # webhooks.v3.yml keys its media types "v3" and "v2"; v3 is the JSON API we use.
    for media in ("application/json", "v3"):
        if media in content:
            return content[media].get("schema")
    return next(iter(content.values())).get("schema") if content else None


class _Converter:
    """Converts spec schemas to Draft 4 JSON Schema, collecting the definitions they refer to."""

    def __init__(self, docs: Mapping[str, dict[str, Any]]) -> None:
        self.docs = docs
        self.definitions: dict[str, Any] = {}

    def operation(self, spec: str, method: str, template: str) -> dict[str, Any]:
        doc = self.docs[spec]
        item = doc["paths"].get(template)
        op = (item or {}).get(method.lower())
        if op is None:
            raise DeriveError(f"{spec} has no operation {method} {template}")
        params = [_deref(doc, p) for p in [*(item.get("parameters") or []), *(op.get("parameters") or [])]]
        request: Any = None
        if "requestBody" in op:
            request = _media_schema(_deref(doc, op["requestBody"]).get("content") or {})
        else:
            request = next((p.get("schema") for p in params if p.get("in") == "body"), None)
        responses = {}
        for status, raw in sorted((op.get("responses") or {}).items(), key=lambda kv: str(kv[0])):
            schema = _schema_of_response(_deref(doc, raw))
            responses[str(status)] = None if schema is None else self.convert(spec, schema)
        return {
            "request": None if request is None else self.convert(spec, request),
            "query": self._query(spec, [p for p in params if p.get("in") == "query"]),
            "responses": responses,
        }

    def ref(self, spec: str, ref: str) -> dict[str, str]:
        """A reference to `ref` of `spec`, converted into the definitions on first use."""
        name = (
            f"{spec}.{ref.rsplit('/', 2)[-2] + '.' if '/responses/' in ref else ''}{ref.rsplit('/', 1)[-1]}"
        )
        if name not in self.definitions:
            self.definitions[name] = {}  # a recursive reference finds it while it is being converted
            self.definitions[name] = self.convert(spec, self._target(spec, ref))
        return {"$ref": f"#/definitions/{name}"}

    def convert(self, spec: str, node: Any) -> dict[str, Any]:
        schema = self._convert(spec, node)
        if not isinstance(schema, dict):
            raise DeriveError(f"not a schema: {node!r:.200}")
        return schema

    def _target(self, spec: str, ref: str) -> Any:
        target = _pointer(self.docs[spec], ref)
        if "/responses/" in ref:  # a response object used as a schema
            target = _schema_of_response(_deref(self.docs[spec], target)) or {}
        return target

    def _query(self, spec: str, params: list[Mapping[str, Any]]) -> dict[str, Any]:
        properties = {}
        for param in params:
            raw = param.get("schema") or {k: v for k, v in param.items() if k in _PARAM_SCHEMA_KEYS}
            properties[str(param["name"])] = self.convert(spec, raw)
        query: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
        required = [str(p["name"]) for p in params if p.get("required")]
        if required:
            query["required"] = required
        return query

    def _convert(self, spec: str, node: Any) -> Any:
        if not isinstance(node, Mapping):
            return node
        if "$ref" in node:
            return self.ref(spec, node["$ref"])
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key.startswith("x-") or key in _ANNOTATIONS or key == "nullable":
                continue
            if key == "properties" and set(value) == {"additionalProperties"}:  # the error schemas' slip
                out["additionalProperties"] = self._convert(spec, value["additionalProperties"])
            elif key == "properties":
                out[key] = {name: self._convert(spec, sub) for name, sub in value.items()}
            elif key in ("items", "not") or (key == "additionalProperties" and isinstance(value, Mapping)):
                out[key] = self._convert(spec, value)
            elif key == "allOf":  # branches inline, so that plain-object branches can be merged
                out[key] = [self._convert(spec, self._inline(spec, sub)) for sub in value]
            elif key in _SUBSCHEMA_LISTS:
                out[key] = [self._convert(spec, sub) for sub in value]
            else:
                out[key] = value
        if "allOf" in out:
            out = _merge_all_of(out)
        if node.get("nullable") is True or node.get("x-nullable") is True:
            out = _nullable(out)
        return out

    def _inline(self, spec: str, node: Any) -> Any:
        for _ in range(20):
            if not (isinstance(node, Mapping) and "$ref" in node):
                return node
            node = self._target(spec, node["$ref"])
        raise DeriveError("reference chain too long")


def _merge_all_of(schema: dict[str, Any]) -> dict[str, Any]:
    own = {k: v for k, v in schema.items() if k != "allOf"}
    parts = [own, *schema["allOf"]]
    if not all(isinstance(p, Mapping) and set(p) <= _OBJECT_KEYS for p in parts):
        return schema
    if any(p.get("type", "object") != "object" for p in parts):
        return schema
    merged: dict[str, Any] = {"type": "object", "properties": {}}
    required: list[str] = []
    for part in parts:
        for name, sub in (part.get("properties") or {}).items():
            previous = merged["properties"].get(name)
            merged["properties"][name] = sub if previous is None else {"allOf": [previous, sub]}
        required += [r for r in part.get("required") or [] if r not in required]
        if "additionalProperties" in part and "additionalProperties" not in merged:
            merged["additionalProperties"] = part["additionalProperties"]
    if required:
        merged["required"] = required
    return merged


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "type" in schema and isinstance(schema["type"], str):
        schema = {**schema, "type": [schema["type"], "null"]}
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


# --- command line -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--spec-dir", type=Path, default=None, help="default: ../shared/reference/bigcommerce"
    )
    parser.add_argument("--check", action="store_true", help="only report whether the artefact is current")
    args = parser.parse_args(argv)
    spec_dir = args.spec_dir or default_spec_dir()
    if not (spec_dir / SPEC_FILES["catalog"]).is_file():
        print(f"error: no BigCommerce specs in {spec_dir} (set --spec-dir)", file=sys.stderr)
        return 2
    try:
        text = render(derive(spec_dir))
    except DeriveError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    current = ARTEFACT.read_text() if ARTEFACT.is_file() else ""
    if args.check:
        print(f"{ARTEFACT.name} is {'current' if text == current else 'OUT OF DATE'}")
        return 0 if text == current else 1
    ARTEFACT.write_text(text)
    print(f"wrote {ARTEFACT} ({len(text) // 1024} KiB, {'unchanged' if text == current else 'changed'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
