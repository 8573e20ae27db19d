"""BigCommerce's official operation schemas, as derived facts: validators for requests and responses.

The schemas come from `bigcommerce_contract.json`, which `simulators.bigcommerce.spec_derive` derives from the
official specs (bigcommerce/api-specs; their errata are listed there and in the artefact). Nothing here
reads the specs themselves, so a bare clone validates the same way.

- A request is checked strictly: its body may not carry a property the operation's schema does not name,
  and its query may only use the parameters the operation declares (values coerced from their text).
- A response is checked against the schema of its status; an error status the operation does not
  declare (401, 404, 429, 5xx...) against the spec's generic error payload. `strict=True` also rejects
  properties the schema does not name (catches fields a simulator invents).
- `format: date-time` / `date` are checked (ISO-8601); other formats (`float`, `int64`, ...) are not.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jsonschema

ARTEFACT = Path(__file__).with_name("bigcommerce_contract.json")
_JS_TYPES = {"number": "jsnumber", "integer": "jsnumber", "string": "jsstring", "boolean": "jsboolean"}


class SpecViolation(AssertionError):
    """A message does not match the official spec (or the spec has no such operation or response)."""


@dataclass(frozen=True)
class Problem:
    """One mismatch: where in the message (`$.data.price`, or a query parameter) and what is wrong."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class Operation:
    spec: str
    method: str
    template: str  # "/catalog/products/{product_id}"

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"

    @property
    def schemas(self) -> dict[str, Any]:
        """`request`, `query` and `responses` (by status) of the operation, as derived."""
        ops: dict[str, Any] = contract()["operations"]
        return dict(ops[self.name])

    @property
    def statuses(self) -> tuple[str, ...]:
        return tuple(self.schemas["responses"])


def artefact_digest(artefact: Mapping[str, Any]) -> str:
    """sha256 of the artefact's canonical JSON, its own `digest` left out (so hand edits show)."""
    canonical = json.dumps({k: v for k, v in artefact.items() if k != "digest"}, sort_keys=True)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


@functools.cache
def contract() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(ARTEFACT.read_text())
    return loaded


# --- locating operations ----------------------------------------------------------------------------------


def find_operation(method: str, path: str) -> Operation | None:
    """The operation for `method` on a concrete path (`/catalog/products/12`) or a template."""
    return _find(method.upper(), path.rstrip("/") or "/")


@functools.cache
def _find(method: str, path: str) -> Operation | None:
    candidates = []
    for name, raw in contract()["operations"].items():
        op_method, template = name.split(" ", 1)
        if op_method == method and (template == path or _template_regex(template).fullmatch(path)):
            candidates.append(
                (template != path, template.count("{"), Operation(raw["spec"], method, template))
            )
    return min(candidates, key=lambda c: c[:2])[2] if candidates else None


def operation(spec_name: str, method: str, path: str) -> Operation:
    op = find_operation(method, path)
    if op is None or op.spec != spec_name:
        raise SpecViolation(f"the {spec_name} spec has no operation {method.upper()} {path}")
    return op


@functools.cache
def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)))


# --- problems (lists) -------------------------------------------------------------------------------------


def request_problems(op: Operation, query: Sequence[tuple[str, str]], body: Any) -> list[Problem]:
    """What is wrong with a request's query and JSON body (None: no body) for `op`."""
    raw = op.schemas
    problems = _problems(raw["query"], _coerced_query(raw["query"], query), strict=False, root="?")
    schema = raw["request"]
    if schema is None:
        if body is not None:
            problems.append(Problem("$", "the spec defines no request body for this operation"))
    else:
        problems += _problems(schema, body, strict=True)
    return problems


def response_problems(op: Operation, status: int, body: Any, *, strict: bool = False) -> list[Problem]:
    responses: dict[str, Any] = op.schemas["responses"]
    declared = str(status) in responses
    schema = responses.get(str(status))
    if schema is None and status >= 400:
        schema = contract()["undeclared_error"]
    elif schema is None and not declared:
        return [Problem("status", f"the spec defines no {status} response (it has {', '.join(responses)})")]
    if schema is None:
        if body is not None:
            return [Problem("$", f"the spec defines no body for this response, got {body!r:.200}")]
        return []
    return _problems(schema, body, strict=strict)


# --- assertions (for tests) -------------------------------------------------------------------------------


def validate_request(
    spec_name: str, method: str, path: str, body: Any, query: Sequence[tuple[str, str]] = ()
) -> None:
    """Raise SpecViolation unless `body` (and `query`) is a valid request for the operation."""
    op = operation(spec_name, method, path)
    _raise(f"{spec_name} {op.name} request", request_problems(op, query, body))


def validate_response(
    spec_name: str, method: str, path: str, status: int, body: Any, *, strict: bool = False
) -> None:
    """Raise SpecViolation unless `body` is the spec's answer `status` to the operation. `path` is a
    template (`/catalog/products/{product_id}`) or a concrete path (`/catalog/products/12`)."""
    op = operation(spec_name, method, path)
    _raise(f"{spec_name} {op.name} -> {status}", response_problems(op, status, body, strict=strict))


def validate_definition(spec_name: str, name: str, instance: Any, *, strict: bool = False) -> None:
    """Check `instance` against a named schema of the spec (one the derived operations refer to)."""
    key = f"{spec_name}.{name}"
    if key not in contract()["definitions"]:
        raise SpecViolation(f"{key} is not among the derived definitions")
    _raise(key, _problems({"$ref": f"#/definitions/{key}"}, instance, strict=strict))


def _raise(label: str, problems: list[Problem]) -> None:
    if problems:
        lines = [f"  {p}"[:320] for p in problems[:15]]
        more = f"\n  ... and {len(problems) - 15} more" if len(problems) > 15 else ""
        raise SpecViolation(f"{label}: does not match the official spec:\n" + "\n".join(lines) + more)


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


def _problems(schema: Mapping[str, Any], instance: Any, *, strict: bool, root: str = "$") -> list[Problem]:
    validator = _validator(json.dumps(schema, sort_keys=True), strict)
    errors = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
    return list(dict.fromkeys(problem for error in errors for problem in _explain(error, root)))


@functools.lru_cache(maxsize=512)
def _validator(schema_json: str, strict: bool) -> Any:
    schema = json.loads(schema_json)
    definitions = _definitions(strict)
    if strict:
        schema = _strict(schema)
    return jsonschema.Draft4Validator(
        {"allOf": [schema], "definitions": definitions}, format_checker=_FORMATS
    )


@functools.cache
def _definitions(strict: bool) -> dict[str, Any]:
    definitions = copy.deepcopy(contract()["definitions"])
    return {k: _strict(v) for k, v in definitions.items()} if strict else definitions


def _explain(error: Any, root: str) -> list[Problem]:
    """BigCommerce-style codes where it has them (`error.path.missing`, `error.expected.jsnumber`)."""
    where = _json_path(error.absolute_path, root)
    if error.validator == "required" and isinstance(error.instance, Mapping):
        missing = [name for name in error.validator_value if name not in error.instance]
        return [Problem(_join(where, name), "error.path.missing") for name in missing]
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        named = set(error.schema.get("properties") or {})
        extra = [name for name in error.instance if name not in named]
        return [Problem(_join(where, name), "error.path.unexpected") for name in extra]
    if error.validator == "type" and isinstance(error.validator_value, str):
        return [Problem(where, f"error.expected.{_JS_TYPES.get(error.validator_value, 'jsobject')}")]
    if error.validator == "enum":
        return [Problem(where, "error.expected.validenumvalue")]
    return [Problem(where, str(error.message)[:300])]


def _json_path(parts: Any, root: str) -> str:
    path = root
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else ("" if path == "?" else ".") + str(part)
    return path


def _join(where: str, name: str) -> str:
    return f"{where}{name}" if where == "?" else f"{where}.{name}"


def _coerced_query(schema: Mapping[str, Any], query: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Query text as the declared types (`id:in=1,2` -> [1, 2]); the last of repeated names wins."""
    properties: Mapping[str, Any] = schema.get("properties") or {}
    return {name: _coerce(value, properties.get(name) or {}) for name, value in query}


def _coerce(value: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "array":
        return [_coerce(v, schema.get("items") or {}) for v in value.split(",")]
    if kind == "integer" and re.fullmatch(r"-?\d+", value):
        return int(value)
    if kind == "number" and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return float(value)
    if kind == "boolean" and value in ("true", "false", "1", "0"):
        return value in ("true", "1")
    return value


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


# --- webhook notifications --------------------------------------------------------------------------------


def documented_scopes() -> tuple[str, ...]:
    """The scopes whose payloads BigCommerce documents (their shapes are in the artefact)."""
    return tuple(contract()["webhook_payloads"])


def notification_problems(payload: Any) -> list[Problem]:
    """A notification's keys and value types against the payload BigCommerce documents for its scope."""
    scope = payload.get("scope") if isinstance(payload, Mapping) else None
    shape = contract()["webhook_payloads"].get(scope)
    if shape is None:
        return [Problem("$.scope", f"no documented payload for scope {scope!r}")]
    return _problems(shape, payload, strict=False)


def validate_notification(payload: Any) -> None:
    _raise("webhook notification", notification_problems(payload))
