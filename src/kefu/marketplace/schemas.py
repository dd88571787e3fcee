"""Marketplace request and response shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class SkuIn(BaseModel):
    size: str = Field(default="", max_length=32)
    colour: str = Field(default="", max_length=32)
    stock: int = Field(ge=0, le=1_000_000)


class ProductIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    price_fen: int = Field(gt=0, le=100_000_000)
    original_price_fen: int | None = Field(default=None, gt=0)
    detail: str = Field(default="", max_length=5000)
    category: str = Field(default="", max_length=32)
    skus: list[SkuIn] = Field(min_length=1, max_length=200)


class SkuOut(BaseModel):
    id: int
    size: str
    colour: str
    stock: int


class ProductOut(BaseModel):
    id: int
    store_id: int
    store_name: str
    title: str
    price_fen: int
    original_price_fen: int | None
    detail: str
    category: str
    status: str
    images: list[str]
    skus: list[SkuOut] = []


class SearchHitOut(BaseModel):
    product: ProductOut
    relevance: float
    store_weight: float
    score: float


class StockIn(BaseModel):
    stock: int = Field(ge=0, le=1_000_000)


class AddressIn(BaseModel):
    recipient: str = Field(min_length=1, max_length=32)
    phone: str = Field(min_length=3, max_length=32)
    region: str = Field(min_length=1, max_length=64)
    detail: str = Field(min_length=1, max_length=200)
    is_default: bool = False


class AddressOut(AddressIn):
    id: int


class OrderIn(BaseModel):
    sku_id: int
    quantity: int = Field(ge=1, le=99)
    address_id: int
    idempotency_key: str = Field(min_length=1, max_length=64)


class ShipIn(BaseModel):
    carrier: str = Field(min_length=1, max_length=32)
    tracking_no: str = Field(min_length=6, max_length=32)


class OrderItemOut(BaseModel):
    product_id: int
    sku_id: int
    title: str
    size: str
    colour: str
    unit_price_fen: int
    quantity: int


class OrderOut(BaseModel):
    id: int
    order_no: str
    status: str
    status_label: str
    store_id: int
    store_name: str
    buyer_id: int
    amount_fen: int
    carrier: str | None
    tracking_no: str | None
    created_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    completed_at: datetime | None
    items: list[OrderItemOut]
    actions: list[str]
