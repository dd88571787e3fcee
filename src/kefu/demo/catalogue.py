"""Demo catalogue: the stores, products, people and sample chats of ``kefu demo``.

Pure data, no database code — :mod:`kefu.demo.seed` turns it into rows. Everything is
invented for the demo: store names, people, addresses (phone numbers are masked, e.g.
``138****0001``, so no real number ever appears) and chats. No text here carries contact
details (phone, WeChat, QQ …): the platform forbids diverting buyers off-site, and the demo
must not teach otherwise.

Every demo account — platform staff, store owners, store agents and buyers — logs in with
the same password, :data:`DEMO_PASSWORD` (``kefu-demo-2026``). It is public by design: never
seed the demo into a production database.

Money is in fen (1 元 = 100 fen). A store's deposit must be at least 100000 fen (1000 元) to
list products; one demo store (暖灶家居) is deliberately below it so the shortfall shows.
"""

from __future__ import annotations

from typing import Final, Literal, TypedDict

DEMO_PASSWORD: Final = "kefu-demo-2026"
"""Shared password of every demo account (staff, owners, agents, buyers)."""

Sender = Literal["buyer", "agent"]
StaffRole = Literal["platform_admin", "platform_supervisor", "platform_agent"]
OrderStatus = Literal["created", "paid", "shipped", "delivered", "completed", "cancelled"]
ChatLine = tuple[Sender, str]


class Person(TypedDict):
    """A store owner or store agent account."""

    username: str  # ascii login name
    display_name: str  # Chinese nickname shown in the chat


class StaffMember(TypedDict):
    """A platform account (admin, supervisor, platform agent)."""

    username: str
    display_name: str
    role: StaffRole


class WorkingHours(TypedDict):
    """Daily customer-service hours, local (Asia/Shanghai) time, "HH:MM"."""

    opens: str
    closes: str


class FaqEntry(TypedDict):
    """One auto-reply FAQ rule: ``examples`` are other ways buyers ask the question."""

    intent: str  # ascii key, unique within the store
    question: str
    answer: str
    examples: tuple[str, ...]


class DemoSku(TypedDict):
    """One purchasable variant: ``size`` is the size or spec, ``colour`` the colour/variant."""

    size: str
    colour: str
    stock: int


class DemoProduct(TypedDict):
    slug: str  # ascii, unique across the whole catalogue
    title: str
    price_fen: int
    original_price_fen: int
    detail: str
    category: str
    image_colours: tuple[str, ...]  # "#rrggbb", for the generated placeholder pictures
    skus: tuple[DemoSku, ...]


class DemoStore(TypedDict):
    slug: str
    name: str
    trade: str
    description: str
    logo_colour: str  # "#rrggbb"
    owner: Person
    agents: tuple[Person, ...]
    deposit_fen: int
    working_hours: WorkingHours
    welcome_message: str
    off_hours_notice: str
    faq: tuple[FaqEntry, ...]
    quick_replies: tuple[str, ...]
    products: tuple[DemoProduct, ...]


class DemoAddress(TypedDict):
    recipient: str
    phone: str  # masked, "138****0001"
    province: str
    city: str
    district: str
    detail: str


class DemoBuyer(TypedDict):
    username: str
    display_name: str
    addresses: tuple[DemoAddress, ...]


class SampleConversation(TypedDict):
    """A scripted chat between a buyer and a store.

    ``product_slug`` names the product the buyer asks from (``None``: asked from the store
    page). ``order_status`` names the buyer's demo order the chat is about: the seed gives each
    buyer one order per status, rotating over the stores, and the chats below are chosen so
    that the buyer's order in that status is with this store.
    """

    topic: str  # ascii: presale_size, presale_shipping, order_status, complaint, …
    store_slug: str
    buyer_username: str
    product_slug: str | None
    order_status: OrderStatus | None
    messages: tuple[ChatLine, ...]


def _skus(sizes: tuple[str, ...], colours: tuple[str, ...],
          stocks: tuple[int, ...]) -> tuple[DemoSku, ...]:
    """Every size × colour, in that order, with ``stocks`` given row by row (size-major)."""
    if len(stocks) != len(sizes) * len(colours):
        raise ValueError(f"{len(sizes)}×{len(colours)} SKUs need as many stock figures, "
                         f"got {len(stocks)}")
    pairs = [(size, colour) for size in sizes for colour in colours]
    return tuple(DemoSku(size=size, colour=colour, stock=stock)
                 for (size, colour), stock in zip(pairs, stocks, strict=True))


def _faq(intent: str, question: str, answer: str, *examples: str) -> FaqEntry:
    return FaqEntry(intent=intent, question=question, answer=answer, examples=examples)


CLOTHES: Final = ("S", "M", "L", "XL")

# --- 栀子衣橱: women's clothing -------------------------------------------------------------

_ZHIZI: DemoStore = {
    "slug": "zhizi-closet",
    "name": "栀子衣橱",
    "trade": "女装",
    "description": "小个子也能穿出高级感～通勤、约会、度假的法式日常女装，"
                   "每周上新，现货48小时内发出。",
    "logo_colour": "#e8577e",
    "owner": {"username": "owner_zhizi", "display_name": "栀子掌柜·林姐"},
    "agents": (
        {"username": "agent_zhizi_tao", "display_name": "小桃"},
        {"username": "agent_zhizi_lan", "display_name": "阿兰"},
        {"username": "agent_zhizi_mo", "display_name": "墨墨"},
    ),
    "deposit_fen": 300_000,
    "working_hours": {"opens": "09:00", "closes": "22:00"},
    "welcome_message": "亲，欢迎光临栀子衣橱～告诉小栀您的身高体重，帮您挑尺码哦！"
                       "新客首单可领3元无门槛券~",
    "off_hours_notice": "亲，客服小姐姐下班啦（服务时间 09:00–22:00），留言会在上班后第一时间"
                        "回复您哦~ 尺码问题可以先看详情页的尺码表~",
    "faq": (
        _faq("size_advice", "我该选什么尺码？",
             "亲，每件宝贝详情页都有尺码表哦~ 一般身高155–160、体重90–105斤选S，"
             "160–165、105–120斤选M，165–170、120–135斤选L，再往上选XL。"
             "喜欢宽松一点的可以拍大一码~",
             "我穿什么码", "160 100斤选哪个尺码", "尺码偏大还是偏小", "腰围70穿什么码"),
        _faq("shipping_time", "什么时候发货？",
             "亲，现货下单后48小时内发出，预售款以详情页标注的时间为准哦~ "
             "默认中通快递，一般2–4天就能收到啦~",
             "几天发货", "今天拍明天能发吗", "多久能到"),
        _faq("remote_area", "新疆西藏能发货吗？",
             "亲，新疆、西藏、青海等偏远地区也能发的，需要补一点运费差价，"
             "拍之前先问问客服就好哦~",
             "偏远地区包邮吗", "发新疆要加运费吗"),
        _faq("return_policy", "支持七天无理由退换吗？",
             "亲，支持七天无理由退换~ 吊牌不要剪、不影响二次销售就可以哦。"
             "下单带运费险的话，退货运费会自动理赔给您~",
             "不合适能退吗", "可以换尺码吗", "退货运费谁出"),
        _faq("fabric_care", "衣服会起球掉色吗？",
             "亲，纯棉和棉麻款建议冷水手洗，或者装洗衣袋轻柔机洗，深浅色分开洗哦~ "
             "第一次洗有少量浮色属于正常现象，不会越洗越花的~",
             "会掉色吗", "起不起球", "能机洗吗"),
        _faq("coupon", "有优惠券吗？",
             "亲，店铺首页可以领满99减10的券，关注店铺还能再领一张3元无门槛券哦~ "
             "两件一起拍更划算~",
             "能便宜点吗", "有没有券", "多买有优惠吗"),
        _faq("change_address", "下单后能改地址吗？",
             "亲，还没发货的话可以在订单详情里直接修改收货地址哦~ "
             "已经发货就只能等快递派送时和快递员协商改派啦~",
             "地址填错了", "怎么改收货地址"),
        _faq("colour_difference", "图片有色差吗？",
             "亲，图片都是实物拍摄的，不同手机屏幕显示会有一点点色差，以收到的实物为准哦~",
             "实物和图片一样吗", "颜色准不准"),
    ),
    "quick_replies": (
        "亲，在的~ 请问有什么可以帮您？",
        "亲，方便告诉小栀您的身高、体重和平时穿的尺码吗？",
        "亲，这款版型偏宽松，按平时尺码拍就可以哦~",
        "亲，已经帮您备注好啦，会尽快安排发出~",
        "亲，快递已经在路上啦，订单详情里可以看到实时物流哦~",
        "亲，给您带来不便非常抱歉，我们马上为您处理~",
        "感谢亲的支持，收到满意的话记得给个好评哦~",
    ),
    "products": (
        {
            "slug": "zhizi-floral-dress",
            "title": "栀子衣橱 法式碎花连衣裙女2026夏季新款收腰显瘦V领泡泡袖中长款茶歇裙",
            "price_fen": 8_990,
            "original_price_fen": 15_900,
            "detail": "雪纺面料，内衬棉质里布，轻薄不透。S码腰围64cm、M码68cm、L码72cm、"
                      "XL码76cm，裙长约112cm。现货48小时内发出，默认中通快递。",
            "category": "连衣裙",
            "image_colours": ("#fde2e4", "#f6a6b2", "#c85c7a"),
            "skus": _skus(CLOTHES, ("杏色碎花", "蓝色碎花", "黑色碎花"),
                          (12, 8, 3, 25, 0, 10, 18, 6, 4, 0, 2, 5)),
        },
        {
            "slug": "zhizi-cotton-tee",
            "title": "纯棉短袖T恤女宽松百搭白色上衣2026新款韩版ins潮夏季打底衫",
            "price_fen": 2_990,
            "original_price_fen": 5_900,
            "detail": "精梳棉面料，220g加厚不透，肩宽落肩设计。S码胸围100cm，每大一码加4cm，"
                      "衣长62–68cm。全国包邮（偏远地区除外）。",
            "category": "T恤",
            "image_colours": ("#f7f4ef", "#d9cbb8", "#8c7b68"),
            "skus": _skus(CLOTHES, ("白色", "黑色", "燕麦色"),
                          (40, 30, 15, 60, 45, 20, 35, 28, 12, 10, 0, 6)),
        },
        {
            "slug": "zhizi-wide-jeans",
            "title": "高腰阔腿牛仔裤女春秋季直筒宽松显瘦垂感拖地长裤小个子九分裤",
            "price_fen": 6_990,
            "original_price_fen": 12_900,
            "detail": "棉含量85%的微弹牛仔布，不易变形。S码腰围64cm、M码68cm、L码72cm、"
                      "XL码76cm，裤长约98cm（九分）。下单后48小时内发货。",
            "category": "裤装",
            "image_colours": ("#dbe7f3", "#7fa6cf", "#2f4f7a"),
            "skus": _skus(CLOTHES, ("浅蓝", "深蓝"),
                          (9, 14, 22, 18, 15, 0, 4, 7)),
        },
        {
            "slug": "zhizi-knit-cardigan",
            "title": "冰丝针织开衫女薄款夏季防晒外搭短款长袖空调衫披肩小外套",
            "price_fen": 4_590,
            "original_price_fen": 8_900,
            "detail": "冰丝混纺纱线，凉感透气，防晒又不闷。均码偏宽松，S码胸围96cm，"
                      "衣长50cm，每大一码胸围加4cm。建议手洗平铺晾干。",
            "category": "针织衫",
            "image_colours": ("#fff6e9", "#f3c9d4", "#9bb6d6"),
            "skus": _skus(CLOTHES, ("米白", "浅粉", "雾霾蓝"),
                          (20, 16, 11, 24, 19, 0, 13, 9, 7, 0, 3, 2)),
        },
        {
            "slug": "zhizi-pleated-skirt",
            "title": "百褶半身裙女夏季高腰A字中长款垂感显瘦学院风裙子松紧腰",
            "price_fen": 5_990,
            "original_price_fen": 9_900,
            "detail": "垂感聚酯面料，压褶定型不易塌。后腰松紧设计，S码腰围60–66cm，"
                      "每大一码加4cm，裙长75cm。现货当天发出。",
            "category": "半身裙",
            "image_colours": ("#efe6d8", "#b9a27f", "#2b2b2b"),
            "skus": _skus(CLOTHES, ("黑色", "卡其色"),
                          (16, 8, 21, 12, 10, 6, 0, 3)),
        },
        {
            "slug": "zhizi-linen-shirt",
            "title": "棉麻衬衫女长袖宽松文艺复古防晒衬衣外套夏季薄款上衣",
            "price_fen": 6_590,
            "original_price_fen": 11_900,
            "detail": "棉麻混纺，越洗越软。落肩宽松版型，S码胸围108cm，每大一码加4cm，"
                      "衣长70cm。棉麻有自然褶皱，低温熨烫即可。",
            "category": "衬衫",
            "image_colours": ("#f4f1e8", "#c8d8c0", "#9cc0d8"),
            "skus": _skus(CLOTHES, ("白色", "浅绿", "浅蓝"),
                          (14, 10, 8, 22, 12, 9, 11, 0, 5, 4, 2, 0)),
        },
    ),
}

# --- 山野果铺: fresh fruit ------------------------------------------------------------------

_SHANYE: DemoStore = {
    "slug": "shanye-fruit",
    "name": "山野果铺",
    "trade": "生鲜水果",
    "description": "产地直发的当季水果，果园现摘现发，坏果包赔。"
                   "从猕猴桃到大樱桃，一年四季都有好吃的~",
    "logo_colour": "#3a9d4a",
    "owner": {"username": "owner_shanye", "display_name": "果园老周"},
    "agents": (
        {"username": "agent_shanye_mei", "display_name": "阿梅"},
        {"username": "agent_shanye_qiu", "display_name": "秋秋"},
    ),
    "deposit_fen": 200_000,
    "working_hours": {"opens": "08:30", "closes": "23:00"},
    "welcome_message": "亲，欢迎来到山野果铺～果园现摘现发，坏果包赔！"
                       "想问发货、保存方法都可以直接问我哦~",
    "off_hours_notice": "亲，果园客服已休息（服务时间 08:30–23:00），"
                        "您的留言明早会第一时间回复哦~ 坏果售后请签收48小时内留言并附照片~",
    "faq": (
        _faq("fresh_picked", "是现摘现发的吗？",
             "亲，都是果园当天现摘现发的哦~ 下单后24小时内发货，"
             "夏天的樱桃、水蜜桃走冷链或者加冰袋，路上也新鲜~",
             "新鲜吗", "是不是冷库货", "多久发货"),
        _faq("bad_fruit", "收到坏果怎么办？",
             "亲，签收后48小时内，把坏果和快递面单拍在一张照片里发给客服，"
             "坏几个赔几个，不用退回哦~",
             "有坏的怎么赔", "烂了几个", "坏果包赔吗"),
        _faq("shipping_area", "哪些地方不发货？",
             "亲，新疆、西藏、青海和港澳台地区暂时不发货哦，其他地区都包邮~ "
             "生鲜怕耽误，乡镇地址请填写能及时签收的地方~",
             "能发新疆吗", "包邮吗", "我这里能送到吗"),
        _faq("storage", "水果怎么保存？",
             "亲，猕猴桃和芒果收到后放常温通风处，变软了就能吃啦，熟了再放冰箱冷藏~ "
             "樱桃和水蜜桃请尽快冷藏，3天内吃完最新鲜哦~",
             "要放冰箱吗", "怎么放不容易坏", "能放几天"),
        _faq("ripeness", "收到的水果是硬的正常吗？",
             "亲，为了运输不压坏，都是八九成熟采摘的，收到偏硬是正常的哦~ "
             "常温放2–3天就软甜啦，和苹果装一个袋子里熟得更快~",
             "怎么还是硬的", "什么时候能吃", "不甜怎么办"),
        _faq("net_weight", "重量够不够？",
             "亲，标注的都是净重（不含箱子和泡沫网套），称重时都会多给一点点，放心拍~",
             "是毛重还是净重", "斤两足吗"),
        _faq("gift_box", "可以送人吗？",
             "亲，大果规格都是礼盒包装的，可以直接送人~ 下单时备注「送礼」，"
             "包裹里就不放价格单哦~",
             "有礼盒吗", "送长辈合适吗"),
        _faq("delivery_time", "几天能到？",
             "亲，江浙沪一般次日达，其他地区2–3天，偏远一点的地方3–5天哦~",
             "多久到", "发什么快递", "明天能到吗"),
    ),
    "quick_replies": (
        "亲，在的~ 想吃点什么水果呀？",
        "亲，今天下单今天摘，明天就发出哦~",
        "亲，麻烦把坏果和快递面单拍张照片发过来，马上给您登记赔付~",
        "亲，已经给您备注送礼，不放价格单~",
        "亲，水果收到偏硬是正常的，常温放两天就软甜啦~",
        "亲，这个规格暂时卖完了，可以看看大一号的规格哦~",
    ),
    "products": (
        {
            "slug": "shanye-kiwi",
            "title": "陕西周至徐香猕猴桃新鲜当季水果现摘绿心奇异果整箱包邮软糯香甜",
            "price_fen": 1_990,
            "original_price_fen": 3_990,
            "detail": "秦岭北麓果园直发，绿心徐香品种，酸甜多汁。中果单果约70–90g，"
                      "大果约90–120g。收到偏硬属正常，常温放软后食用。",
            "category": "猕猴桃",
            "image_colours": ("#f3f7e4", "#a8c66c", "#6b4f2a"),
            "skus": _skus(("12个装", "24个装"), ("中果", "大果"),
                          (120, 80, 60, 35)),
        },
        {
            "slug": "shanye-navel-orange",
            "title": "赣南脐橙新鲜橙子当季水果整箱10斤现摘手剥甜橙孕妇水果包邮",
            "price_fen": 2_990,
            "original_price_fen": 4_990,
            "detail": "江西赣州山地果园，皮薄肉厚、手剥不沾手。标准果果径65–75mm，"
                      "精品大果果径75–85mm。下单后24小时内发货，坏果包赔。",
            "category": "柑橘",
            "image_colours": ("#fff3dc", "#f7a531", "#3f7d3a"),
            "skus": _skus(("5斤", "10斤"), ("标准果", "精品大果"),
                          (200, 90, 150, 40)),
        },
        {
            "slug": "shanye-mango",
            "title": "海南贵妃芒果新鲜当季水果红金龙芒果整箱3斤5斤现摘香甜软糯",
            "price_fen": 2_490,
            "original_price_fen": 3_990,
            "detail": "海南三亚产区贵妃芒，外皮红黄相间，果肉细腻无丝。中果单果约150–250g，"
                      "大果约250–350g。常温催熟，按压微软即可食用。",
            "category": "芒果",
            "image_colours": ("#fff6d5", "#f9c74f", "#e76f51"),
            "skus": _skus(("3斤", "5斤"), ("中果", "大果"),
                          (70, 45, 55, 0)),
        },
        {
            "slug": "shanye-cherry",
            "title": "山东烟台大樱桃美早车厘子新鲜现摘当季水果冷链直发孕妇水果",
            "price_fen": 5_990,
            "original_price_fen": 8_990,
            "detail": "烟台果园现摘美早品种，脆甜多汁。22mm+为中果，26mm+为大果，"
                      "全程冷链泡沫箱加冰袋发货，签收后请尽快冷藏。",
            "category": "樱桃",
            "image_colours": ("#fde8ea", "#d62839", "#6a0f1a"),
            "skus": _skus(("1斤", "2斤"), ("22mm+", "26mm+"),
                          (30, 12, 18, 0)),
        },
        {
            "slug": "shanye-honey-peach",
            "title": "无锡阳山水蜜桃新鲜当季软桃现摘孕妇水果礼盒装整箱顺丰冷链",
            "price_fen": 3_990,
            "original_price_fen": 6_800,
            "detail": "阳山产区软桃，一吸爆汁，每个桃子都有独立网套和托盘。"
                      "单果3两+约150g起，单果4两+约200g起。桃子娇嫩，签收后请尽快冷藏。",
            "category": "桃",
            "image_colours": ("#fff0ec", "#f4a7a1", "#e56b6f"),
            "skus": _skus(("6个装", "12个装"), ("单果3两+", "单果4两+"),
                          (25, 0, 14, 0)),
        },
        {
            "slug": "shanye-daily-nuts",
            "title": "每日坚果混合果仁独立小包装30包孕妇儿童零食腰果核桃巴旦木",
            "price_fen": 3_990,
            "original_price_fen": 6_990,
            "detail": "腰果、核桃仁、巴旦木、榛子仁、蔓越莓干和蓝莓干六种搭配，每包25g。"
                      "低糖款不加蔓越莓干。保质期9个月，常温阴凉处保存。",
            "category": "坚果零食",
            "image_colours": ("#f7efe2", "#c99a6b", "#7a4b2a"),
            "skus": _skus(("15包", "30包"), ("经典原味", "低糖款"),
                          (300, 120, 240, 60)),
        },
    ),
}

# --- 极光数码配件: phone accessories ---------------------------------------------------------

_JIGUANG: DemoStore = {
    "slug": "jiguang-digital",
    "name": "极光数码配件",
    "trade": "手机数码",
    "description": "手机壳、钢化膜、快充头、耳机、充电宝，一站配齐。"
                   "质量问题一年换新，下午4点前付款当天发货。",
    "logo_colour": "#2f6fed",
    "owner": {"username": "owner_jiguang", "display_name": "极光店长阿杰"},
    "agents": (
        {"username": "agent_jiguang_ke", "display_name": "可可"},
        {"username": "agent_jiguang_hao", "display_name": "浩子"},
    ),
    "deposit_fen": 500_000,
    "working_hours": {"opens": "09:00", "closes": "22:00"},
    "welcome_message": "亲，欢迎光临极光数码配件～买手机壳和贴膜请先告诉我您的手机型号，"
                       "帮您核对规格哦！",
    "off_hours_notice": "亲，极光客服已下班（服务时间 09:00–22:00），明天上班后马上回复您~ "
                        "型号对照可以先看详情页的适配表哦~",
    "faq": (
        _faq("compatibility", "我的手机能用吗？",
             "亲，手机壳和钢化膜请按手机型号选规格哦~ 不确定型号的话，"
             "在手机的「设置—通用—关于本机」里就能看到~",
             "适配什么型号", "15 Pro能用吗", "怎么看手机型号", "和我手机对得上吗"),
        _faq("fast_charge", "支持快充吗？",
             "亲，20W快充头支持PD协议，苹果8以后的机型搭配C口转Lightning的线都能快充，"
             "支持PD的安卓手机也可以哦~",
             "是快充吗", "安卓能用吗", "充满要多久"),
        _faq("warranty", "保修多久？",
             "亲，充电头、充电宝和耳机都是一年内有质量问题直接换新，数据线半年换新，"
             "在订单页申请售后就可以哦~",
             "坏了怎么办", "有质保吗", "能换新吗"),
        _faq("shipping_time", "什么时候发货？",
             "亲，下午4点前付款当天发，4点以后第二天发，默认圆通快递，一般2–3天到~",
             "今天能发吗", "发什么快递", "几天到"),
        _faq("powerbank_flight", "充电宝能带上飞机吗？",
             "亲，10000mAh和20000mAh两款额定能量都低于100Wh，按民航规定可以随身携带登机，"
             "但不能放托运行李里哦~",
             "能过安检吗", "坐飞机能带吗"),
        _faq("earbuds_pairing", "蓝牙耳机怎么连接？",
             "亲，打开充电仓盖子，耳机会自动进入配对状态，在手机蓝牙列表里找到「JG-Air」"
             "点连接就好啦~ 连不上可以长按仓上的按键3秒重置哦~",
             "耳机连不上", "怎么配对", "只有一边响"),
        _faq("return_policy", "能七天无理由退货吗？",
             "亲，支持七天无理由退货~ 钢化膜贴过之后就不能退了哦，贴之前请先核对型号~",
             "不想要了能退吗", "买错型号怎么办"),
    ),
    "quick_replies": (
        "亲，在的~ 请问您的手机型号是？",
        "亲，这款和您的型号是适配的，可以放心拍~",
        "亲，您的订单今天下午会发出，请留意物流信息~",
        "亲，麻烦拍一段问题的视频或照片，我们核实后给您换新~",
        "亲，耳机可以先放回仓里，长按按键3秒重置后再试试连接哦~",
        "亲，买错型号没关系，未拆封的可以直接申请退换~",
    ),
    "products": (
        {
            "slug": "jiguang-magsafe-case",
            "title": "适用苹果15手机壳磁吸透明防摔iPhone15ProMax保护套新款全包镜头男女款",
            "price_fen": 1_990,
            "original_price_fen": 3_990,
            "detail": "TPU软边加亚克力硬背，四角气囊防摔，镜头加高1.2mm。内置磁吸圈，"
                      "支持磁吸充电。请按手机型号选择规格，下午4点前付款当天发货。",
            "category": "手机壳",
            "image_colours": ("#e8f0ff", "#7aa2f7", "#1e3a8a"),
            "skus": _skus(("iPhone 15", "iPhone 15 Pro", "iPhone 15 Pro Max"),
                          ("透明", "磨砂黑", "远峰蓝"),
                          (80, 50, 20, 90, 60, 0, 70, 45, 15)),
        },
        {
            "slug": "jiguang-gan-charger",
            "title": "20W快充头PD充电器氮化镓适用苹果华为小米Type-C插头便携折叠",
            "price_fen": 3_990,
            "original_price_fen": 6_900,
            "detail": "氮化镓方案，体积小发热低，插脚可折叠。20W单口适合手机，"
                      "35W双口可同时给手机和平板充电。支持PD协议，一年质保换新。",
            "category": "充电器",
            "image_colours": ("#f5f7fa", "#cbd5e1", "#334155"),
            "skus": _skus(("20W单口", "35W双口"), ("白色", "黑色"),
                          (150, 90, 60, 0)),
        },
        {
            "slug": "jiguang-braided-cable",
            "title": "Type-C数据线快充编织线1米2米加长6A超级快充线适用华为小米安卓",
            "price_fen": 990,
            "original_price_fen": 2_590,
            "detail": "尼龙编织线身，弯折测试一万次以上不断裂。6A大电流，支持最高66W快充，"
                      "1米适合床头，2米适合客厅和车内。半年质保换新。",
            "category": "数据线",
            "image_colours": ("#eef2ff", "#6366f1", "#111827"),
            "skus": _skus(("1米", "2米"), ("黑色", "白色"),
                          (400, 300, 250, 180)),
        },
        {
            "slug": "jiguang-earbuds",
            "title": "无线蓝牙耳机半入耳式降噪超长续航运动游戏低延迟适用苹果华为安卓",
            "price_fen": 8_990,
            "original_price_fen": 19_900,
            "detail": "蓝牙5.3，开盖自动连接。单次听歌约6小时，配合充电仓总续航约30小时。"
                      "降噪版支持通话降噪和通透模式。一年质保换新。",
            "category": "耳机",
            "image_colours": ("#f8fafc", "#a5b4fc", "#4338ca"),
            "skus": _skus(("标准版", "降噪版"), ("白色", "黑色"),
                          (60, 40, 35, 0)),
        },
        {
            "slug": "jiguang-powerbank",
            "title": "充电宝10000毫安超薄小巧便携22.5W快充移动电源可上飞机大容量",
            "price_fen": 5_990,
            "original_price_fen": 9_900,
            "detail": "锂聚合物电芯，带电量数显，双向快充。10000mAh约手机充电2次，"
                      "20000mAh约4次，两款都可随身带上飞机。一年质保换新。",
            "category": "充电宝",
            "image_colours": ("#fdf2f8", "#f0abfc", "#6b21a8"),
            "skus": _skus(("10000mAh", "20000mAh"), ("白色", "黑色", "樱花粉"),
                          (70, 65, 30, 40, 25, 0)),
        },
        {
            "slug": "jiguang-tempered-glass",
            "title": "适用iPhone15钢化膜全屏覆盖防窥膜高清防指纹手机贴膜送贴膜神器",
            "price_fen": 990,
            "original_price_fen": 2_990,
            "detail": "9H硬度钢化玻璃，边缘弧面处理，附贴膜定位框，新手也能一次贴正。"
                      "防窥款侧面30度以外看不清屏幕。一单两片装。",
            "category": "手机膜",
            "image_colours": ("#ecfeff", "#67e8f9", "#155e75"),
            "skus": _skus(("iPhone 15", "iPhone 15 Pro", "iPhone 15 Pro Max"),
                          ("高清款", "防窥款"),
                          (200, 120, 180, 90, 150, 0)),
        },
    ),
}

# --- 暖灶家居: home & kitchen (deposit deliberately below the minimum) -----------------------

_NUANZAO: DemoStore = {
    "slug": "nuanzao-home",
    "name": "暖灶家居",
    "trade": "家居厨具",
    "description": "锅碗瓢盆、收纳置物、毛巾布艺，让小厨房也有烟火气。"
                   "大件走物流送货上门，运输破损包赔。",
    "logo_colour": "#d9822b",
    "owner": {"username": "owner_nuanzao", "display_name": "暖灶老板娘"},
    "agents": (
        {"username": "agent_nuanzao_fang", "display_name": "芳芳"},
        {"username": "agent_nuanzao_ming", "display_name": "小明"},
    ),
    "deposit_fen": 50_000,
    "working_hours": {"opens": "09:00", "closes": "22:00"},
    "welcome_message": "亲，欢迎来到暖灶家居～锅具、收纳、毛巾都可以问我，"
                       "收到有磕碰破损也请直接告诉我们哦！",
    "off_hours_notice": "亲，暖灶客服休息啦（服务时间 09:00–22:00），"
                        "留言会在上班后尽快回复您~ 破损售后请保留好外箱哦~",
    "faq": (
        _faq("induction", "电磁炉能用吗？",
             "亲，不粘锅是复合底的，电磁炉、燃气灶、电陶炉都能用哦~",
             "燃气灶能用吗", "什么灶都能用吗", "电磁炉通用吗"),
        _faq("first_use", "新锅要怎么开锅？",
             "亲，不粘锅不需要开锅哦~ 第一次用清水加少量洗洁精洗干净，擦干后薄薄刷一层油"
             "就可以啦。平时请用木铲或硅胶铲，不要用钢丝球刷~",
             "要开锅吗", "怎么保养不粘锅", "会掉涂层吗"),
        _faq("microwave", "保鲜盒能进微波炉吗？",
             "亲，玻璃盒身可以进微波炉和烤箱，盖子是PP材质，加热时记得把盖子拿下来哦~",
             "能加热吗", "能放冰箱冷冻吗", "盖子耐高温吗"),
        _faq("assembly", "置物架需要自己安装吗？",
             "亲，置物架需要简单组装，包裹里有安装图和工具，一般10分钟就能装好~",
             "好装吗", "有安装说明吗"),
        _faq("damaged", "收到东西破损了怎么办？",
             "亲，非常抱歉给您添麻烦啦！请先别扔，拍一下外箱和破损处的照片发给客服，"
             "核实后马上给您补发或者退款~",
             "收到碎了", "锅磕坏了", "包装压坏了", "有裂痕"),
        _faq("shipping_time", "什么时候发货？",
             "亲，48小时内发货哦~ 大件走德邦物流送货上门，小件走中通，一般3–5天送达~",
             "几天能到", "发什么快递"),
        _faq("kettle_material", "水壶是什么材质的？",
             "亲，内胆是304食品级不锈钢，无缝一体内胆，烧开自动断电，"
             "没水干烧也会自动断电保护，放心用~",
             "烧水有异味吗", "是304的吗", "会自动断电吗"),
    ),
    "quick_replies": (
        "亲，在的~ 请问想看锅具还是收纳呀？",
        "亲，麻烦拍一下外箱和破损处的照片，我们马上给您处理~",
        "亲，已经为您登记补发，新的会在48小时内发出~",
        "亲，这款电磁炉和燃气灶都能用的哦~",
        "亲，大件是物流送货上门的，到之前物流会提前联系您~",
        "给您添麻烦了，实在抱歉，我们一定处理到您满意~",
    ),
    "products": (
        {
            "slug": "nuanzao-nonstick-pan",
            "title": "麦饭石不粘锅炒锅家用少油烟平底炒菜锅电磁炉燃气灶通用带锅盖",
            "price_fen": 8_990,
            "original_price_fen": 19_900,
            "detail": "铝合金锅身，麦饭石色不粘涂层，复合底导热均匀。28cm适合2–3人，"
                      "32cm适合3–5人，标配可立玻璃锅盖。破损包赔。",
            "category": "锅具",
            "image_colours": ("#f3ede4", "#a39382", "#3d3a36"),
            "skus": _skus(("28cm", "32cm"), ("米白", "墨绿"),
                          (45, 30, 38, 0)),
        },
        {
            "slug": "nuanzao-glass-box",
            "title": "耐热玻璃保鲜盒微波炉加热饭盒上班族带饭便当盒分格冰箱收纳套装",
            "price_fen": 3_990,
            "original_price_fen": 6_900,
            "detail": "高硼硅玻璃盒身，耐冷热温差，可进微波炉、烤箱和冰箱。"
                      "3件套为370/640/1040ml，5件套再加两只320ml小盒。盖子请勿加热。",
            "category": "餐具",
            "image_colours": ("#eef8f6", "#9ad1c4", "#2a7f6f"),
            "skus": _skus(("3件套", "5件套"), ("圆形", "方形"),
                          (60, 75, 40, 0)),
        },
        {
            "slug": "nuanzao-storage-rack",
            "title": "厨房置物架落地多层调料架收纳架微波炉架子家用带轮可移动夹缝架",
            "price_fen": 6_990,
            "original_price_fen": 12_900,
            "detail": "碳钢喷塑，单层承重约15kg，带万向轮可移动。三层高约80cm，"
                      "四层高约105cm，宽40cm深30cm。附安装工具，10分钟装好。",
            "category": "收纳",
            "image_colours": ("#f5f5f4", "#a8a29e", "#292524"),
            "skus": _skus(("三层", "四层"), ("白色", "黑色"),
                          (25, 20, 18, 12)),
        },
        {
            "slug": "nuanzao-cotton-towel",
            "title": "纯棉毛巾家用洗脸面巾吸水不掉毛加厚柔软成人男女情侣款毛巾",
            "price_fen": 1_990,
            "original_price_fen": 3_990,
            "detail": "长绒棉，单条约100g，34×74cm。首次使用前用清水洗一遍更柔软吸水。"
                      "多条装颜色随机搭配，可备注喜欢的颜色。",
            "category": "毛巾",
            "image_colours": ("#fafaf9", "#e7dcc8", "#9db39a"),
            "skus": _skus(("3条装", "5条装"), ("浅灰", "米黄", "豆绿"),
                          (120, 90, 100, 80, 0, 60)),
        },
        {
            "slug": "nuanzao-electric-kettle",
            "title": "电热水壶家用304不锈钢烧水壶大容量自动断电保温开水壶宿舍",
            "price_fen": 4_990,
            "original_price_fen": 8_900,
            "detail": "304不锈钢无缝内胆，1500W快速烧开，沸腾自动断电、干烧保护。"
                      "底座360度旋转，一年质保。",
            "category": "厨房电器",
            "image_colours": ("#f1f5f9", "#94a3b8", "#475569"),
            "skus": _skus(("1.5L", "1.8L"), ("白色", "灰色"),
                          (55, 40, 30, 22)),
        },
        {
            "slug": "nuanzao-bamboo-board",
            "title": "整竹砧板家用切菜板加厚案板双面可用防霉实木菜板厨房擀面板",
            "price_fen": 2_990,
            "original_price_fen": 5_990,
            "detail": "楠竹压制，一面切生一面切熟。中号36×26cm，大号40×30cm，厚约2cm。"
                      "用后洗净竖放晾干，不要泡水和暴晒。",
            "category": "砧板",
            "image_colours": ("#fbf3e4", "#e0c08c", "#8a6a3b"),
            "skus": _skus(("中号36×26cm", "大号40×30cm"), ("原竹色",),
                          (70, 0)),
        },
    ),
}

# --- 贝贝暖阳母婴: mother & baby -------------------------------------------------------------

_BEIBEI: DemoStore = {
    "slug": "beibei-baby",
    "name": "贝贝暖阳母婴",
    "trade": "母婴用品",
    "description": "宝妈开的母婴小店：纸尿裤、奶瓶、湿巾、婴儿服和洗护，"
                   "只卖自家宝宝也在用的东西，新货直发。",
    "logo_colour": "#f28ab2",
    "owner": {"username": "owner_beibei", "display_name": "贝贝妈"},
    "agents": (
        {"username": "agent_beibei_nuan", "display_name": "暖暖"},
        {"username": "agent_beibei_yue", "display_name": "月月"},
        {"username": "agent_beibei_tian", "display_name": "甜甜"},
    ),
    "deposit_fen": 250_000,
    "working_hours": {"opens": "09:00", "closes": "22:00"},
    "welcome_message": "亲，欢迎来到贝贝暖阳～告诉我宝宝的月龄和体重，帮您选尺码哦！",
    "off_hours_notice": "亲，宝妈客服哄娃去啦（服务时间 09:00–22:00），"
                        "明天一早回复您~ 尺码可以先看详情页的对照表哦~",
    "faq": (
        _faq("diaper_size", "纸尿裤怎么选尺码？",
             "亲，NB码适合5kg以内，S码4–8kg，M码6–11kg，L码9–14kg，XL码12kg以上~ "
             "宝宝腿粗或者快到上限的话，建议拍大一码哦~",
             "宝宝18斤穿什么码", "8个月用什么码", "NB和S码怎么选"),
        _faq("production_date", "生产日期是什么时候的？",
             "亲，纸尿裤和湿巾都是近半年生产的新货，保质期3年；"
             "面霜开封后建议半年内用完哦~",
             "是新货吗", "保质期多久", "是不是临期的"),
        _faq("bottle_sterilize", "奶瓶怎么消毒？",
             "亲，玻璃奶瓶可以高温蒸煮消毒，奶嘴是食品级硅胶，煮沸时间不超过5分钟就好~",
             "奶瓶能煮吗", "能用消毒柜吗"),
        _faq("romper_size", "连体衣尺码怎么选？",
             "亲，59码适合0–3个月，66码3–6个月，73码6–12个月，80码12–18个月~ "
             "宝宝长得快，可以拍大一码哦~",
             "新生儿穿多大", "6个月穿什么码", "偏大还是偏小"),
        _faq("sensitive_skin", "敏感肌宝宝能用吗？",
             "亲，宝宝面霜无香精无酒精，第一次用建议先在耳后或手腕试一下，"
             "没有泛红再大面积使用哦~",
             "会过敏吗", "有香味吗", "湿疹能用吗"),
        _faq("return_policy", "可以退换吗？",
             "亲，未拆封的商品支持七天无理由退换；纸尿裤、湿巾、奶嘴这类贴身用品拆封后"
             "就不支持无理由退了哦，质量问题除外~",
             "拆了能退吗", "尺码不对能换吗", "买多了能退吗"),
        _faq("shipping_time", "什么时候发货？",
             "亲，下午4点前付款当天发，默认韵达快递，一般2–3天就能到啦~",
             "几天到", "今天能发吗"),
    ),
    "quick_replies": (
        "亲，在的~ 宝宝现在多大、多重呀？",
        "亲，按宝宝的体重建议选这个尺码哦~",
        "亲，都是近期生产的新货，放心给宝宝用~",
        "亲，订单已经在打包啦，今天就发出~",
        "亲，麻烦拍张照片给我看看，我们马上帮您处理~",
        "谢谢亲的信任，祝宝宝健康快乐长大~",
        "亲，拆封后的贴身用品不支持无理由退，质量问题我们一定负责~",
    ),
    "products": (
        {
            "slug": "beibei-diapers",
            "title": "婴儿纸尿裤超薄透气干爽尿不湿新生儿宝宝拉拉裤NB/S/M/L/XL码整箱",
            "price_fen": 5_990,
            "original_price_fen": 8_990,
            "detail": "3D瞬吸芯体，表层柔软亲肤，夜用不侧漏。NB码5kg以内，S码4–8kg，"
                      "M码6–11kg，L码9–14kg，XL码12kg以上。纸尿裤适合躺着换，拉拉裤适合会爬会走的宝宝。",
            "category": "纸尿裤",
            "image_colours": ("#f0f9ff", "#bae6fd", "#f9a8d4"),
            "skus": _skus(("NB", "S", "M", "L", "XL"), ("纸尿裤", "拉拉裤"),
                          (40, 0, 60, 0, 80, 45, 75, 60, 30, 25)),
        },
        {
            "slug": "beibei-glass-bottle",
            "title": "新生儿宽口径玻璃奶瓶防胀气仿母乳实感奶嘴0-6个月宝宝婴儿奶瓶",
            "price_fen": 4_990,
            "original_price_fen": 7_900,
            "detail": "高硼硅玻璃瓶身，耐高温可蒸煮。160ml配S号奶嘴（0–3个月），"
                      "240ml配M号奶嘴（3–6个月）。底部防胀气阀，减少宝宝吐奶。",
            "category": "奶瓶",
            "image_colours": ("#fefce8", "#fde68a", "#93c5fd"),
            "skus": _skus(("160ml", "240ml"), ("透明", "粉色", "蓝色"),
                          (50, 30, 28, 45, 0, 22)),
        },
        {
            "slug": "beibei-hand-mouth-wipes",
            "title": "婴儿手口湿巾纸新生儿专用80抽加大加厚带盖家庭装宝宝湿纸巾",
            "price_fen": 2_990,
            "original_price_fen": 4_990,
            "detail": "EDI纯水配方，无香精无酒精，20×15cm加大加厚。每包80抽，"
                      "带翻盖防干。保质期3年，开封后建议一个月内用完。",
            "category": "湿巾",
            "image_colours": ("#f0fdf4", "#bbf7d0", "#60a5fa"),
            "skus": _skus(("5包", "10包"), ("无香型",),
                          (150, 90)),
        },
        {
            "slug": "beibei-cotton-romper",
            "title": "纯棉婴儿连体衣春秋款新生儿哈衣爬服宝宝衣服男女宝宝护肚包屁衣",
            "price_fen": 3_990,
            "original_price_fen": 6_900,
            "detail": "A类纯棉，无骨缝制，前开扣方便换尿布。59码适合0–3个月，66码3–6个月，"
                      "73码6–12个月，80码12–18个月。建议首次穿着前清洗。",
            "category": "婴儿服",
            "image_colours": ("#fffbeb", "#fbcfe8", "#a5d8ff"),
            "skus": _skus(("59", "66", "73", "80"), ("奶白", "浅蓝", "浅粉"),
                          (20, 15, 18, 25, 20, 0, 22, 14, 16, 10, 0, 8)),
        },
        {
            "slug": "beibei-baby-cream",
            "title": "儿童面霜宝宝保湿润肤乳秋冬补水滋润婴儿霜无香精温和不刺激",
            "price_fen": 3_590,
            "original_price_fen": 5_900,
            "detail": "含神经酰胺和燕麦提取物，无香精无酒精。清爽型适合春夏，"
                      "滋润型适合秋冬和干燥肌肤。开封后建议6个月内用完。",
            "category": "洗护",
            "image_colours": ("#fff7ed", "#fed7aa", "#fb923c"),
            "skus": _skus(("50g", "100g"), ("清爽型", "滋润型"),
                          (60, 45, 35, 40)),
        },
        {
            "slug": "beibei-folding-tub",
            "title": "婴儿洗澡盆可折叠宝宝浴盆新生儿坐躺两用大号儿童沐浴桶带温度计",
            "price_fen": 6_990,
            "original_price_fen": 12_900,
            "detail": "PP加TPE软胶，折叠后厚度仅9cm，方便收纳。展开尺寸约80×50cm，"
                      "适合0–6岁。带浴网款可让新生儿躺着洗，盆底有防滑垫。",
            "category": "洗浴用品",
            "image_colours": ("#ecfeff", "#a7f3d0", "#f9a8d4"),
            "skus": _skus(("标准款", "带浴网"), ("薄荷绿", "樱花粉"),
                          (30, 26, 18, 0)),
        },
    ),
}

STORES: Final[tuple[DemoStore, ...]] = (_ZHIZI, _SHANYE, _JIGUANG, _NUANZAO, _BEIBEI)
"""The demo stores, in seeding order (the first is the one the login test uses)."""

MINIMUM_DEPOSIT_FEN: Final = 100_000
"""The platform's minimum deposit, for reference; 暖灶家居 is deliberately below it."""

# --- buyers ----------------------------------------------------------------------------------

BUYERS: Final[tuple[DemoBuyer, ...]] = (
    {
        "username": "buyer_li",
        "display_name": "小李爱逛街",
        "addresses": (
            {"recipient": "李女士", "phone": "138****0001", "province": "浙江省",
             "city": "杭州市", "district": "西湖区",
             "detail": "文三路 188 号 桂香小区 3 幢 502 室"},
            {"recipient": "李女士", "phone": "138****0001", "province": "浙江省",
             "city": "杭州市", "district": "滨江区",
             "detail": "江南大道 66 号 创意园 B 座 8 楼前台"},
        ),
    },
    {
        "username": "buyer_chen",
        "display_name": "陈皮不是皮",
        "addresses": (
            {"recipient": "陈先生", "phone": "139****0002", "province": "黑龙江省",
             "city": "哈尔滨市", "district": "南岗区",
             "detail": "学府路 52 号 松苑小区 7 栋 2 单元 301"},
        ),
    },
    {
        "username": "buyer_zhou",
        "display_name": "周末吃瓜群众",
        "addresses": (
            {"recipient": "周女士", "phone": "137****0003", "province": "广东省",
             "city": "广州市", "district": "天河区",
             "detail": "天河北路 233 号 榕树花园 12 栋 1603"},
        ),
    },
    {
        "username": "buyer_liu",
        "display_name": "六六大顺",
        "addresses": (
            {"recipient": "刘女士", "phone": "136****0004", "province": "四川省",
             "city": "成都市", "district": "武侯区",
             "detail": "锦绣路 18 号 芙蓉苑 5 栋 2 单元 902"},
            {"recipient": "刘妈妈", "phone": "136****0014", "province": "四川省",
             "city": "绵阳市", "district": "涪城区",
             "detail": "临园路 9 号 家属院 2 单元 201"},
        ),
    },
    {
        "username": "buyer_huang",
        "display_name": "黄小鸭不呆",
        "addresses": (
            {"recipient": "黄同学", "phone": "135****0005", "province": "湖北省",
             "city": "武汉市", "district": "洪山区",
             "detail": "珞喻路 1037 号 某大学 东区 12 舍 415"},
        ),
    },
    {
        "username": "buyer_xu",
        "display_name": "徐徐清风来",
        "addresses": (
            {"recipient": "徐先生", "phone": "150****0006", "province": "江苏省",
             "city": "南京市", "district": "鼓楼区",
             "detail": "中山北路 77 号 清风苑 4 幢 1101"},
        ),
    },
    {
        "username": "buyer_he",
        "display_name": "何以解忧唯有暴富",
        "addresses": (
            {"recipient": "何女士", "phone": "186****0007", "province": "山东省",
             "city": "青岛市", "district": "市南区",
             "detail": "香港中路 99 号 海景花园 8 号楼 2 单元 602"},
            {"recipient": "何女士", "phone": "186****0007", "province": "山东省",
             "city": "青岛市", "district": "崂山区",
             "detail": "海尔路 16 号 软件园 3 号楼快递柜"},
        ),
    },
    {
        "username": "buyer_guo",
        "display_name": "郭郭要减肥",
        "addresses": (
            {"recipient": "郭先生", "phone": "158****0008", "province": "北京市",
             "city": "北京市", "district": "朝阳区",
             "detail": "望京街 10 号 望京花园 东区 6 号楼 1 单元 1203"},
        ),
    },
)

# --- platform staff --------------------------------------------------------------------------

PLATFORM_STAFF: Final[tuple[StaffMember, ...]] = (
    {"username": "admin", "display_name": "平台管理员", "role": "platform_admin"},
    {"username": "supervisor_wang", "display_name": "王主管", "role": "platform_supervisor"},
    {"username": "pagent_zhao", "display_name": "平台客服·赵晴", "role": "platform_agent"},
    {"username": "pagent_sun", "display_name": "平台客服·孙一鸣", "role": "platform_agent"},
)

# --- sample chats ----------------------------------------------------------------------------

SAMPLE_CONVERSATIONS: Final[tuple[SampleConversation, ...]] = (
    {
        "topic": "presale_size",
        "store_slug": "zhizi-closet",
        "buyer_username": "buyer_he",
        "product_slug": "zhizi-floral-dress",
        "order_status": None,
        "messages": (
            ("buyer", "你好，这条碎花裙我身高160，体重105斤，穿什么码合适？"),
            ("agent", "亲，您好呀~ 按您的身高体重建议拍M码，腰围68cm，穿着刚好不勒哦~"),
            ("buyer", "我胯有点宽，会不会紧？"),
            ("agent", "亲，这款是A字裙摆，胯部很宽松的，放心拍M码~ 不合适也支持七天无理由退换哦~"),
            ("buyer", "好的，那我拍杏色M码"),
            ("agent", "好嘞亲，杏色M码有现货，今天拍明天就发出~"),
        ),
    },
    {
        "topic": "presale_shipping",
        "store_slug": "shanye-fruit",
        "buyer_username": "buyer_chen",
        "product_slug": "shanye-cherry",
        "order_status": None,
        "messages": (
            ("buyer", "樱桃发哈尔滨要几天？路上会不会坏"),
            ("agent", "亲，发哈尔滨一般2–3天到哦~ 樱桃全程冷链，泡沫箱里还放了冰袋，路上不怕热~"),
            ("buyer", "26mm的怎么没货了"),
            ("agent", "亲，大果这几天太抢手，果园明天再摘一批，上架了第一时间在店铺首页更新~ "
                      "22mm的也很甜，今天下单今天摘哦~"),
            ("buyer", "那要是到了有坏的呢"),
            ("agent", "亲，签收48小时内拍一下坏果和快递面单发给我们，坏几个赔几个，不用退回~"),
        ),
    },
    {
        "topic": "presale_compatibility",
        "store_slug": "jiguang-digital",
        "buyer_username": "buyer_zhou",
        "product_slug": "jiguang-magsafe-case",
        "order_status": None,
        "messages": (
            ("buyer", "我是15 Pro，这个壳镜头孔对得上吗"),
            ("agent", "亲，选规格时选「iPhone 15 Pro」就可以哦，"
                      "镜头孔是按这个型号开模的，严丝合缝~"),
            ("buyer", "远峰蓝怎么选不了"),
            ("agent", "亲，15 Pro的远峰蓝这批卖完啦，透明和磨砂黑都有现货，磨砂黑不沾指纹哦~"),
            ("buyer", "行，那来个磨砂黑"),
        ),
    },
    {
        "topic": "order_status",
        "store_slug": "zhizi-closet",
        "buyer_username": "buyer_liu",
        "product_slug": None,
        "order_status": "shipped",
        "messages": (
            ("buyer", "你好，我的订单显示已发货三天了，物流怎么一直没更新？"),
            ("agent", "亲，稍等，帮您查一下~"),
            ("agent", "亲，让您久等啦，包裹已经到成都转运中心了，快递这两天件多，信息更新慢了一点，"
                      "预计明天就能派送哦~"),
            ("buyer", "好的，明天能到就行，谢谢"),
            ("agent", "不客气亲，收到后有任何问题随时来找小栀~"),
        ),
    },
    {
        "topic": "order_ship_date",
        "store_slug": "jiguang-digital",
        "buyer_username": "buyer_huang",
        "product_slug": None,
        "order_status": "paid",
        "messages": (
            ("buyer", "付款两天了怎么还没发货"),
            ("agent", "亲，实在抱歉，这两天订单比较多，您的包裹已经打包好了，"
                      "今天下午4点前一定发出~"),
            ("buyer", "周五前能到武汉吗？要带去学校用"),
            ("agent", "亲，发武汉一般2天到，今天发出的话周四前后就能收到啦，"
                      "发货后订单里能看到物流~"),
        ),
    },
    {
        "topic": "complaint_damaged",
        "store_slug": "nuanzao-home",
        "buyer_username": "buyer_zhou",
        "product_slug": None,
        "order_status": "delivered",
        "messages": (
            ("buyer", "收到了，外箱压扁了一个角，里面的东西也磕坏了，边上裂了一道口子"),
            ("agent", "亲，非常抱歉给您添麻烦了！方便拍一下外箱和破损处的照片发给我吗？"),
            ("buyer", "[图片] 你们自己看吧，这怎么用"),
            ("agent", "亲，看到了，确实是运输途中压坏的。我们给您两个方案：一是马上补发一件新的，"
                      "坏的不用寄回；二是直接给您全额退款。您看哪种方便？"),
            ("buyer", "补发吧，这次包装弄结实点"),
            ("agent", "好的亲，已经为您登记补发，加厚气泡膜和护角，48小时内发出。"
                      "再次向您说声抱歉~"),
        ),
    },
    {
        "topic": "presale_size",
        "store_slug": "beibei-baby",
        "buyer_username": "buyer_xu",
        "product_slug": "beibei-diapers",
        "order_status": None,
        "messages": (
            ("buyer", "宝宝8个月，18斤，穿M码还是L码"),
            ("agent", "亲，18斤是9公斤左右，M码和L码都在范围内哦~ 宝宝腿比较肉的话建议L码，"
                      "用得更久也不勒腿~"),
            ("buyer", "那晚上用纸尿裤还是拉拉裤好"),
            ("agent", "亲，晚上睡觉躺着换，纸尿裤更方便；白天宝宝爬来爬去，拉拉裤一提就穿好~"),
            ("buyer", "明白了，谢谢"),
        ),
    },
    {
        "topic": "presale_usage",
        "store_slug": "nuanzao-home",
        "buyer_username": "buyer_guo",
        "product_slug": "nuanzao-nonstick-pan",
        "order_status": None,
        "messages": (
            ("buyer", "这个锅电磁炉能用吗？家里只有电磁炉"),
            ("agent", "亲，能用的哦~ 锅底是复合底，电磁炉、燃气灶都通用~"),
            ("buyer", "32的会不会太大，家里就两个人"),
            ("agent", "亲，两个人用28cm刚刚好，炒菜、煎蛋都顺手，也好收纳~"),
        ),
    },
    {
        "topic": "exchange_size",
        "store_slug": "zhizi-closet",
        "buyer_username": "buyer_li",
        "product_slug": None,
        "order_status": "completed",
        "messages": (
            ("buyer", "衣服收到了，料子很好，就是有点大，能换小一码吗？"),
            ("agent", "亲，可以换的哦~ 吊牌别剪，在订单页点「申请售后—换货」，选好要换的尺码就行~"),
            ("buyer", "运费要我出吗"),
            ("agent", "亲，您的订单带了运费险，寄回的运费会自动理赔，新的那件我们包邮寄给您~"),
            ("buyer", "好的，我今天就寄"),
        ),
    },
)
"""Scripted chats for the demo: pre-sale questions, order follow-ups, one complaint."""
