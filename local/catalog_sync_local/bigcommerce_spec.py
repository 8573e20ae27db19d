"""BigCommerce's official API specifications as JSON Schema validators (for tests of the simulator/client).

The specs live in `$CATALOG_SYNC_SHARED/reference/bigcommerce/` (default: `<repo>/../shared`):
`catalog.v3.yml` is Swagger 2.0 (`definitions`, `#/responses/...`), `channels.v3.yml` and `webhooks.v3.yml`
are OpenAPI 3.0 (`components/schemas`). A schema is turned into a self-contained Draft 4 schema:

- `$ref`s are inlined (a reference back into itself becomes `{}`); a `$ref` that points at a *response*
  object instead of a schema (channels.v3.yml does this) is followed to that response's schema;
- `nullable: true` (OpenAPI 3.0) and `x-nullable: true` (Swagger 2.0) admit `null`; other `x-*` keys,
  examples and annotations are dropped;
- `allOf` branches that are plain objects are merged into one object, so `strict=True` can forbid
  properties the spec does not name (catches fields a simulator invents);
- `properties: {additionalProperties: {...}}` (a slip in catalog.v3.yml's error schemas, which means a
  map of field -> message) is read as `additionalProperties: {...}`;
- `format: date-time` / `date` are checked (ISO-8601), other formats (`float`, `int64`, ...) are not.

Known errors of the specs (at api-specs commit 1072ce7) are patched on load, each only while the spec
still reads as expected (else loading fails, so a fixed spec is noticed): see ERRATA.
"""

from __future__ import annotations

import copy
import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import yaml

REPO = Path(__file__).resolve().parents[2]
SPEC_FILES = {"catalog": "catalog.v3.yml", "channels": "channels.v3.yml", "webhooks": "webhooks.v3.yml"}
_ANNOTATIONS = frozenset(
    {"example", "examples", "discriminator", "readOnly", "writeOnly", "xml", "externalDocs", "deprecated"}
)
_OBJECT_KEYS = frozenset({"type", "properties", "required", "description", "title", "additionalProperties"})
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")


@dataclass(frozen=True)
class Erratum:
    spec: str
    location: tuple[str, ...]  # keys from the document root
    expected: Any  # what the published spec says there
    patched: Any
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


ERRATA = (
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
    Erratum(
        "channels",
        ("paths", "/channels/{channel_id}/listings", "post", "responses", "200"),
        {"$ref": "#/components/responses/listing_Resp"},
        {"$ref": "#/components/responses/listing_Resp_Collection"},
        "POST takes an array of listings and answers them as an array (as PUT does), not one listing",
    ),
)


class SpecViolation(AssertionError):
    """A body does not match the official spec (or the spec does not define the response asked for)."""


def spec_dir() -> Path:
    shared = Path(os.environ.get("CATALOG_SYNC_SHARED", REPO.parent / "shared"))
    return shared / "reference" / "bigcommerce"


def load_spec(spec_name: str) -> dict[str, Any]:
    """Parsed spec document (cached: catalog.v3.yml takes about a second to parse)."""
    return _load(_spec_key(spec_name))


@functools.cache
def _load(spec_key: str) -> dict[str, Any]:
    path = spec_dir() / SPEC_FILES[spec_key]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("rb") as fh:
        doc = yaml.load(fh, Loader=loader)  # noqa: S506 - a SafeLoader subclass  # nosec B506
    if not isinstance(doc, dict):
        raise SpecViolation(f"{path} is not a spec document")
    for erratum in ERRATA:
        if erratum.spec == spec_key:
            _patch(doc, erratum)
    return doc


def _patch(doc: dict[str, Any], erratum: Erratum) -> None:
    *parents, last = erratum.location
    node: Any = doc
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if node.get(last) != erratum.expected:
        raise SpecViolation(
            f"{erratum.spec}: {'/'.join(erratum.location)} no longer reads {erratum.expected!r}; "
            f"the spec may be fixed ({erratum.reason}): drop this erratum"
        )
    node[last] = erratum.patched


def validate_response(
    spec_name: str, method: str, path: str, status: int, body: Any, *, strict: bool = False
) -> None:
    """Check `body` against the spec's schema for `method path` answering `status`.

    `path` is a spec path template (`/catalog/products/{product_id}`) or a concrete path
    (`/catalog/products/12`). `strict=True` also rejects properties the schema does not name.
    Raises SpecViolation (an AssertionError) listing every mismatch.
    """
    label = f"{spec_name} {method.upper()} {path} -> {status}"
    schema = response_schema(spec_name, method, path, status)
    if schema is None:
        if body not in (None, b"", ""):
            raise SpecViolation(f"{label}: the spec defines no body for this response, got {body!r:.200}")
        return
    _check(label, schema, body, strict)


def validate_request(
    spec_name: str, method: str, path: str, body: Any, *, strict: bool = False, ignore_required: bool = False
) -> None:
    """Check a request body against the spec. `ignore_required` drops `required` lists: the catalog spec
    marks `name`, `type`, `weight`, `price` required on product PUTs, which the live API does not need."""
    label = f"{spec_name} {method.upper()} {path} request"
    schema = request_schema(spec_name, method, path)
    if schema is None:
        raise SpecViolation(f"{label}: the spec defines no request body")
    if ignore_required:
        schema = _without_required(schema)
    _check(label, schema, body, strict)


def validate_definition(spec_name: str, name: str, instance: Any, *, strict: bool = False) -> None:
    """Check `instance` against a named schema (`definitions/<name>` or `components/schemas/<name>`)."""
    doc = load_spec(spec_name)
    pointer = "#/definitions/" if "definitions" in doc else "#/components/schemas/"
    _check(f"{spec_name} {name}", _converted(_spec_key(spec_name), pointer + name), instance, strict)


# --- locating schemas ----------------------------------------------------------------------------------


def response_schema(spec_name: str, method: str, path: str, status: int) -> dict[str, Any] | None:
    """The converted schema of a response (None when the response has no body, e.g. 204)."""
    return copy.deepcopy(_response_schema(_spec_key(spec_name), method.lower(), path, int(status)))


def request_schema(spec_name: str, method: str, path: str) -> dict[str, Any] | None:
    return copy.deepcopy(_request_schema(_spec_key(spec_name), method.lower(), path))


@functools.cache
def _response_schema(spec_key: str, method: str, path: str, status: int) -> dict[str, Any] | None:
    doc = load_spec(spec_key)
    template, op = _operation(doc, method, path)
    responses = op.get("responses") or {}
    raw = responses.get(str(status), responses.get(status))
    if raw is None:
        defined = ", ".join(sorted(str(k) for k in responses))
        raise SpecViolation(
            f"{spec_key} {method.upper()} {template}: no {status} response (spec has {defined})"
        )
    schema = _schema_of_response(doc, _deref(doc, raw))
    return None if schema is None else _schema(doc, schema)


@functools.cache
def _request_schema(spec_key: str, method: str, path: str) -> dict[str, Any] | None:
    doc = load_spec(spec_key)
    _, op = _operation(doc, method, path)
    if "requestBody" in op:
        schema = _media_schema(_deref(doc, op["requestBody"]).get("content") or {})
    else:
        params = [_deref(doc, p) for p in op.get("parameters") or []]
        schema = next((p.get("schema") for p in params if p.get("in") == "body"), None)
    return None if schema is None else _schema(doc, schema)


@functools.cache
def _converted(spec_key: str, ref: str) -> dict[str, Any]:
    return _schema(load_spec(spec_key), {"$ref": ref})


def _operation(doc: Mapping[str, Any], method: str, path: str) -> tuple[str, dict[str, Any]]:
    paths: dict[str, Any] = doc["paths"]
    if path in paths:
        candidates = [path]
    else:  # a concrete path: prefer templates with the most literal segments
        candidates = sorted(
            (t for t in paths if _template_regex(t).fullmatch(path)), key=lambda t: t.count("{")
        )
    for template in candidates:
        op = paths[template].get(method)
        if op is not None:
            return template, op
    raise SpecViolation(f"the spec has no operation {method.upper()} {path}")


@functools.cache
def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)))


def _schema_of_response(doc: Mapping[str, Any], response: Mapping[str, Any]) -> Any:
    if "content" in response:  # OpenAPI 3
        return _media_schema(response["content"])
    return response.get("schema")  # Swagger 2


def _media_schema(content: Mapping[str, Any]) -> Any:
    # webhooks.v3.yml keys its media types "v3" and "v2"; v3 is the JSON API we serve.
    for media in ("application/json", "v3"):
        if media in content:
            return content[media].get("schema")
    return next(iter(content.values())).get("schema") if content else None


def _deref(doc: Mapping[str, Any], node: Any) -> Any:
    for _ in range(20):
        if not (isinstance(node, Mapping) and "$ref" in node):
            return node
        node = _pointer(doc, node["$ref"])
    raise SpecViolation("reference chain too long")


def _pointer(doc: Mapping[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise SpecViolation(f"external reference not supported: {ref}")
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


# --- converting OpenAPI/Swagger schemas to JSON Schema ----------------------------------------------------


def _schema(doc: Mapping[str, Any], node: Any) -> dict[str, Any]:
    schema = _convert(doc, node, ())
    if not isinstance(schema, dict):
        raise SpecViolation(f"not a schema: {node!r:.200}")
    return schema


def _convert(doc: Mapping[str, Any], node: Any, stack: tuple[str, ...]) -> Any:
    if not isinstance(node, Mapping):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if ref in stack:
            return {}  # recursive schema: accept anything below the first repetition
        target = _pointer(doc, ref)
        if "/responses/" in ref:  # a response object used as a schema
            target = _schema_of_response(doc, _deref(doc, target)) or {}
        return _convert(doc, target, (*stack, ref))
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-") or key in _ANNOTATIONS or key == "nullable":
            continue
        if key == "properties" and set(value) == {"additionalProperties"}:  # the error schemas' slip
            out["additionalProperties"] = _convert(doc, value["additionalProperties"], stack)
        elif key == "properties":
            out[key] = {name: _convert(doc, sub, stack) for name, sub in value.items()}
        elif key in ("items", "not") or (key == "additionalProperties" and isinstance(value, Mapping)):
            out[key] = _convert(doc, value, stack)
        elif key in _SUBSCHEMA_LISTS:
            out[key] = [_convert(doc, sub, stack) for sub in value]
        else:
            out[key] = value
    if "allOf" in out:
        out = _merge_all_of(out)
    if node.get("nullable") is True or node.get("x-nullable") is True:
        out = _nullable(out)
    return out


def _merge_all_of(schema: dict[str, Any]) -> dict[str, Any]:
    parts = [schema, *schema["allOf"]]
    own = {k: v for k, v in schema.items() if k != "allOf"}
    if not all(isinstance(p, Mapping) and set(p) <= _OBJECT_KEYS for p in [own, *schema["allOf"]]):
        return schema
    if any(p.get("type", "object") != "object" for p in parts):
        return schema
    merged: dict[str, Any] = {"type": "object", "properties": {}}
    required: list[str] = []
    for part in [own, *schema["allOf"]]:
        for name, sub in (part.get("properties") or {}).items():
            previous = merged["properties"].get(name)
            merged["properties"][name] = sub if previous is None else {"allOf": [previous, sub]}
        required += [r for r in part.get("required") or [] if r not in required]
        for key in ("title", "description", "additionalProperties"):
            if key in part and key not in merged:
                merged[key] = part[key]
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


def _without_required(node: Any) -> Any:
    if isinstance(node, list):
        return [_without_required(n) for n in node]
    if not isinstance(node, dict):
        return node
    return {
        k: ({n: _without_required(s) for n, s in v.items()} if k == "properties" else _without_required(v))
        for k, v in node.items()
        if k != "required"
    }


def _strict(node: Any, in_all_of: bool = False) -> Any:
    """Forbid unnamed properties on every object schema (except direct allOf branches, which see only
    part of the object)."""
    if isinstance(node, list):
        return [_strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {n: _strict(s) for n, s in value.items()}
        elif key == "allOf":
            out[key] = [_strict(s, in_all_of=True) for s in value]
        elif isinstance(value, dict | list) and key not in ("enum", "required"):
            out[key] = _strict(value)
        else:
            out[key] = value
    if "properties" in out and "additionalProperties" not in out and not in_all_of:
        out["additionalProperties"] = False
    return out


# --- validating -------------------------------------------------------------------------------------------

_FORMATS = jsonschema.FormatChecker(formats=())


def _is_datetime(value: object) -> bool:
    if isinstance(value, str):
        datetime.fromisoformat(value)
        if "T" not in value:
            raise ValueError(f"{value!r} has no time part")
    return True


def _is_date(value: object) -> bool:
    if isinstance(value, str):
        date.fromisoformat(value)
    return True


_FORMATS.checks("date-time", raises=ValueError)(_is_datetime)
_FORMATS.checks("date", raises=ValueError)(_is_date)


def _check(label: str, schema: dict[str, Any], instance: Any, strict: bool) -> None:
    if strict:
        schema = _strict(schema)
    validator = jsonschema.Draft4Validator(schema, format_checker=_FORMATS)
    errors = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
    if not errors:
        return
    lines = [f"  {_json_path(e.absolute_path)}: {e.message[:300]}" for e in errors[:15]]
    more = f"\n  ... and {len(errors) - 15} more" if len(errors) > 15 else ""
    raise SpecViolation(f"{label}: body does not match the official spec:\n" + "\n".join(lines) + more)


def _json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _spec_key(spec_name: str) -> str:
    key = spec_name.split(".", 1)[0]
    if key not in SPEC_FILES:
        raise ValueError(f"unknown spec {spec_name!r}; expected one of {sorted(SPEC_FILES)}")
    return key
