"""The after-sales guard, and greetings.

A wrong automatic answer is worse than none, and never worse than when the buyer has a problem: a
torn dress, a fake, a parcel that never came, a refund that has not arrived. Those messages are
never answered from the FAQ; :func:`classify_after_sales` names the problem so the caller can point
the buyer to the after-sales flow and hand the conversation to a person.

The guard tells a *problem* from a *policy question* about the same subject:

- "不合适能退吗", "怎么退货" — a question about the return policy: the FAQ answers it;
- "收到的衣服破了要退款" — a problem with an order: the guard takes it.
- "会起球吗" is a question; "穿了两天就起球了" is a complaint.
- "退款多久到账" is a question; "退款怎么还没到账" is a problem.

It reads the text normalised *with* its particles (吗 and 了 are what tell the two apart).

Greetings (在吗, 你好) and small talk (谢谢, 好的) are recognised too: they are not answered from
the FAQ either; the caller may send a welcome.
"""

from __future__ import annotations

import re

from kefu.autoreply.normalize import normalize

__all__ = [
    "AFTER_SALES_CATEGORIES",
    "classify",
    "classify_after_sales",
    "classify_small_talk",
    "strip_greeting",
]

_N = r"(?:\d+|几|好几|两)"  # a count, after normalisation
_ITEM = r"(?:件|个|条|双|只|样|套|包|盒|袋|瓶)"

# Checked in this order; the first category whose pattern matches wins.
_CATEGORY_PATTERNS: tuple[tuple[str, str], ...] = (
    ("counterfeit",
     r"假货|(?<![放休请度寒暑年病婚产])假的|假冒|仿品|高仿|山寨|冒牌|盗版|仿冒|a货|假名牌|售假|"
     r"(?<!是)不是正品|非正品|(?<!是)不是真的|(?<!是)不是原装|不是官方"),
    ("damaged",
     r"坏了|坏的|坏掉|弄坏|摔坏|压坏|损坏|破损|破了|破的|破洞(?!款|设计|牛仔|裤|风|版)|"
     r"有(?:个|1个|一个|一些|好多|很多)?(?:小)?洞|烂了|烂的|裂了|裂开|碎了|断了|开胶|脱胶|"
     r"开线|脱线|掉扣|扣子掉|拉链(?:坏|拉不|卡)|划痕|刮花|压扁|压变形|凹了|漏了|漏水|污渍|"
     r"有污|脏了|很脏|脏的|发霉|霉点|瑕疵|残次|是旧的|旧的|被穿过|穿过的|被人穿过|二手的|"
     r"(?<!能)不能用|用不了|没法用|打不开"),
    ("wrong_item",
     r"发错|寄错|发成了|给错|发的不是|收到的不是|不是我(?:要|买|拍|下单|订|选)的|"
     r"(?:和|跟|与)我(?:买|拍|订|选)的不一样|货不对板|货不对版|(?:与|和|跟)?描述不符|"
     r"(?:颜色|尺码|码数|款式|型号|规格)不对|错发"),
    ("missing",
     r"少发|漏发|少寄|漏寄|少了" + _N + "?" + _ITEM + "|少件|缺件|缺了|少给|没发(?:全|齐)|"
     r"只收到(?:了)?" + _N + "|"
     r"(?:赠品|发圈|礼物|小礼物|配件|吊牌|说明书)(?:也)?(?:没|没有|未)(?:收到|给|发|送|看到)|"
     r"没(?:有)?(?:收到|看到|见到|给)(?:赠品|礼物|小礼物|发圈|配件)"),
    ("refund",
     r"退款[^ ]{0,6}(?:没|未|不|还没|还不|没有)(?:到|到账|收到|处理|退|给|同意|通过|回)|"
     r"(?:钱|款|退款)(?:还|怎么还|一直)?(?:没|未)(?:退|到|收到|到账|回来)|"
     r"没(?:有)?(?:退|收到)(?:款|钱|退款)|"
     r"不(?:给|肯|让|同意)(?:我)?(?:退|换)|拒绝(?:了)?(?:我的)?(?:退款|退货|售后|退换)|"
     r"退款(?:失败|被拒|被驳回|驳回)|退货[^ ]{0,8}(?:不处理|不退|没退|不签收|拒收)|"
     r"(?:必须|马上|立刻|赶紧|给我|快点)(?:退款|退钱)|退钱|退款(?:去|到)哪(?:了|里了)|"
     r"退款进度|钱去哪了|钱(?:退)?(?:到)?哪(?:里)?去了|退哪去了|退到哪(?:里)?去了|(?:不|没|没有|一直不|还不|还没)(?:处理|同意|通过|审核|理)[^ ]{0,6}"
     r"(?:退款|退货|售后)"),
    ("lost_parcel",
     r"丢件|丢了|弄丢|寄丢|(?:快递|包裹|物流|件)[^ ]{0,4}(?:丢|不见|没了)|"
     r"物流(?:一直|还是|都|怎么)?(?:不动|没动|没更新|不更新|停了|卡|没变)|"
     r"(?:快递|包裹|物流)[^ ]{0,6}(?:不动|没动|卡住|卡在|停在|停了|没更新|不更新)|"
     r"没(?:有)?物流(?:信息|记录)|查不到物流|物流(?:信息)?查不到|"
     + _N + r"天(?:了)?(?:都|还|一直)?没(?:动|更新)|被退回|退回给(?:商家|卖家)了|派送失败|"
     r"无法派送|投递失败|(?:快递|物流)(?:有)?异常|显示退回"),
    ("not_received",
     r"没收到|没有收到|未收到|还没收到|收不到|没拿到|没有拿到|(?:显示|已经|被)(?:已)?签收|签收了|"
     r"代签|冒签|(?:怎么|为什么|为啥)还没(?:到|来|送)|(?:一直|还|都)没(?:到|送到|送来)|"
     r"没(?:有)?(?:送来|送到|送过来|派送|到货)|一直(?:显示)?(?:派送中|运输中|在途)|"
     + _N + r"天(?:了)?(?:还|都)没(?:到|收到)|等了(?:好|\d+|几|好几)(?:天|个星期|周|个月)"),
    ("not_shipped",
     r"(?:怎么|为什么|为啥|一直|都|到现在|至今)(?:还)?(?:没|不)(?:发货|发|寄|发出)|"
     + _N + r"天(?:了)?(?:还|都)(?:没|不)(?:发|寄)|催(?:一下|下)?发货|什么时候才(?:能)?发"),
    ("quality",
     r"质量(?:太|很|真|好|特别|非常|也太|这么)?(?:差|烂|次|不好|有问题)|什么(?:破)?质量|"
     r"(?:起球|缩水|掉色|褪色|变形|起皱|发黄|串色|染色|掉毛|勾丝|开裂|缩|变小|变短|起毛)"
     r"(?:了|得|的厉害|严重|很严重|太严重|很厉害|太厉害)|"
     r"(?:一洗|洗了" + _N + r"次|洗" + _N + r"次|穿了" + _N + r"次|穿" + _N + r"次|"
     r"穿了" + _N + r"天|才穿|刚穿|穿了没几天|洗完)[^ ]{0,6}就|"
     r"线头(?:很多|太多|好多|一堆|多得|多的|到处)|(?:很多|好多|一堆|全是|都是)线头|"
     r"(?<!没)(?:有|一股|股|很大|好大|太大|刺鼻|难闻)(?:的)?(?:异味|味道|怪味|臭味|气味)(?!吗|么|不)|"
     r"味道(?:很|太|好|特别)?(?:大|重|难闻|刺鼻|冲)(?!吗|么|不)|甲醛|过敏|起疹子|发痒|刺痒|"
     r"色差(?:太|很|好|特别|也太)?(?:大|严重)了|颜色(?:差|偏)(?:太多|很多|好多)了|"
     r"(?:和|跟|与)(?:图片|图|描述|详情)(?:完全|根本|严重|一点都|一点也)?(?:不一样|不符|"
     r"差(?:太|很|好)多)(?!吗|么|不)|"
     r"做工(?:太|很|真|好)?(?:差|粗糙)|粗糙|不合格|次品|劣质|残次品|跟图片两样|完全两样"),
    ("compensation", r"赔偿|赔钱|赔我|补偿|赔付|假一赔|索赔|要求赔|精神损失"),
    ("complaint",
     r"投诉|差评|骗子|骗人|骗钱|坑人|坑爹|黑店|垃圾(?!袋|桶|分类)|欺诈|忽悠|被骗|上当|举报|"
     r"12315|消协|消费者协会|工商局|市场监管|曝光|维权|报警|起诉|律师|气死|太过分|过分了|"
     r"什么玩意|破玩意|破东西|(?<![a-z])滚(?!筒|轮|动|珠|边|烫|雪)|妈的|他妈|tmd|(?<![a-z])sb(?![a-z])|"
     r"傻逼|恶心|无良|不要脸|态度(?:太|很|真|好)?(?:差|恶劣)|服务(?:太|很|真)?差|"
     r"再也不(?:买|来)|失望|不靠谱"),
)
_COMPILED = tuple((name, re.compile(pattern)) for name, pattern in _CATEGORY_PATTERNS)

AFTER_SALES_CATEGORIES: tuple[str, ...] = tuple(name for name, _pattern in _CATEGORY_PATTERNS)
"""Every category :func:`classify_after_sales` can return, in priority order."""


# "都一周了", "等了三天了": a buyer counting the days is waiting for something that is late.
_OVERDUE = re.compile(
    r"(?:都|已经|等了)(?:快|有)?(?:\d+|几|好几|两|半)(?:天|周|个星期|星期|个月|月|小时)(?:多)?了"
)


def _after_sales_normalised(text: str) -> str | None:
    for name, pattern in _COMPILED:
        if pattern.search(text):
            return name
    if _OVERDUE.search(text):
        if "退" in text or "钱" in text:
            return "refund"
        if "发" in text:
            return "not_shipped"
        return "not_received"
    return None


def classify_after_sales(text: str) -> str | None:
    """The after-sales problem in a buyer's message, or None.

    Categories: ``counterfeit``, ``damaged``, ``wrong_item``, ``missing``, ``lost_parcel``,
    ``not_received``, ``not_shipped``, ``refund``, ``quality``, ``compensation``, ``complaint``.
    """
    return _after_sales_normalised(normalize(text, strip_particles=False))


# --------------------------------------------------------------------------- greetings, small talk

_GREETING = (
    r"在吗|在么|在嘛|在不在|在的吗|在没|有人吗|有人在吗|有没有人|有人没|你好|您好|你们好|哈喽|"
    r"哈罗|hello|hi|hey|嗨|早上好|上午好|中午好|下午好|晚上好|早安|晚安|亲爱的|亲亲|亲|老板|"
    r"掌柜的|掌柜|店家|客服|美女|小姐姐|小哥哥|帅哥|请问|咨询一下|咨询下|咨询|问一下|问下|"
    r"打扰了|打扰一下|打扰下|麻烦问下|麻烦问一下|我想问一下|我想问下|我想问|想问一下|想问下|"
    r"问个问题|在线吗|人呢|喂|在"
)
_SMALL_TALK = (
    r"谢谢|多谢|感谢|谢了|谢啦|好的|好滴|好嘞|好哒|好吧|嗯嗯|嗯|哦哦|噢|ok|okay|知道了|"
    r"明白了|明白|了解了|了解|收到|行吧|行|可以的|可以|拜拜|再见|辛苦了|辛苦|哈哈|嘿嘿|呵呵|"
    r"没事了|没事|没问题|好|对|是的|是|不用了|算了"
)
_FILLER = r"[\s吗嘛呀啊哦呗啦噢喔哇咧哟嘞呦呢哈嗯呐滴吧么咯~了]"
_GREETING_ONLY = re.compile(rf"(?:{_GREETING}|{_FILLER})+")
_GREETING_WORD = re.compile(_GREETING)
_SMALL_TALK_ONLY = re.compile(rf"(?:{_GREETING}|{_SMALL_TALK}|{_FILLER})+")
_LEADING_GREETING = re.compile(
    r"^(?:(?:在吗|在么|在不在|有人吗|有人在吗|你好|您好|你们好|哈喽|hello|hi|嗨|亲亲|亲|请问|"
    r"咨询一下|咨询下|问一下|问下|打扰了|打扰一下|麻烦问下|麻烦问一下|我想问一下|我想问下|"
    r"想问一下|想问下|我想问|问个问题|(?:老板|掌柜|店家|客服|美女|小姐姐|帅哥)(?=\s|在|你好|您好))"
    r"\s*)+"
)


def classify_small_talk(normalised: str) -> str | None:
    """"greeting" when the text (normalised, particles kept) is only a greeting, "small_talk" when
    it is only thanks, acknowledgement or the like, else None."""
    text = normalised.strip()
    if not text:
        return "small_talk"
    if _GREETING_ONLY.fullmatch(text) and _GREETING_WORD.search(text):
        return "greeting"
    if _SMALL_TALK_ONLY.fullmatch(text):
        return "small_talk"
    return None


def strip_greeting(normalised: str) -> str:
    """The text without a leading greeting ("你好 请问什么时候发货" → "什么时候发货")."""
    stripped = _LEADING_GREETING.sub("", normalised)
    return stripped if stripped.strip() else normalised


def classify(text: str) -> str | None:
    """What kind of message this is, before any FAQ matching: an after-sales category
    (see :func:`classify_after_sales`), "greeting", "small_talk", or None for a question."""
    normalised = normalize(text, strip_particles=False)
    return _after_sales_normalised(normalised) or classify_small_talk(normalised)
