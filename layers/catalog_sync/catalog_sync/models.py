"""Canonical catalog models (what we sync). The queue message is in sync_request.py.

Source-side ids stay in the source id space; the engine maps them to destination ids through the
state table. `content_hash` covers exactly the fields we write, so an unchanged hash is a no-op.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Availability = Literal["available", "disabled", "preorder"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


def canonical_hash(payload: object) -> str:
    """Stable sha256 over canonical JSON: key order and whitespace never change the hash."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class OptionValue(_Model):
    option_display_name: str
    label: str


class Variant(_Model):
    source_id: int | None = Field(default=None, exclude=True)
    sku: str
    price: float | None = None
    sale_price: float | None = None
    weight: float | None = None
    inventory_level: int | None = None
    purchasing_disabled: bool = False
    option_values: tuple[OptionValue, ...] = ()


class Image(_Model):
    source_id: int | None = Field(default=None, exclude=True)
    image_url: str
    is_thumbnail: bool = False
    sort_order: int = 0
    description: str = ""


class Category(_Model):
    source_id: int = Field(exclude=True)
    name: Annotated[str, Field(min_length=1)]
    parent_id: int = 0  # source id of the parent; 0 = top level
    description: str = ""
    sort_order: int = 0
    is_visible: bool = True
    page_title: str = ""


class Brand(_Model):
    source_id: int = Field(exclude=True)
    name: Annotated[str, Field(min_length=1)]
    page_title: str = ""
    meta_description: str = ""
    image_url: str = ""


class Product(_Model):
    """A product as read from the source, with variants and images; ids are source ids."""

    source_id: int = Field(exclude=True)
    date_modified: datetime = Field(exclude=True)
    sku: str
    name: Annotated[str, Field(min_length=1)]
    type: Literal["physical", "digital"] = "physical"
    description: str = ""
    price: float = 0.0
    sale_price: float = 0.0
    retail_price: float = 0.0
    cost_price: float = 0.0
    weight: float = 0.0
    is_visible: bool = True
    availability: Availability = "available"
    inventory_level: int = 0
    inventory_tracking: Literal["none", "product", "variant"] = "none"
    categories: tuple[int, ...] = ()
    brand_id: int = 0
    images: tuple[Image, ...] = ()
    variants: tuple[Variant, ...] = ()

    def fields_payload(self) -> dict[str, object]:
        """Product-level fields (no variants/images/links): what a plain product update writes."""
        return self.model_dump(exclude={"images", "variants", "categories", "brand_id"})

    def content_hash(self) -> str:
        return canonical_hash(self.model_dump(mode="json"))


class Grouping(_Model):
    """A source's category (or any one-level grouping), carried on a flat product."""

    source_id: int
    name: Annotated[str, Field(min_length=1)]
    slug: str = ""


class FlatProduct(_Model):
    """A product of a system without variants or a category tree (Pixlpay, seed 000): one price, a list
    of image URLs and at most one category. `external_id` names it at the destination (seed 000's
    convention `pixlpay_<id>`); `version` is the source's modification time, for the version guard."""

    source_id: int = Field(exclude=True)
    version: datetime = Field(exclude=True)
    external_id: str
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    price: float = 0.0
    compare_at_price: float | None = None
    active: bool = True
    type: str = "digital"
    sku: str | None = None
    stock: int | None = None
    image_urls: tuple[str, ...] = ()
    category: Grouping | None = None
