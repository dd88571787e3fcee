"""Create a store, its staff, buyers, products and orders in a live server's database.

Run in a subprocess with the live server's environment (``KEFU_DATABASE_URL`` …): reads a JSON
spec on stdin, writes the ids it created as JSON on stdout. Used by ``browser/conftest.py``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any


async def seed(spec: dict[str, Any]) -> dict[str, Any]:
    from kefu.accounts import service as accounts
    from kefu.accounts.roles import Role
    from kefu.deposit import service as deposit
    from kefu.kit import clockstore
    from kefu.kit.db import Database
    from kefu.marketplace import service as marketplace
    from kefu.settings import get_settings
    from kefu.web.app import install_clock

    settings = get_settings()
    install_clock(settings)
    password = spec["password"]
    db = Database(settings.database_url)
    out: dict[str, Any] = {"agents": {}, "buyers": {}, "products": [], "orders": []}
    try:
        if "auto_reply" in spec:
            # An automatic answer in an existing conversation (as the auto-reply domain would
            # post it). This process has its own event broker: pages see it after a reload.
            from kefu.chat import service as chat

            async with db.unit_of_work() as session:
                await clockstore.load(session)
                auto = spec["auto_reply"]
                message = await chat.post_auto_reply(session, auto["conversation_id"],
                                                     auto["text"], auto.get("kind", "faq"))
                out["message_seq"] = message.seq
            return out
        async with db.unit_of_work() as session:
            await clockstore.load(session)
            store_spec = spec["store"]
            store, owner = await marketplace.open_store(
                session, slug=store_spec["slug"], name=store_spec["name"], trade="服饰",
                description=store_spec.get("description", ""),
                owner_username=store_spec["owner"], owner_display_name=store_spec["owner_name"],
                owner_password=password)
            await deposit.post(session, store_id=store.id, kind="top_up", amount_fen=500_000,
                               idempotency_key=f"browser-topup:{store.id}", actor_role="system")
            out["store_id"] = store.id
            out["owner"] = {"id": owner.id, "username": owner.username}
            owner_principal = accounts.principal_of(owner)
            for agent in spec.get("agents", []):
                user = await accounts.create_user(
                    session, username=agent["username"], display_name=agent["name"],
                    password=password, role=Role.MERCHANT_AGENT, store_id=store.id)
                out["agents"][agent["username"]] = user.id
            buyers = {}
            for buyer in spec.get("buyers", []):
                user = await accounts.create_user(
                    session, username=buyer["username"], display_name=buyer["name"],
                    password=password, role=Role.BUYER)
                buyers[buyer["username"]] = user
                out["buyers"][buyer["username"]] = user.id
            for product in spec.get("products", []):
                created = await marketplace.create_product(
                    session, owner_principal, title=product["title"],
                    price_fen=product["price_fen"], detail=product.get("detail", ""),
                    category=product.get("category", "女装"),
                    skus=[marketplace.SkuSpec(size, colour, stock)
                          for size, colour, stock in product["skus"]])
                view = await marketplace.product_page(session, created.id)
                out["products"].append({"id": created.id, "sku_ids": [s.id for s in view.skus]})
            for order in spec.get("orders", []):
                buyer = buyers[order["buyer"]]
                principal = accounts.principal_of(buyer)
                address = await marketplace.add_address(
                    session, principal, recipient="李女士", phone="138****0001",
                    region="浙江省 杭州市 西湖区", detail="文三路 100 号")
                sku_id = out["products"][order.get("product", 0)]["sku_ids"][0]
                placed = await marketplace.place_order(
                    session, principal, sku_id=sku_id, quantity=1, address_id=address.id,
                    idempotency_key=f"browser-order:{buyer.id}:{sku_id}")
                if order.get("pay", True):
                    await marketplace.pay_order(session, principal, placed.id)
                out["orders"].append(placed.id)
    finally:
        await db.dispose()
    return out


def main() -> None:
    spec = json.loads(sys.stdin.read())
    print(json.dumps(asyncio.run(seed(spec))))


if __name__ == "__main__":
    main()
