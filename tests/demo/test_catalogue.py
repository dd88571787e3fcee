"""The demo catalogue is consistent, fits the database's limits, carries no contact details,
and its placeholder pictures are valid, deterministic PNGs."""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from kefu.demo import catalogue
from kefu.demo.images import parse_colour, render_product_image, render_store_logo

STORE_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")  # marketplace.service.SLUG
PRODUCT_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{3,32}$")  # accounts.service._USERNAME
INTENT = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
HEX = re.compile(r"^#[0-9a-f]{6}$")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MASKED_PHONE = re.compile(r"^1[3-9]\d\*{4}\d{4}$")
CONTACT_PATTERNS = [
    re.compile(r"1[3-9]\d{9}"),  # a mainland mobile number
    re.compile(r"1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}"),  # … written with spaces or dashes
    re.compile(r"微信|威信|薇信|v信|加v|扣扣|企鹅号|vx|wx|wechat|weixin", re.IGNORECASE),
    re.compile(r"qq", re.IGNORECASE),
]
MINIMUM_DEPOSIT_FEN = 100_000
# Mirrors kefu.demo.seed: buyer i's order in ORDER_PLAN[step] is with STORES[(i + step) % n].
ORDER_PLAN = ["completed", "delivered", "shipped", "paid", "created", "cancelled"]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _all_usernames() -> list[str]:
    names = [s["username"] for s in catalogue.PLATFORM_STAFF]
    names += [b["username"] for b in catalogue.BUYERS]
    for store in catalogue.STORES:
        names.append(store["owner"]["username"])
        names += [a["username"] for a in store["agents"]]
    return names


def _products() -> list[catalogue.DemoProduct]:
    return [p for store in catalogue.STORES for p in store["products"]]


# --- identity and shape ----------------------------------------------------------------------

def test_demo_password_is_documented_and_long_enough() -> None:
    assert catalogue.DEMO_PASSWORD == "kefu-demo-2026"
    assert catalogue.__doc__ is not None and catalogue.DEMO_PASSWORD in catalogue.__doc__


def test_slugs_and_usernames_are_unique_and_well_formed() -> None:
    store_slugs = [s["slug"] for s in catalogue.STORES]
    product_slugs = [p["slug"] for p in _products()]
    slugs = store_slugs + product_slugs
    assert not [s for s, n in Counter(slugs).items() if n > 1]
    assert all(STORE_SLUG.match(s) for s in store_slugs), store_slugs
    assert all(PRODUCT_SLUG.match(s) for s in product_slugs), product_slugs
    usernames = _all_usernames()
    assert not [u for u, n in Counter(usernames).items() if n > 1]
    assert all(USERNAME.match(u) and u.isascii() for u in usernames), usernames


def test_people_and_platform_staff() -> None:
    assert len(catalogue.BUYERS) == 8
    roles = Counter(s["role"] for s in catalogue.PLATFORM_STAFF)
    assert roles == {"platform_admin": 1, "platform_supervisor": 1, "platform_agent": 2}
    assert {s["username"] for s in catalogue.PLATFORM_STAFF} == {
        "admin", "supervisor_wang", "pagent_zhao", "pagent_sun"}
    people = [*catalogue.PLATFORM_STAFF, *catalogue.BUYERS]
    people += [s["owner"] for s in catalogue.STORES]
    people += [a for s in catalogue.STORES for a in s["agents"]]
    for person in people:
        assert 0 < len(person["display_name"].strip()) <= 32, person
    for buyer in catalogue.BUYERS:
        assert 1 <= len(buyer["addresses"]) <= 2, buyer["username"]
        for address in buyer["addresses"]:
            assert MASKED_PHONE.match(address["phone"]), address
            assert 0 < len(address["recipient"]) <= 32
            region = " ".join((address["province"], address["city"], address["district"]))
            assert len(region) <= 64 and all(region.split(" ")), address
            assert 0 < len(address["detail"]) <= 200


def test_stores_are_complete() -> None:
    assert len(catalogue.STORES) == 5
    assert len({s["trade"] for s in catalogue.STORES}) == 5
    for store in catalogue.STORES:
        slug = store["slug"]
        assert 0 < len(store["name"]) <= 64 and 0 < len(store["trade"]) <= 32, slug
        assert store["description"] and store["welcome_message"] and store["off_hours_notice"]
        assert HEX.match(store["logo_colour"]), slug
        assert 2 <= len(store["agents"]) <= 3, slug
        assert 6 <= len(store["faq"]) <= 10, slug
        assert 5 <= len(store["quick_replies"]) <= 8, slug
        assert 5 <= len(store["products"]) <= 8, slug
        assert _is_int(store["deposit_fen"]) and store["deposit_fen"] > 0, slug
        hours = store["working_hours"]
        assert HHMM.match(hours["opens"]) and HHMM.match(hours["closes"]), slug
        assert hours["opens"] < hours["closes"], slug
        intents = [e["intent"] for e in store["faq"]]
        assert len(set(intents)) == len(intents), slug
        for entry in store["faq"]:
            assert INTENT.match(entry["intent"]), entry["intent"]
            assert entry["question"] and entry["answer"]
            assert "亲" in entry["answer"], entry["intent"]
            assert 2 <= len(entry["examples"]) <= 4, entry["intent"]
            assert all(e.strip() for e in entry["examples"])
        assert all(r.strip() and len(r) <= 60 for r in store["quick_replies"]), slug


def test_deposits_and_hours_cover_the_demo_cases() -> None:
    deposits = [s["deposit_fen"] for s in catalogue.STORES]
    assert sum(d < MINIMUM_DEPOSIT_FEN for d in deposits) == 1
    assert sum(200_000 <= d <= 500_000 for d in deposits) == len(deposits) - 1
    assert catalogue.MINIMUM_DEPOSIT_FEN == MINIMUM_DEPOSIT_FEN
    # The login test signs in to the first store's workbench: keep it a normal store.
    assert catalogue.STORES[0]["deposit_fen"] >= MINIMUM_DEPOSIT_FEN
    hours = Counter((s["working_hours"]["opens"], s["working_hours"]["closes"])
                    for s in catalogue.STORES)
    assert hours[("09:00", "22:00")] >= 3
    assert hours[("08:30", "23:00")] == 1


def test_products_prices_and_skus() -> None:
    out_of_stock = 0
    for product in _products():
        slug = product["slug"]
        assert 0 < len(product["title"]) <= 200, slug
        assert 0 < len(product["category"]) <= 32, slug
        assert product["detail"].count("。") >= 2, slug
        assert _is_int(product["price_fen"]) and product["price_fen"] > 0, slug
        assert product["price_fen"] <= 100_000_000, slug
        assert _is_int(product["original_price_fen"]), slug
        assert product["original_price_fen"] > product["price_fen"], slug
        assert 2 <= len(product["image_colours"]) <= 3, slug
        assert all(HEX.match(c) for c in product["image_colours"]), slug
        skus = product["skus"]
        assert skus, slug
        assert len({(s["size"], s["colour"]) for s in skus}) == len(skus), slug
        for sku in skus:
            assert 0 < len(sku["size"]) <= 32 and 0 < len(sku["colour"]) <= 32, slug
            assert _is_int(sku["stock"]) and sku["stock"] >= 0, slug
        assert any(s["stock"] > 0 for s in skus), f"{slug}: nothing to buy"
        out_of_stock += sum(s["stock"] == 0 for s in skus)
    assert out_of_stock >= 5


def test_clothing_has_sizes_by_colours() -> None:
    clothing = catalogue.STORES[0]
    assert clothing["trade"] == "女装"
    for product in clothing["products"]:
        sizes = {s["size"] for s in product["skus"]}
        colours = {s["colour"] for s in product["skus"]}
        assert sizes == {"S", "M", "L", "XL"}, product["slug"]
        assert 2 <= len(colours) <= 3, product["slug"]
        assert len(product["skus"]) == len(sizes) * len(colours)


def test_sample_conversations() -> None:
    stores = {s["slug"]: s for s in catalogue.STORES}
    buyers = [b["username"] for b in catalogue.BUYERS]
    conversations = catalogue.SAMPLE_CONVERSATIONS
    assert 6 <= len(conversations) <= 10
    topics = Counter(c["topic"] for c in conversations)
    assert sum(n for t, n in topics.items() if t.startswith("presale")) >= 3
    assert topics["order_status"] >= 1 and topics["complaint_damaged"] == 1
    for conversation in conversations:
        store = stores[conversation["store_slug"]]
        assert conversation["buyer_username"] in buyers
        product = conversation["product_slug"]
        if product is not None:
            assert product in {p["slug"] for p in store["products"]}, product
        status = conversation["order_status"]
        if status is not None:
            buyer_index = buyers.index(conversation["buyer_username"])
            store_index = list(stores).index(conversation["store_slug"])
            assert (buyer_index + ORDER_PLAN.index(status)) % len(stores) == store_index, (
                "the buyer's demo order in this status is with another store", conversation)
        messages = conversation["messages"]
        assert len(messages) >= 4
        assert messages[0][0] == "buyer"
        assert {sender for sender, _ in messages} == {"buyer", "agent"}
        assert all(text.strip() and len(text) <= 500 for _, text in messages)


def test_no_contact_details_anywhere() -> None:
    texts = list(_strings(catalogue.STORES)) + list(_strings(catalogue.SAMPLE_CONVERSATIONS))
    texts += list(_strings(catalogue.BUYERS)) + list(_strings(catalogue.PLATFORM_STAFF))
    assert len(texts) > 500
    hits = [(p.pattern, t) for t in texts for p in CONTACT_PATTERNS if p.search(t)]
    assert not hits


def test_contact_patterns_would_catch_contact_details() -> None:
    for bad in ("加我微信领券", "Q Q".replace(" ", "") + "群", "加vx", "13800138000",
                "138 0013 8000", "WeChat"):
        assert any(p.search(bad) for p in CONTACT_PATTERNS), bad
    assert not any(p.search("138****0001") for p in CONTACT_PATTERNS)


# --- pictures --------------------------------------------------------------------------------

def _open_png(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    Image.open(io.BytesIO(data)).verify()
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG"
    return image


@pytest.mark.parametrize("product", _products(), ids=lambda p: p["slug"])
def test_product_images_are_valid_deterministic_pngs(product: catalogue.DemoProduct) -> None:
    data = render_product_image(product["title"], product["image_colours"])
    image = _open_png(data)
    assert image.size == (480, 480) and image.mode == "RGB"
    assert len(image.getcolors(480 * 480) or []) > 50  # a picture, not a flat fill
    assert render_product_image(product["title"], product["image_colours"]) == data


def test_product_images_differ_by_input_and_take_a_size() -> None:
    colours = ("#fde2e4", "#c85c7a")
    a = render_product_image("连衣裙", colours)
    assert render_product_image("牛仔裤", colours) != a
    assert render_product_image("连衣裙", ("#dbe7f3", "#2f4f7a")) != a
    assert _open_png(render_product_image("连衣裙", colours, size=200)).size == (200, 200)
    assert _open_png(render_product_image("unknown item", ())).size == (480, 480)
    with pytest.raises(ValueError):
        render_product_image("连衣裙", ("red",))


@pytest.mark.parametrize("store", catalogue.STORES, ids=lambda s: s["slug"])
def test_store_logos_are_valid_deterministic_pngs(store: catalogue.DemoStore) -> None:
    data = render_store_logo(store["logo_colour"])
    image = _open_png(data)
    assert image.size == (128, 128) and image.mode == "RGBA"
    centre = image.getpixel((64, 64))
    assert isinstance(centre, tuple) and centre[3] == 255
    assert render_store_logo(store["logo_colour"]) == data
    assert _open_png(render_store_logo(store["logo_colour"], size=64)).size == (64, 64)


def test_logos_differ_by_colour_and_reject_bad_colours() -> None:
    assert render_store_logo("#e8577e") != render_store_logo("#3a9d4a")
    assert parse_colour("#abc") == (0xAA, 0xBB, 0xCC)
    with pytest.raises(ValueError):
        render_store_logo("not-a-colour")
