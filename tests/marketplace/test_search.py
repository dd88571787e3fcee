"""Search: relevance times store weight; weight providers from other domains."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from factories import make_product, make_store
from kefu.marketplace import ranking
from kefu.marketplace import service as marketplace


async def test_relevance_ranks_title_matches_first(session: AsyncSession) -> None:
    _s, owner = await make_store(session)
    await make_product(session, owner, title="夏季碎花连衣裙 法式", detail="雪纺面料")
    await make_product(session, owner, title="纯棉T恤", detail="可搭配连衣裙外穿")
    await make_product(session, owner, title="不锈钢保温杯", detail="316不锈钢")
    hits = await marketplace.search(session, "连衣裙")
    assert [h.view.product.title for h in hits] == ["夏季碎花连衣裙 法式", "纯棉T恤"]
    assert hits[0].relevance > hits[1].relevance


async def test_a_weight_provider_lowers_a_store(session: AsyncSession) -> None:
    demoted, demoted_owner = await make_store(session, name="被降权的店")
    _fine, fine_owner = await make_store(session, name="正常的店")
    await make_product(session, demoted_owner, title="连衣裙 A款")
    await make_product(session, fine_owner, title="连衣裙 B款")

    async def provider(session: AsyncSession, store_ids: Sequence[int], now: datetime
                       ) -> dict[int, ranking.WeightFactor]:
        return {demoted.id: ranking.WeightFactor(0.2, "导流违规降权")}

    ranking.register_weight_provider("test-demotion", provider)
    try:
        hits = await marketplace.search(session, "连衣裙")
        assert [h.view.store.name for h in hits] == ["正常的店", "被降权的店"]
        weight = await marketplace.store_weight(session, demoted.id)
        assert weight.weight == 0.2 and weight.factors[0].reason == "导流违规降权"
    finally:
        ranking._providers.pop("test-demotion")


def test_query_terms_split_chinese_into_bigrams() -> None:
    assert ranking.query_terms("碎花连衣裙") == ["碎花连衣裙", "碎花", "花连", "连衣", "衣裙"]
    assert ranking.query_terms("  ") == []


async def test_owner_uploads_a_logo_checked_by_content(client, session: AsyncSession) -> None:  # type: ignore[no-untyped-def]
    import io

    from PIL import Image

    from conftest import commit
    from factories import bearer

    store, owner = await make_store(session)
    store_id = store.id
    headers = await bearer(session, owner)
    await commit(session)
    buffer = io.BytesIO()
    Image.new("RGB", (200, 200), (200, 30, 30)).save(buffer, format="PNG")
    ok = await client.post("/store/logo", headers=headers, follow_redirects=False,
                           files={"logo": ("logo.png", buffer.getvalue(), "image/png")})
    assert ok.status_code == 303
    page = await client.get(f"/stores/{store_id}")
    assert 'data-testid="store-logo"' in page.text
    fake = await client.post("/store/logo", headers=headers, follow_redirects=True,
                             files={"logo": ("logo.png", b"<script>x</script>", "image/png")})
    assert "文件不是有效的图片" in fake.text
