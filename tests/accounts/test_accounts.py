"""Accounts: sign-up, login with rate limiting, tokens, CSRF, staff, invitations."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import commit
from factories import PASSWORD, bearer, make_buyer, make_store, make_user, principal
from kefu.accounts import service as accounts
from kefu.accounts.roles import Role
from kefu.kit import clock as clock_module
from kefu.kit.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound


def csrf_from(html: str) -> str:
    return html.split('name="csrf-token" content="')[1].split('"')[0]


async def test_passwords_are_stored_as_argon2(session: AsyncSession) -> None:
    user = await make_buyer(session)
    assert user.password_hash.startswith("$argon2")
    assert PASSWORD not in user.password_hash


async def test_sign_up_validates_and_refuses_taken_names(session: AsyncSession) -> None:
    await accounts.sign_up_buyer(session, username="xiaoli", display_name="小李",
                                 password="long-enough-1")
    with pytest.raises(Conflict):
        await accounts.sign_up_buyer(session, username="XiaoLi", display_name="另一个",
                                     password="long-enough-1")
    with pytest.raises(InvalidInput):
        await accounts.sign_up_buyer(session, username="a b", display_name="x",
                                     password="long-enough-1")
    with pytest.raises(InvalidInput):
        await accounts.sign_up_buyer(session, username="shortpw", display_name="x",
                                     password="short")


async def test_login_rate_limit_per_name_and_address(session: AsyncSession,
                                                     clock: clock_module.TestClock) -> None:
    user = await make_buyer(session)
    for _ in range(5):
        with pytest.raises(NotAuthenticated):
            await accounts.authenticate(session, username=user.username, password="wrong",
                                        address="10.0.0.1")
    with pytest.raises(Exception) as limited:
        await accounts.authenticate(session, username=user.username, password=PASSWORD,
                                    address="10.0.0.1")
    assert getattr(limited.value, "status_code", None) == 429
    # Another address is not punished for the first one's guesses.
    assert await accounts.authenticate(session, username=user.username, password=PASSWORD,
                                       address="10.0.0.2")
    clock.advance(timedelta(minutes=16))
    assert await accounts.authenticate(session, username=user.username, password=PASSWORD,
                                       address="10.0.0.1")


async def test_failed_logins_are_kept_although_the_request_fails(
        client: httpx.AsyncClient, session: AsyncSession) -> None:
    user = await make_buyer(session)
    username = user.username
    await commit(session)
    for _ in range(5):
        r = await client.post("/api/auth/token", json={"username": username, "password": "no"})
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "bad_credentials"
    r = await client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 429


async def test_bearer_token_flow_and_logout(client: httpx.AsyncClient,
                                            session: AsyncSession) -> None:
    user = await make_buyer(session)
    username = user.username
    await commit(session)
    r = await client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
    token = r.json()["access_token"]
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == username and me.json()["role"] == "buyer"
    out = await client.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert out.status_code == 204
    again = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 401


async def test_expired_session_is_refused(session: AsyncSession,
                                          clock: clock_module.TestClock) -> None:
    user = await make_buyer(session)
    issued = await accounts.open_session(session, user, "bearer")
    assert await accounts.principal_for_token(session, issued.token, "bearer")
    clock.advance(timedelta(days=15))
    assert await accounts.principal_for_token(session, issued.token, "bearer") is None


async def test_cookie_writes_need_the_csrf_token(client: httpx.AsyncClient,
                                                 session: AsyncSession) -> None:
    user = await make_buyer(session)
    username = user.username
    await commit(session)
    page = await client.get("/login")
    csrf = csrf_from(page.text)
    no_token = await client.post("/login", data={"username": username, "password": PASSWORD})
    assert no_token.status_code == 403
    ok = await client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": csrf})
    assert ok.status_code == 303
    # Signed in by cookie: a JSON write without the header is refused, with it accepted.
    body = {"recipient": "李", "phone": "138****0000", "region": "浙江", "detail": "文三路"}
    refused = await client.post("/api/addresses", json=body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    accepted = await client.post("/api/addresses", json=body, headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 201


async def test_bad_login_shows_the_form_again_in_the_users_language(
        client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    r = await client.post("/login", data={"username": "nobody", "password": "x",
                                          "csrf_token": csrf_from(page.text)})
    assert r.status_code == 401 and "用户名或密码错误" in r.text
    client.cookies.set("kefu_lang", "en")
    r = await client.post("/login", data={"username": "nobody", "password": "x",
                                          "csrf_token": csrf_from(page.text)})
    assert "Wrong username or password" in r.text


async def test_only_admin_creates_staff(session: AsyncSession) -> None:
    admin = await make_user(session, Role.PLATFORM_ADMIN)
    agent = await make_user(session, Role.PLATFORM_AGENT)
    staff = await accounts.create_staff(session, principal(admin), username="pagent_new",
                                        display_name="新客服", password=PASSWORD,
                                        role="platform_supervisor")
    assert staff.role == "platform_supervisor"
    with pytest.raises(Forbidden):
        await accounts.create_staff(session, principal(agent), username="nope",
                                    display_name="x", password=PASSWORD, role="platform_agent")
    with pytest.raises(InvalidInput):
        await accounts.create_staff(session, principal(admin), username="nope2",
                                    display_name="x", password=PASSWORD, role="buyer")


async def test_owner_invites_an_agent_once(session: AsyncSession,
                                           clock: clock_module.TestClock) -> None:
    store, owner = await make_store(session)
    _invitation, token = await accounts.invite_agent(session, principal(owner), "晚班")
    agent = await accounts.accept_invitation(session, token=token, username="agent_wang",
                                             display_name="小王", password=PASSWORD)
    assert agent.role == "merchant_agent" and agent.store_id == store.id
    with pytest.raises(Conflict):
        await accounts.accept_invitation(session, token=token, username="agent_two",
                                         display_name="x", password=PASSWORD)
    _inv, late = await accounts.invite_agent(session, principal(owner))
    clock.advance(timedelta(days=8))
    with pytest.raises(Conflict):
        await accounts.accept_invitation(session, token=late, username="agent_late",
                                         display_name="x", password=PASSWORD)
    with pytest.raises(NotFound):
        await accounts.invitation_for_token(session, "not-a-real-token-at-all")
    with pytest.raises(Forbidden):
        await accounts.invite_agent(session, principal(agent))


async def test_disabled_agent_cannot_sign_in(session: AsyncSession) -> None:
    store, owner = await make_store(session)
    agent = await make_user(session, Role.MERCHANT_AGENT, store_id=store.id)
    issued = await accounts.open_session(session, agent, "cookie")
    await accounts.set_agent_active(session, principal(owner), agent.id, False)
    assert await accounts.principal_for_token(session, issued.token, "cookie") is None
    with pytest.raises(NotAuthenticated):
        await accounts.authenticate(session, username=agent.username, password=PASSWORD,
                                    address="a")


async def test_invitation_page_flow(client: httpx.AsyncClient, session: AsyncSession) -> None:
    _store, owner = await make_store(session)
    headers = await bearer(session, owner)
    await commit(session)
    created = await client.post("/api/store/invitations", json={"note": "白班"},
                                headers=headers)
    assert created.status_code == 201
    url = created.json()["url"]
    page = await client.get(url)
    assert page.status_code == 200
    joined = await client.post(url, data={"username": "agent_page", "display_name": "页面客服",
                                          "password": PASSWORD,
                                          "csrf_token": csrf_from(page.text)})
    assert joined.status_code == 303 and joined.headers["location"] == "/workbench"
    me = await client.get("/api/me")
    assert me.json()["role"] == "merchant_agent"
