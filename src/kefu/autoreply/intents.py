"""The standard intents of a store FAQ, with the platform's own phrasings of each.

Stores write a canonical question and two or three examples per entry; buyers ask in many more
ways. When an entry's ``intent`` is one of the standard intents below, the matcher also matches it
against these phrasings (``FaqMatcher(builtin_phrasings=True)``, the default), so a store gets a
good FAQ without writing twenty examples per entry. Entries with another intent, or none, match on
their own text only.

The phrasings are questions *before* a purchase or about the store's policy — never complaints
(those are for the after-sales guard).
"""

from __future__ import annotations

__all__ = ["STANDARD_INTENTS", "builtin_phrasings"]

_PHRASINGS: dict[str, tuple[str, ...]] = {
    "size_advice": (
        "帮我看看穿哪个码",
        "我该拍哪个码",
        "这款尺码正不正",
        "平时穿s码这款拍什么码",
        "身高一米六五体重一百二穿多大",
        "一百斤左右穿什么号",
        "胖一点的穿哪个码好",
        "这款是不是偏小要拍大一码",
        "有没有尺码表",
        "腰围多少穿m码",
    ),
    "ship_time": (
        "拍下以后隔几天寄",
        "付款后几天能发出",
        "今天能发货吗",
        "现在拍什么时候寄出",
        "发货快吗",
        "周末发不发货",
        "多久能发出来",
        "拍了之后几号发",
    ),
    "courier": (
        "一般走哪个快递",
        "能不能发顺丰",
        "可以指定快递吗",
        "走的什么物流",
        "发邮政吗",
        "快递用的哪一家",
        "能换成京东快递吗",
    ),
    "delivery_time": (
        "发货后几天到",
        "快递几天能送到",
        "寄到广州要几天",
        "多长时间能收到货",
        "正常多少天可以送到",
        "到我这边要多久",
        "物流要走几天",
    ),
    "return_policy": (
        "可以退换吗",
        "支持退货吗",
        "不喜欢能退吗",
        "尺码不合适可以换吗",
        "退换货运费谁出",
        "送不送退货险",
        "买了不合身能换大一码吗",
        "退货流程是什么",
        "几天内可以退",
        "收到了试穿不满意可以退回来吗",
    ),
    "discount": (
        "有优惠吗",
        "便宜点呗",
        "能优惠点吗",
        "有没有满减活动",
        "哪里领优惠券",
        "买两件能便宜吗",
        "现在有什么活动",
        "可以打折吗",
        "最低多少钱",
    ),
    "material": (
        "这是什么料子",
        "面料是棉的吗",
        "面料里有没有涤纶",
        "棉的比例高吗",
        "是不是化纤的",
        "布料舒服吗",
        "有没有弹力",
    ),
    "washing": (
        "可以水洗吗",
        "扔进洗衣机洗没问题吧",
        "只能干洗吗",
        "怎么清洗",
        "能用热水洗吗",
        "一定要手搓吗",
        "洗涤有什么要注意的",
    ),
    "color_diff": (
        "实物和图片有色差吗",
        "颜色跟照片一样吗",
        "图片是实拍吗",
        "颜色会不会比图片深",
        "是实物拍摄吗",
        "色差大吗",
    ),
    "stock": (
        "还有货吗",
        "有现货吗",
        "这个颜色还有货吗",
        "m码有没有货",
        "是不是卖完了",
        "什么时候补货",
        "缺货吗",
    ),
    "invoice": (
                "可以开票吗",
        "开票的话在哪里申请",
        "能开增值税专票吗",
        "开发票要加钱吗",
        "公司报销要发票",
    ),
    "remote_area": (
        "包邮吗",
        "偏远地区要加运费吗",
        "新疆能发吗",
        "西藏那边邮费怎么算",
        "青海要补邮费吗",
        "内蒙古发货吗",
        "运费多少",
    ),
    "shrink": (
        "第一次洗会不会缩",
        "下过水尺寸会变吗",
        "会不会洗小",
        "下水会缩吗",
        "洗完会变短吗",
    ),
    "pilling": (
        "会起球吗",
        "容易起球吗",
        "这面料经常穿会毛躁起球吗",
        "起不起毛球",
        "会不会勾丝",
    ),
    "gift": (
                "送东西吗",
        "买了有礼物吗",
        "下单会附送小东西吗",
        "买了有什么福利",
    ),
    "change_address": (
        "可以改地址吗",
        "收件人名字打错了能修改吗",
        "想修改收货地址",
        "电话填错了怎么改",
        "能换个收件人吗",
        "收货信息能修改吗",
    ),
    "cancel_order": (
                "拍错了能取消吗",
        "不想要了可以取消吗",
        "刚付款能撤单吗",
        "买重复了想退掉一单",
        "还没寄出的订单可以作废吗",
    ),
    "price_protect": (
        "你们降价以后我能拿回差的钱吗",
        "刚买就降价怎么办",
        "买贵了可以退差价吗",
        "有价保吗",
        "保价多少天",
        "活动价比我买的便宜能补吗",
    ),
}

STANDARD_INTENTS: frozenset[str] = frozenset(_PHRASINGS)
"""The intents the platform knows phrasings for."""


def builtin_phrasings(intent: str) -> tuple[str, ...]:
    """The platform's phrasings of a standard intent (empty for any other intent)."""
    return _PHRASINGS.get(intent, ())
