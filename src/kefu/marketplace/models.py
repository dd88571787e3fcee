"""Marketplace tables: stores, products with images and stock per size/colour, orders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kefu.kit.db import Base, BigIntId


class Store(Base):
    __tablename__ = "store"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    trade: Mapped[str] = mapped_column(String(32), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    logo_path: Mapped[str | None] = mapped_column(String(255))
    logo_colour: Mapped[str] = mapped_column(String(7), default="#e02e24")
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | suspended
    created_at: Mapped[datetime]


class Product(Base):
    __tablename__ = "product"
    __table_args__ = (
        CheckConstraint("price_fen > 0", name="price_positive"),
        Index("ix_product_store_status", "store_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    store_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("store.id"))
    title: Mapped[str] = mapped_column(String(200))
    price_fen: Mapped[int] = mapped_column(BigInteger)
    original_price_fen: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(16), default="listed")  # listed | delisted
    sales_count: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime]


class ProductImage(Base):
    __tablename__ = "product_image"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    product_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("product.id",
                                                                   ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(default=0)


class Sku(Base):
    """Stock of one size/colour (or spec/variant) of a product."""

    __tablename__ = "sku"
    __table_args__ = (
        UniqueConstraint("product_id", "size", "colour"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    product_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("product.id",
                                                                   ondelete="CASCADE"), index=True)
    size: Mapped[str] = mapped_column(String(32), default="")
    colour: Mapped[str] = mapped_column(String(32), default="")
    stock: Mapped[int] = mapped_column(BigInteger, default=0)


class Address(Base):
    __tablename__ = "address"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user_account.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(String(200))
    is_default: Mapped[bool] = mapped_column(default=False)


class Order(Base):
    __tablename__ = "shop_order"
    __table_args__ = (
        UniqueConstraint("buyer_id", "idempotency_key"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        Index("ix_shop_order_store_status", "store_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    order_no: Mapped[str] = mapped_column(String(32), unique=True)
    buyer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user_account.id"), index=True)
    store_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("store.id"))
    # created → paid → shipped → delivered → completed; created → cancelled
    status: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    recipient: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str] = mapped_column(String(32))
    address_text: Mapped[str] = mapped_column(String(300))
    carrier: Mapped[str | None] = mapped_column(String(32))
    tracking_no: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class OrderItem(Base):
    __tablename__ = "order_item"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("shop_order.id",
                                                                 ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("product.id"))
    sku_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sku.id"))
    title: Mapped[str] = mapped_column(String(200))
    size: Mapped[str] = mapped_column(String(32), default="")
    colour: Mapped[str] = mapped_column(String(32), default="")
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(default=1)
