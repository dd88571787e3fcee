from __future__ import annotations

import httpx

from factories import make_buyer, make_product, make_store


async def test_home_lists_products_and_health(client: httpx.AsyncClient, session) -> None:  # type: ignore[no-untyped-def]
    _store, owner = await make_store(session)
    await make_product(session, owner, title="法式碎花连衣裙")
    response = await client.get("/")
    assert response.status_code == 200
    assert "法式碎花连衣裙" in response.text
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    metrics = await client.get("/metrics")
    assert "kefu_http_requests_total" in metrics.text


async def test_login_page_and_login(client: httpx.AsyncClient, session) -> None:  # type: ignore[no-untyped-def]
    buyer = await make_buyer(session)
    page = await client.get("/login")
    assert page.status_code == 200
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = await client.post("/login", data={"username": buyer.username,
                                                 "password": "correct-horse-9",
                                                 "csrf_token": csrf})
    assert response.status_code == 303, response.text
    home = await client.get("/")
    assert buyer.display_name in home.text
