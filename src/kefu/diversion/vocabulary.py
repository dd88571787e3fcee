"""The words the diversion detector knows, as data.

Every entry is written in the detector's *compact* form: lower case, simplified characters,
no spaces or punctuation (see :mod:`kefu.diversion.normalize`). Entries are normalised again
when the automaton is built, so writing them the natural way is fine.

Strength of a contact word (:class:`CueWord`):

``STRONG``
    a hit by itself: a disguised spelling nobody uses innocently (薇信, 某宝, 扣扣号, 留个电话).
``WEAK``
    a hit only with a contact verb next to it (加 / 我的 / 号 / 搜 …) or an account right after
    it (微信 abc_123): 微信 alone is payment talk, 企鹅 may be a toy, 淘宝 a price comparison.
``ACCOUNT``
    a hit only when an account follows right away: the single letters/characters 扣, q, 群.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ACCOUNT",
    "CHANNELS",
    "STRONG",
    "WEAK",
    "CueWord",
]

STRONG = 2
WEAK = 1
ACCOUNT = 0

CHANNELS = ("wechat", "qq", "phone", "external_platform", "link", "qr", "other")

CHANNEL_NAMES = {
    "wechat": "微信", "qq": "QQ", "phone": "电话", "external_platform": "其他平台",
    "link": "站外链接", "qr": "二维码", "other": "站外联系",
}


@dataclass(frozen=True, slots=True)
class CueWord:
    word: str
    channel: str
    strength: int


def _cues(channel: str, strength: int, words: str) -> list[CueWord]:
    return [CueWord(word, channel, strength) for word in words.split()]


def _combine(prefixes: str, stems: str) -> str:
    return " ".join(p + s for p in prefixes.split() for s in stems.split())


# --------------------------------------------------------------------------- contact words

WECHAT_WORDS = [
    *_cues("wechat", STRONG,
           "薇信 威信 徽信 危信 胃信 巍信 葳信 v信 v♥ 微♥ 威♥ 薇♥ wei♥ vx号 wx号 微信号 威信号 "
           "weixin weixing 绿泡泡 小绿泡 绿色软件 卫星号 v我 薇我 卫星加 wechat号 vchat 加薇 +薇 薇号 "
           "走微信 微信转我 微信转给我 微信付我 微信付给我 微信转账给我 微信收款"),
    *_cues("wechat", WEAK,
           "微信 wechat vx wx 卫星 朋友圈 公众号 视频号 企业微信 v vxin 维x 微x"),
]
QQ_WORDS = [
    *_cues("qq", STRONG, "qq号 扣扣号 企鹅号 抠抠 抠抠号 q号 qq群 扣扣群 企鹅群 q群 球球号 扣q"),
    *_cues("qq", WEAK, "qq 扣扣 企鹅 口口 球球 koukou qqmail qq邮箱 群号 加群 进群 入群"),
    *_cues("qq", ACCOUNT, "扣 q 群"),
]
PHONE_WORDS = [
    *_cues("phone", STRONG,
           _combine("留个 留下 留 给个 给我 发个 发我 报个 告诉我 要个 要一下 说下 加个",
                    "电话 手机 手机号 电话号码 手机号码 电话号 号码 座机")
           + " "
           + _combine("电话 手机 手机号 电话号码 手机号码 电话号 座机",
                      "多少 发我 给我 发一下 发下 报一下 留一下 告诉我 打给我")
           + " 打我电话 打我手机 打给我 打电话给我 给我打电话 给我打个电话 电话联系我 手机联系我 "
           "电联 callme call我 打我座机 有事打我 有事电话 电话找我 手机找我 拨打我"),
    *_cues("phone", WEAK, "电话 手机 手机号 号码 电话号码 手机号码 tel 座机 call 来电 热线 联系电话"),
]
PLATFORM_WORDS = [
    *_cues("external_platform", STRONG,
           "某宝 某鱼 某音 某书 某东 某手 某猫 某多多 淘口令 复制口令 复制这段 复制整段 复制这条 "
           "打开手机淘宝 打开淘宝 打开某宝 打开闲鱼 打开某鱼 打开抖音 打开某音 打开小红书 t宝 淘b "
           "tao宝 闲y 抖y tb店 tb搜 dy号 dy搜 xhs搜"),
    *_cues("external_platform", WEAK,
           "淘宝 天猫 京东 闲鱼 咸鱼 抖音 快手 小红书 唯品会 得物 微店 有赞 1688 阿里巴巴 苏宁 "
           "微博 旺旺 蘑菇街 当当 tb jd dy xhs taobao xianyu douyin xiaohongshu tmall 红书 小红薯 "
           "红薯 dou音 抖y 抖店 快手小店"),
]
LINK_WORDS = _cues(
    "link", STRONG,
    "点我主页 看我主页 进我主页 去我主页 主页有联系 主页联系 主页有微 主页有v 主页简介 看我简介 "
    "简介有联系 个人简介 签名有联系 浏览器打开 在我主页 主页里有 主页上有 在简介 简介里有 主页有我")
QR_WORDS = [
    *_cues("qr", STRONG,
           "扫码加 扫码进 扫码入 扫码关注 扫码联系 扫码添加 扫一扫加 扫我 扫这个码 "
           "识别二维码 识别图中 长按识别 长按二维码 二维码加 加我二维码 我的二维码 二维码名片 "
           "名片二维码 发你二维码 二维码发你 个人二维码 群二维码 扫描加 看我头像 头像有码 头像二维码 "
           "在我头像 头像里有 头像上有 在头像里 收款码 收钱码 收款二维码 个人收款"),
    *_cues("qr", WEAK, "二维码 扫码 扫一扫 扫描 qr qrcode 头像"),
]
OTHER_WORDS = [
    *_cues("other", STRONG,
           "私下交易 私下转账 私下付款 私下联系 私下沟通 私下加 线下交易 线下转账 线下付款 "
           "绕过平台 不走平台 平台外交易 站外交易 站外联系 转账给我 转我支付宝 转到我支付宝 "
           "转账到我 加好友 加我好友 加个好友 互加好友 私聊我 whatsapp telegram "
           "电报号 钉钉号 加我钉钉 飞书号 skype 陌陌号 同城面交 面交 当面交易 私下给你 私下便宜 "
           "私下优惠 私下打折 私下发你 直接转我 直接转给我 私下转我 转我就行 转给我就行 "
           "走支付宝 支付宝转我 支付宝转给我 私信我小号 加我小号 加小号 小号联系 我的小号是 "
           "小号私聊 小号找我 我的联系方式 有我的联系方式 拉你进群 拉你入群 拉你进去 拉你进来 "
           "进我的群 加我的群 转个账给我 转账给我 平台扣点 平台抽成 避开平台 绕开平台 不经过平台 "
           "不通过平台"),
    *_cues("other", WEAK, "联系方式 钉钉 飞书 电报 陌陌 邮箱 私聊 支付宝 email"),
]

# "薇❤" is written for 薇信: every contact word ending in 信 also counts with a heart.
WECHAT_WORDS += [CueWord(c.word[:-1] + "♥", c.channel, max(c.strength, STRONG))
                 for c in WECHAT_WORDS if c.word.endswith("信") and len(c.word) >= 2]

# "在抖音看到你们的直播": where a buyer saw the shop is not an invitation to go there.
_SEEN = "看到 上看到 里看到 刷到 上刷到 看见 上看见 搜到 上搜到".split()
SEEN_ON_PLATFORM = [c.word + seen for c in PLATFORM_WORDS if c.strength == WEAK for seen in _SEEN]

ALL_WORDS: list[CueWord] = [
    *WECHAT_WORDS, *QQ_WORDS, *PHONE_WORDS, *PLATFORM_WORDS, *LINK_WORDS, *QR_WORDS, *OTHER_WORDS,
]

# Look-alike phrases: a contact word inside one of these is not a contact word.
EXCLUSIONS = (
    "微信支付 微信付款 微信付 微信零钱 wechatpay 微信小程序里 微波 微型 微商城 "
    "qq糖 qq弹 q弹 q版 qq星 qq音乐 qq飞车 qq浏览器 qq宠物 qq堂 q萌 q彈 "
    "扣子 纽扣 扣款 扣除 扣减 扣分 扣费 扣件 扣环 按扣 暗扣 扣带 扣上 扣好 扣紧 卡扣 折扣 "
    "口口相传 企鹅玩偶 企鹅公仔 企鹅抱枕 企鹅图案 企鹅款 小企鹅 "
    "京东快递 京东物流 京东方 京东配送 "
    "卫星定位 卫星导航 卫星电视 卫星锅 卫衣 "
    "手机壳 手机膜 手机支架 手机套 手机链 手机绳 手机包 手机卡 "
    "微博热搜 朋友圈同款 抖音同款 小红书同款 淘宝同款 网红同款 "
    "群发 群聊天 进群须知 "
    "vip v领 v字 v型 v8 v10 v11 v12 v15 "
    "扫码支付 扫码付款 扫码付 扫码验证 扫码验真 扫码查 扫码看 扫码下载 扫码签收 扫描枪 "
    "二维码验 防伪二维码 二维码防伪 "
    "电话畅通 电话卡 号码牌 门牌号码 "
    "支付宝付款 支付宝支付 支付宝花呗 "
).split()

# Verbs that make a WEAK word a contact (checked just before / just after the word).
PRE_VERBS = {
    "wechat": "加 + 加我 加个 加下 加一下 我的 你的 我们的 有 私 搜 搜我 留 留个 发我 发到 发你 "
              "看我 看下我 看看我 翻我 翻翻我 去我 走 换 给个 要个 联系 通过 添加 关注 转 转我 转到 "
              "转账到 付到 打到",
    "qq": "加 + 加我 加个 加下 加一下 我的 你的 有 私 搜 留 留个 发我 发到 联系 通过 添加",
    "phone": "",
    "external_platform": "去 到 来 移步 转 搜 关注 打开 我们的 我们家 我家 我的 我们 上我们 回",
    "link": "",
    "qr": "",
    "other": "留 留个 留下 给 给个 发 发个 有 要 要个 加 换 告诉 交换 互换 私 来 转",
}
POST_VERBS = {
    "wechat": "号 联系 聊 上聊 找我 加我 搜 发你 发我 同号 号码 上发 里发 私聊 多少 是多少 给我 "
              "好友 群 上找 上联系 里聊 直接找 详聊 加一下 添加 通过 私发 私信 备注 拉你 交流 "
              "沟通 我发 号是",
    "qq": "号 联系 聊 找我 加我 搜 发你 发我 群 私聊 多少 是多少 给我 好友 加一下 添加 详聊 交流 "
          "沟通 拉你",
    "phone": "",
    "external_platform": "搜 店 旗舰店 直播 下单 关注 主页 链接 口令 号 私信 找我 联系 加我 "
                         "同名 上拍 上下单 拍更 买更 价格更低 我们家 搜同款 搜店 账号 "
                         "小店 专卖 看看",
    "link": "",
    "qr": "加我 加好友 好友 进群 入群 联系 添加 拉你 私聊 关注我",
    "other": "发我 给我 多少 是多少 发你 在主页 在简介 联系 私聊 找我 加我 上聊 转我 转账 付",
}
# How far after the word a post-verb may start (platform names get a longer reach:
# "京东也有我们家旗舰店").
POST_REACH = {"wechat": 2, "qq": 2, "external_platform": 8, "qr": 8, "other": 3}

# Characters that may stand between a contact word and its account ("微信号是：abc123").
FILLERS = frozenset("号是为码账的我叫名同手机也就在搜一下加私发个群+♥@吧呢哦啊呀了嘛即直接")

# A hit with no account is dropped when one of these comes just before it
# ("请勿加微信", "本店不支持私下交易").
NEGATIONS = (
    "勿 不要 别 不会 不能 不可 禁止 谨防 不支持 小心 不用 严禁 拒绝 不加 没有 没 不提供 防止 "
    "警惕 以免 避免 不接受 不允许 不得 无需 不需要 不许"
).split()

# --------------------------------------------------------------------------- number context

# Words after which a number is an order / tracking / product number, not a contact.
ORDER_CUES = (
    "订单 单号 运单 快递单 物流单 编号 编码 条码 条形码 货号 款号 型号 批号 批次 序列号 "
    "验证码 工单 sn imei 尾号 发票 会员号 快递 物流 顺丰 中通 圆通 韵达 申通 极兔 邮政 ems "
    "德邦 百世 包裹 单子 追踪 流水号 交易号 支付单 退款单 售后单 取件码 提货码 券码 密码"
).split()
# Words before a phone number that make it the buyer's delivery phone, not a contact offer.
DELIVERY_CUES = (
    "收货 收件 寄件 退货地址 寄回 退回 收货人 收件人 配送 签收 快递员 派件 快递小哥 取件 "
    "收货地址 收货信息 地址 寄到 寄给 邮寄 退件 退货请寄"
).split()
# Courier prefixes written right before a tracking number (SF1234567890123, YT…, JDVA…).
COURIER_PREFIXES = (
    "sf yt zto zt jt jtsd yd sto st ems db dpk jd jdv jdva jdvb jdvc jdx ky htky bs tt yunda gto "
    "uc ane best ytd yto ydd cn lp ss dhl ups fedex tnt"
).split()
# Units: a number right before one of these is a price, a size or a quantity.
UNITS = (
    "元 块 分 积分 % 件 个 斤 kg g cm mm m 码 天 月 年 号 次 张 ml 毫 米 折 岁 条 双 套 瓶 包 盒 "
    "台 份 w 克 公斤 寸 层 楼 室 秒 小时 度 人 位 颗 粒 支 只 本 页 mah"
).split()
# Numbers that are the platform's own service lines and public service numbers.
DEFAULT_HOTLINES = ("95010", "12315", "110", "120", "119", "12345")

# Top-level domains a link may end with; short-link services are covered by them.
LINK_TLDS = (
    "com cn net org top xyz cc vip shop me io info co tv ltd link club site online store tk "
    "biz wang ink fun icu life work live pro mobi asia app"
).split()

# pinyin syllable pairs whose homophones are WEAK contact words ("喂信", "桃宝").
HOMOPHONES = {
    "wechat": [("wei", "xin")],
    "qq": [("kou", "kou"), ("qi", "e"), ("qiu", "qiu")],
    "external_platform": [("tao", "bao"), ("xian", "yu"), ("dou", "yin")],
}
