"""How a Medusa v2 list or retrieve route shapes its answer, as a real Medusa 2.21.2 did (measured by the
contract tests, tests/contract/medusa): the `fields` query parameter, strict query validation, paging.

- `fields` absent: the route's default view. Present: `a,b` only those (plus `id`); `+x` / `-x` add to or
  remove from the default; `*rel` (or `rel.*`) a relation with its own columns but none of its relations
  (`*variants` carries no prices: ask `*variants.prices`); `rel.col` one column of a relation.
- An undeclared query parameter is a 400 `invalid_data` "Invalid request: Unrecognized fields: 'x'" on
  the routes that validate strictly (categories, stores, brands; not the products list).
- `limit` defaults per route (50 for products and categories; 20 for the Brand Module's brands, which
  uses `createFindParams()`'s default).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# kind -> {relation: kind of its items}
RELATIONS: dict[str, dict[str, str]] = {
    "product": {
        "variants": "variant",
        "categories": "category",
        "images": "image",
        "options": "option",
        "sales_channels": "sales_channel",
        "brand": "brand",
        "tags": "tag",
    },
    "variant": {"prices": "price", "options": "option_value"},
    "option": {"values": "option_value"},
    "option_value": {"option": "option"},
    "category": {"parent_category": "category", "category_children": "category"},
    "brand": {"products": "product"},
}
PAGING = ("limit", "offset", "order", "fields")

Tree = dict[str, Any]


class QueryError(ValueError):
    """A query Medusa refuses (400 invalid_data)."""


def check_query(query: Mapping[str, str], filters: Iterable[str]) -> None:
    unknown = [key for key in query if key not in PAGING and key not in filters]
    if unknown:
        raise QueryError(f"Invalid request: Unrecognized fields: '{', '.join(unknown)}'")


def shape(
    record: Mapping[str, Any], kind: str, fields: str | None, default: Tree | None = None
) -> dict[str, Any]:
    """`record` (the full view) as the route answers it for the `fields` parameter."""
    default = default if default is not None else everything(record, kind)
    if fields is None:
        return dict(_project(record, default, kind))
    entries = [f.strip() for f in fields.split(",") if f.strip()]
    plain = [f for f in entries if f[0] not in "+-"]
    tree: Tree = {"id": {}} if plain else _copy(default)
    for entry in entries:
        path = entry.lstrip("+-")
        if entry.startswith("-"):
            _remove(tree, path.split("."))
        else:
            _add(tree, path)
    return dict(_project(record, tree, kind))


def paged(
    key: str, items: list[dict[str, Any]], query: Mapping[str, str], default_limit: int
) -> dict[str, Any]:
    try:
        offset = max(0, int(query.get("offset") or 0))
        limit = max(1, int(query.get("limit") or default_limit))
    except ValueError as exc:
        raise QueryError("Invalid request: limit and offset must be numbers") from exc
    return {key: items[offset : offset + limit], "count": len(items), "offset": offset, "limit": limit}


def everything(record: Mapping[str, Any], kind: str) -> Tree:
    tree: Tree = {"*": {}}
    for relation, child in RELATIONS.get(kind, {}).items():
        value = record.get(relation)
        sample = value[0] if isinstance(value, list) and value else value
        if isinstance(sample, Mapping):
            tree[relation] = everything(sample, child)
        elif relation in record:
            tree[relation] = {"*": {}}
    return tree


def _add(tree: Tree, path: str) -> None:
    star = path.startswith("*")
    parts = path.lstrip("*").split(".")
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    last = parts[-1]
    if last == "*":
        node["*"] = {}
    elif star:
        node.setdefault(last, {})["*"] = {}
    else:
        node.setdefault(last, {})


def _remove(tree: Tree, parts: list[str]) -> None:
    node = tree
    for part in parts[:-1]:
        node = node.get(part, {})
    node.pop(parts[-1], None)


def _copy(tree: Tree) -> Tree:
    return {key: _copy(value) for key, value in tree.items()}


def _project(value: Any, tree: Tree, kind: str) -> Any:
    if isinstance(value, list):
        return [_project(item, tree, kind) for item in value]
    if not isinstance(value, Mapping):
        return value
    relations = RELATIONS.get(kind, {})
    out: dict[str, Any] = {}
    if "*" in tree:
        out.update({k: v for k, v in value.items() if k not in relations})
    for key, sub in tree.items():
        if key == "*" or key not in value:
            continue
        if key in relations:
            out[key] = _project(value[key], sub or {"*": {}}, relations[key])
        else:
            out[key] = value[key]
    return out
