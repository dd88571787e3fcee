"""Concepts: the synonym table for shopping Chinese.

Buyers ask the same thing a dozen ways — 码, 尺码, 号, 穿多大; 发货, 发出, 寄出; 快递, 物流, 顺丰.
Each way of saying a thing maps to one *concept*, and the matcher compares questions by their
concepts as well as by their characters, so "几号发出" finds "什么时候发货".

A concept has an id (``ship``), a label for explanations (``发货``), a weight, and the surface
forms that express it; a form that says two things at once names the other concept after a colon
(``几天发:howlong``). Surface forms are normalised with :func:`kefu.autoreply.normalize.normalize`
when the table is built, so they meet the buyer's text in the same form, and are found with one
Aho-Corasick pass (a form inside a longer one does not count: 送到 is "arrive", not "gift"). A few concepts come from
regular expressions instead (heights and weights, S/M/L sizes, 满200减20).

*Veto* concepts mark questions that a store FAQ should not answer from a nearby entry: buying in
bulk, comparing or recommending products, contacting off-platform, the buyer's age, a physical
shop, whether a bot is answering. When a question carries a veto concept that the best entry does
not have, the matcher answers nothing.

Typos: buyers type pinyin and pick the wrong character (包油 for 包邮, 尺马 for 尺码). When
nothing matched, :meth:`ConceptTagger.correct` rewrites runs of characters that *sound* like a
surface form of two or more characters and the matcher tries once more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import ahocorasick

from kefu.autoreply.normalize import normalize
from kefu.kit import pinyin

__all__ = ["CONCEPTS", "Concept", "ConceptHit", "ConceptTagger", "default_tagger"]


@dataclass(frozen=True)
class Concept:
    id: str
    label: str
    forms: tuple[str, ...]
    weight: float = 1.0
    veto: bool = False
    aspect: bool = False


# Aspects say what *about* a topic is asked (when, how long, where, can I change it) and are
# shared by many entries; a match that rests on aspects alone is weak (see the matcher).
_ASPECTS = frozenset(
    "when howlong order price diff still_have modify merchant contact where online apply handle "
    "timeout platform urgent who_pays color wash_any clock".split()
)


def _c(id_: str, label: str, forms: str, weight: float = 1.0, veto: bool = False) -> Concept:
    return Concept(id_, label, tuple(forms.split()), weight, veto, id_ in _ASPECTS)


CONCEPTS: tuple[Concept, ...] = (
    # ---------------------------------------------------------------- size and fit
    _c("size", "尺码", "尺码 码数 码子 尺寸 推荐个码 推荐尺码 推荐码数 推荐一下尺码 推荐下尺码 什么码 哪个码 几码 多大码 多大的码 哪码 什么号 哪个号 "
       "穿几号 穿多大 选多大 拍多大 买多大 要多大 穿什么码 尺码表 码表 选码 号型 几号码 "
       "哪个尺码 什么尺码 拍哪个码 穿哪个 选哪个码 码合适 哪个码数"),
    _c("fit", "大小合身", "偏大 偏小 正码 标准码 大1码 小1码 拍大 拍小 买大 买小 合身 宽松 修身 "
       "紧身 显胖 会不会小 会不会大 会小 会大 穿着小 穿着大 紧不紧 偏瘦 偏胖 版型 大一号 "
       "小一号 大1号 小1号 偏紧 偏松 穿得下 穿不下 勒 松紧"),
    _c("body", "身材", "身高 体重 腰围 胸围 臀围 肩宽 腿长 上围 下围 三围 微胖 小个子 个子 高个 "
       "大肚子 肚子 骨架 斤 胯宽 手臂粗"),
    # ---------------------------------------------------------------- shipping and delivery
    _c("ship", "发货", "发货 发出 寄出 发走 出货 出库 发件 能发 今天发:when 明天发:when 当天发:when "
       "几天发:howlong 多久发:howlong 什么时候发:when 马上发:when 发出去 寄出去 安排发货 打包 "
       "揽收 就发 就能发 立即发 给发 给我发 帮我发 安排发 什么时候给发:when 发货时间:when 发了没 什么时候寄:when 寄出来 发不发 几号发:when 哪天发:when"),
    _c("when", "什么时候", "什么时候 何时 几号 哪天 今天 明天 后天 当天 马上 立刻 多会儿 "
       "现在 周末 节假日 过年 今晚", 0.6),
    _c("howlong", "多久", "多久 几天 多长时间 多少天 要多久 大概几天 多少时间 多快 时效 几日 "
       "要几天 需要几天 快不快 慢不慢 几个工作日 多少个工作日"),
    _c("arrive", "送到", "到货 送货 送货上门 签收 收到 到手 送到 寄到 能到 送达 到达 到家 才到 收货 几天到:howlong 多久到:howlong "
       "拿到 能收到 可以收到 送过来 寄过来 发到 运到"),
    _c("courier", "快递", "快递 物流 快递公司 哪家快递 什么快递 配送 运送 指定 发什么快递 哪家 "
       "用的哪家 快递方式 走什么"),
    _c("courier_brand", "快递公司", "顺丰 中通 圆通 申通 韵达 邮政 ems 京东快递 京东物流 极兔 "
       "百世 德邦 天天快递 宅急送 菜鸟 sf 邮政快递"),
    _c("order", "下单", "下单 拍下 付款 购买 买了 拍了 订单 付完款 已付款 支付 拍 买", 0.4),
    # ---------------------------------------------------------------- returns and refunds
    _c("return", "退换", "退货 退换 退换货 能退 可以退 怎么退 退掉:cancel 退回 寄回 包退 退吗 退不退 "
       "要退 想退 退回去 寄回去 退了 能不能退 可不可以退 可以退货 退"),
    _c("exchange", "换货", "换货 换码 换个 换1个 换大 换小 换尺码 调换 能换 可以换 换颜色 换色 "
       "换成 换吗 换一下 换1下 包换 换号 换一换 换 换个大 换个小 换1个大 换1个小 换成大 换成小 "
       "换大1码 换小1码 换大1号 换小1号 换个大1码 换个小1码 换1个大1码 换1个小1码 换成大1码 "
       "换成小1码 换大码 换小码 换个大1号 换个小1号"),
    _c("no_reason", "无理由", "无理由 7天无理由 7天退换:return 运费险 退货险 7天包退 7天内退"),
    _c("unfit", "不合适", "不合适 不喜欢 不合身 不好看 穿着不合适 不适合 大了 小了 买大了 买小了 拍大了 "
       "拍小了 穿着大了 穿着小了"),
    _c("unwanted", "不想要", "不想要 不要了 不想买了 不买了", 0.7),
    _c("refund", "退款", "退款 退钱 退的钱 退款申请:apply 申请退款:apply 只退款 仅退款 只退钱 不退货"),
    _c("after_sales", "售后", "售后 申请售后:apply 售后服务 售后申请:apply"),
    # ---------------------------------------------------------------- price
    _c("discount", "优惠", "优惠 便宜 满减 优惠券 券 折扣 打折 活动 红包 降点 少点 抹零 促销 "
       "特价 砍价 讲价 议价 还价 能少 划算 领券 会员价 最低价 优惠价 便宜点 少一点 便宜一点 "
       "折 谈价 谈价格 让点 少算 减 包邮价 福利价"),
    _c("price", "价格", "价格 多少钱 价钱 售价 原价 贵 价", 0.6),
    _c("price_protect", "差价", "降价 差价 补差价 退差价 买贵 价保 保价 便宜了 降了 掉价 价格变了 "
       "又便宜 变便宜"),
    # ---------------------------------------------------------------- the product
    _c("material", "面料", "面料 材质 材料:evidence 成分 纯棉 全棉 棉的 含棉 含棉量 棉 涤纶 聚酯纤维 聚酯 "
       "氨纶 锦纶 粘胶 莫代尔 真丝 桑蚕丝 羊毛 羊绒 亚麻 雪纺 化纤 布料 料子 什么料 质地 "
       "棉麻 针织 冰丝 天丝 什么布 面料成分 含量"),
    _c("quality", "质量", "质量 品质 做工 质感", 0.7),
    _c("wash", "洗涤方法", "机洗 手洗 洗衣机 洗涤 水洗 干洗 清洗 怎么洗 洗的时候 晾 晾晒 漂白 "
       "烘干 熨 熨烫 热水 冷水 洗法 洗护 手搓 洗衣液 能洗 可以洗 怎么清洗 洗标 甩干 脱水"),
    _c("wash_any", "洗", "洗 过水 下水 洗了 洗完 洗过", 0.6),
    _c("shrink", "缩水", "缩水 缩 变小 缩小 变短 缩码 回缩 变紧"),
    _c("pilling", "起球", "起球 起毛 毛球 起毛球 掉毛 勾丝 起不起球"),
    _c("fade", "掉色", "掉色 褪色 染色 串色 掉不掉色"),
    _c("color", "颜色", "颜色 色 什么色", 0.7),
    _c("picture", "图片", "图片 照片 图 实物 实拍 滤镜 买家秀 卖家秀 图上 实物图 详情图", 0.8),
    _c("color_diff", "色差", "色差 偏色 和图片一样 跟图片一样 颜色差 颜色一样 颜色准 颜色正 "
       "颜色准不准 颜色还原 颜色真实"),
    _c("diff", "差别", "一样 不一样 差别 差很多 差多少 区别 差异 暗 偏暗 偏亮 更亮 偏深 偏浅 深 浅 "
       "差距 出入 差不多 同一个", 0.7),
    _c("color_name", "颜色名", "黑色 白色 红色 蓝色 灰色 粉色 绿色 黄色 紫色 卡其色 卡其 米色 "
       "米白 杏色 咖啡色 驼色 藏青 藏蓝 酒红 军绿 橙色 棕色 银色 金色 深色 浅色 黑的 白的 "
       "奶白 雾霾蓝 焦糖色", 0.7),
    _c("stock", "有货", "有货 现货 没货 缺货 售罄 卖完 卖光 断货 库存 补货 有没有货 还有货 "
       "没有货 卖没了 抢光 下架"),
    _c("still_have", "还有", "还有 还能买 能买 买到 能拍 能下单 还能拍 有没有 还剩", 0.5),
    # ---------------------------------------------------------------- invoice, shipping cost
    _c("invoice", "发票", "发票 开票 抬头 税号 专票 普票 增值税 报销 电子发票 开具"),
    _c("remote", "偏远地区", "偏远 偏远地区 新疆 西藏 青海 内蒙古 内蒙 宁夏 甘肃 乌鲁木齐 拉萨 "
       "喀什 伊犁 西宁 银川 克拉玛依 林芝 日喀则 阿克苏 库尔勒 哈密 呼和浩特 包头 兰州"),
    _c("freeship", "包邮", "包邮 运费 邮费 免运费 免邮 补运费 补邮费 快递费 加运费 包不包邮 "
       "邮资 运费多少"),
    _c("overseas", "港澳台海外", "香港 澳门 台湾 海外 国外 港澳台 美国 日本 新加坡 国际 出国", 1.0,
       veto=True),
    _c("place", "地区", "北京 上海 广州 深圳 杭州 成都 重庆 武汉 南京 西安 天津 苏州 长沙 郑州 "
       "东莞 青岛 沈阳 宁波 昆明 大连 厦门 福州 无锡 合肥 济南 哈尔滨 长春 石家庄 南昌 贵阳 "
       "南宁 太原 海口 三亚 广东 浙江 江苏 山东 河南 河北 湖南 湖北 四川 福建 安徽 江西 广西 "
       "云南 贵州 山西 陕西 辽宁 吉林 黑龙江 海南 东北 外省 本地 同城 佛山 温州 珠海 泉州"),
    # ---------------------------------------------------------------- gifts, orders
    _c("gift", "赠品", "赠品 礼物 小礼物 赠送 送什么 送的 送东西 有送 送点 附送 礼品 小样 送吗 "
       "送不送 买了送:order 买1送1 送 赠 送个"),
    _c("address", "地址", "地址 收货地址 收件地址 收货人 收件人 门牌号 地区 改地址:modify 地址填错:wrong_input "
       "收货信息 收件信息"),
    _c("phone", "电话", "电话 手机号 号码 打电话 手机号码 电话号码", 0.8),
    _c("modify", "修改", "改 修改 更改 变更 改一下 改下 换地址:address", 0.8),
    _c("wrong_input", "填错", "填错 写错 输错 弄错 搞错 填错了 写错了"),
    _c("wrong_order", "拍错", "拍错 买错 下错 拍多 买多 拍重 多拍 重复下单 选错 拍错了"),
    _c("unshipped", "未发货", "还没发货 没发货 未发货 还没发 没寄出 还没寄 发货前 还没寄出 没有发货"),
    _c("cancel", "取消", "取消 取消订单 撤销 撤单 退单 作废 撤回 不拍了"),
    # ---------------------------------------------------------------- the help desk
    _c("kefu", "客服", "客服 人工客服 在线客服 店铺客服 卖家客服"),
    _c("merchant", "商家", "卖家 商家 店家 店铺 店主 掌柜 老板 店里", 0.4),
    _c("contact", "联系", "联系 咨询 聊天 沟通 联络 找 问问 问卖家:merchant 问商家:merchant "
       "问店家:merchant 问客服:kefu 找卖家:merchant 找商家:merchant 找店家:merchant "
       "找客服:kefu 私信", 0.6),
    _c("where", "在哪", "在哪 哪里 在哪里 哪儿 入口 怎么找 找不到 按钮 位置 从哪 去哪 在哪儿", 0.6),
    _c("hours", "工作时间", "上班 下班 工作时间 营业 几点 晚上 半夜 凌晨 早上 休息 值班 "
       "营业时间 在线时间 几点到几点 夜里 深夜"),
    _c("online", "在线", "在线 有人 回复 回 不回 秒回", 0.5),
    _c("bot", "机器人", "机器人 自动回复 真人 智能客服 人工 秒回的 自动的", 1.0, veto=True),
    _c("apply", "申请", "申请 提交 发起 办理", 0.6),
    _c("handle", "处理", "处理 审核 同意 受理 回应 不理 不理我 不管 不处理 没处理 没反应 拒绝", 0.8),
    _c("timeout", "超时", "超时 一直不 24小时 一直没 好几天 一天了 几天了 没人理 不回应 半天 老半天 好久", 0.8),
    _c("negotiation", "协商不成", "协商不成 协商失败 协商不了 谈不拢 谈不妥 沟通无果 协商无果 "
       "沟通不了 说不通 协商"),
    _c("intervene", "平台介入", "平台介入 介入 找平台 平台处理 仲裁 平台来处理 客服介入 小二 "
       "让平台"),
    _c("platform", "平台", "平台 官方", 0.5),
    _c("evidence", "证据", "证据 凭证 举证 截图 聊天记录 拍照 拍照片 聊天截图 证明 提供照片 上传照片 照片证据 "
       "提供什么 需要提供 要提供 上传什么 要准备什么 准备哪些 "
       "准备什么材料 哪些材料"),
    _c("result", "结果", "结果 判定 裁决 决定 处理结果 出结果 判了 判 判我 结论"),
    _c("execute", "执行", "执行 强制 保证金 不执行 不按"),
    _c("appeal", "复核", "复核 申诉 异议 不服 不公平 重新审核 再申请 再次申请 不认可 不接受 不同意结果 "
       "有意见 不合理"),
    _c("report", "举报", "举报 投诉 反映 反馈"),
    _c("fake", "假货", "假货 假冒 仿品 高仿 山寨 售假 冒牌 仿冒 盗版 正品 假的 仿冒品"),
    _c("false_ad", "虚假宣传", "虚假宣传 夸大 宣传 描述不符 不符 虚假 夸大其词 言过其实"),
    _c("offsite", "站外联系", "微信 qq vx 加v 二维码 扫码 私下 站外 转账 私聊 加好友 线下交易 "
       "微信号 wx 威信 薇信 加我", 1.0, veto=True),
    _c("hotline", "平台热线", "热线 95010 客服电话 人工电话 平台电话"),
    _c("urgent", "紧急", "紧急 急事 很急 着急 急", 0.8),
    _c("arrival", "到账", "到账 原路 原路退回 退到哪 退到 银行卡 信用卡 余额 支付方式 付款方式 "
       "花呗 退回到 钱去哪"),
    _c("types", "类型", "类型 哪几种 种类 几种 哪些方式 有哪些 补寄 补发 什么方式 哪种"),
    _c("who_pays", "谁承担", "谁出 谁付 谁承担 自己出 自己付 谁负责 买家承担 卖家承担"),
    # ---------------------------------------------------------------- questions no FAQ answers
    _c("bulk", "批发", "批发 批量 采购 大量 团购 代理 加盟 代发 一件代发 拿货 进货 合作 定制 "
       "订做 开店 分销 货源 批发价", 1.0, veto=True),
    _c("compare", "对比推荐", "哪个好 哪个更 哪款好 哪个好看 哪款更 对比 比较一下 同款 搭配 "
       "配什么 怎么搭 好不好看 哪个适合 帮我挑 配裤子 配鞋 推荐一款 推荐几款 推荐别的 "
       "推荐个别的 推荐一些 推荐点 有什么推荐 推荐下别的 推荐一个 推荐个", 1.0, veto=True),
    _c("age", "年龄", "年纪 年龄 岁数 多大年纪 老人 小孩 学生 中年", 1.0, veto=True),
    _c("model", "模特", "模特 模特儿 模特穿 模特身高 模特多高 平模 模特图:picture", 1.0, veto=True),
    _c("shop_location", "实体店", "实体店 门店 线下店 专柜 哪个城市 在哪个城市 店在哪", 1.0,
       veto=True),
    _c("origin", "发货地", "发货地 发货地址 哪里发货 从哪发 从哪里发 哪里发的 哪发货 仓库 "
       "发货城市 从哪寄 哪里寄出 发货仓", 1.0, veto=True),
    _c("video", "视频", "视频:evidence 小视频:evidence 实拍视频:evidence 拍视频:evidence", 1.0,
       veto=True),
    _c("skin", "肤色", "黄皮 白皮 黑皮 肤色 显白 显黑 皮肤黑 皮肤白", 1.0, veto=True),
    _c("thickness", "厚薄", "厚不厚 厚吗 薄不薄 薄吗 保暖 冷不冷 透不透 会透 透明 加绒 厚度 偏厚 "
       "偏薄 暖和 热不热", 1.0, veto=True),
    _c("season", "季节", "季节 春天 夏天 秋天 冬天 春季 夏季 秋季 冬季 春秋", 1.0, veto=True),
    _c("install", "安装", "安装 上门 组装 装好 师傅", 1.0, veto=True),
    _c("payment", "付款方式", "货到付款 分期 先用后付 白条 分期付款 到付款", 1.0, veto=True),
    _c("presale", "预售", "预售 定金 尾款 付定金 预定", 1.0, veto=True),
    _c("warranty", "保修", "保修 质保 保修期 质保期 三包 保固", 1.0, veto=True),
    _c("member", "会员", "会员 会员卡 积分 vip", 1.0, veto=True),
    _c("live", "直播", "直播 直播间 主播 视频号", 1.0, veto=True),
    _c("link", "链接", "链接 拍哪个链接 发个链接 商品链接", 1.0, veto=True),
    _c("packaging", "包装", "包装 礼盒 礼品袋 购物袋 手提袋 礼品包装 包装盒", 1.0, veto=True),
    _c("alteration", "改衣", "改短 改长 改小 改大 裤长 剪短 裁短 免费改 锁边", 1.0, veto=True),
    _c("health", "孕哺", "孕妇 孕期 哺乳 怀孕", 1.0, veto=True),
    _c("shelf_life", "保质期", "保质期 生产日期 过期 有效期", 1.0, veto=True),
    _c("review", "评价", "评价 好评 差评 晒图 返现 好评返现 追评", 0.8, veto=True),
    _c("order_status", "查订单", "到哪了 到哪里了 查物流 查快递 查一下物流 查下物流 物流信息 单号 "
       "快递单号 订单号 运单号 查订单", 1.0, veto=True),
    _c("weather", "闲聊", "天气 吃饭 吃了吗 下雨 好无聊 心情", 1.0, veto=True),
)

_SIZE_LABEL = r"(?:xxxl|xxl|xl|xs|[2-6]xl|s|m|l)"
_REGEX_CONCEPTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\d{2,3}(?:\.\d)?(?:cm|kg|斤)"), "body"),
    (re.compile(r"(?<![\d.])1[4-9]\d(?![\d.%元件块天a-z])"), "body"),
    (re.compile(rf"(?<![a-z\d]){_SIZE_LABEL}(?![a-z])"), "size_label"),
    (re.compile(rf"(?:穿|拍|选|买|要){_SIZE_LABEL}(?![a-z])|(?<![a-z]){_SIZE_LABEL}还是{_SIZE_LABEL}"
                rf"(?![a-z])"), "size"),
    (re.compile(r"满\d+元?减|\d+减\d+|(?<![\d.])\d(?:\.\d)?折"), "discount"),
    (re.compile(r"(?<![\d.])(?:[1-9]\d{2,}|[1-9]\d)\s*(?:件|个|套|条|箱)"), "bulk"),
    (re.compile(r"\d+岁"), "age"),
    (re.compile(r"(?<![\d.])\d{1,2}点(?!\d)"), "clock"),
)
_EXTRA_LABELS = {"size_label": "S/M/L码", "clock": "几点"}

# Concepts implied by others together: washing + "smaller" is shrinking (洗完会不会小1码).
_IMPLIED: tuple[tuple[frozenset[str], str, str], ...] = (
    (frozenset({"wash_any", "fit"}), "小", "shrink"),
)


@dataclass(frozen=True)
class ConceptHit:
    concept: str
    start: int
    end: int
    surface: str


class ConceptTagger:
    """Finds concepts in normalised text."""

    def __init__(self, concepts: tuple[Concept, ...] = CONCEPTS) -> None:
        self.concepts = {concept.id: concept for concept in concepts}
        self.labels = {concept.id: concept.label for concept in concepts} | _EXTRA_LABELS
        self.weights = {concept.id: concept.weight for concept in concepts}
        self.weights.setdefault("size_label", 0.8)
        self.weights.setdefault("clock", 0.6)
        self.veto = frozenset(concept.id for concept in concepts if concept.veto)
        self.aspects = frozenset(concept.id for concept in concepts if concept.aspect) | {"clock"}
        self._automaton: Any = ahocorasick.Automaton()
        forms: dict[str, list[str]] = {}
        for concept in concepts:
            for spec in concept.forms:
                # "几天发:howlong" — the form 几天发 expresses this concept and howlong too.
                form, _sep, extra = spec.partition(":")
                normal = normalize(form).replace(" ", "")
                if not normal:
                    continue
                ids = forms.setdefault(normal, [])
                for concept_id in (concept.id, *filter(None, extra.split("+"))):
                    if concept_id not in ids:
                        ids.append(concept_id)
        for normal, ids in forms.items():
            self._automaton.add_word(normal, (normal, tuple(ids)))
        self._automaton.make_automaton()
        self._forms = forms
        self._sound: Any = None

    def tag(self, text: str) -> list[ConceptHit]:
        """The concepts in ``text`` (already normalised): table forms not inside a longer form,
        then the regular expressions, then the concepts implied by others together."""
        hits: list[ConceptHit] = []
        if text:
            # Every match that is not inside a longer one: 送到 is "arrive" (not also the 送 of
            # "gift"), while 能退 and 退掉 in 能退掉 overlap and both count.
            found: list[tuple[int, int, str, tuple[str, ...]]] = []
            for end, (form, ids) in self._automaton.iter(text):
                start = end - len(form) + 1
                if form.isascii() and (
                    (start > 0 and text[start - 1].isascii() and text[start - 1].isalpha())
                    or (end + 1 < len(text) and text[end + 1].isascii()
                        and text[end + 1].isalpha())
                ):
                    continue  # "qq" inside a longer Latin word
                found.append((start, end + 1, form, ids))
            for start, end, form, ids in found:
                if any(other_start <= start and end <= other_end
                       and other_end - other_start > end - start
                       for other_start, other_end, _form, _ids in found):
                    continue
                hits.extend(ConceptHit(concept, start, end, form) for concept in ids)
        if any(char.isascii() and char.isalnum() for char in text):
            for pattern, concept in _REGEX_CONCEPTS:
                for match in pattern.finditer(text):
                    hits.append(ConceptHit(concept, match.start(), match.end(), match.group(0)))
        elif "满" in text or "折" in text:
            for match in _REGEX_CONCEPTS[4][0].finditer(text):
                hits.append(ConceptHit("discount", match.start(), match.end(), match.group(0)))
        if len(hits) > 1:
            present = {hit.concept for hit in hits}
            for needed, marker, implied in _IMPLIED:
                if needed <= present and implied not in present and any(
                        marker in hit.surface for hit in hits if hit.concept in needed):
                    hits.append(ConceptHit(implied, 0, 0, ""))
        return hits

    # ------------------------------------------------------------------ typo correction by sound

    def _build_sound_index(self) -> None:
        automaton: Any = ahocorasick.Automaton()
        for form in self._forms:
            if len(form) < 2 or not all(_is_han(char) for char in form):
                continue
            code = "".join(_sound(char) for char in form)
            if not automaton.exists(code):
                automaton.add_word(code, (len(code), form))
        automaton.make_automaton()
        self._sound = automaton

    def correct(self, text: str) -> str | None:
        """``text`` with words that sound like a known form but are spelt otherwise replaced by
        that form (新疆包油 → 新疆包邮), or None when there is nothing to correct."""
        if not any(_is_han(char) for char in text):
            return None
        if self._sound is None:
            self._build_sound_index()
        sounds = _SOUNDS
        code = "".join(sounds.get(char) or (_sound(char) if _is_han(char) else "\u0002")
                       for char in text)
        chars = list(text)
        changed = False
        for end, (length, form) in self._sound.iter_long(code):
            start = end - length + 1
            if "".join(chars[start:end + 1]) != form:
                chars[start:end + 1] = list(form)
                changed = True
        return "".join(chars) if changed else None


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


_SYLLABLES: dict[str, str] = {}


_SOUNDS: dict[str, str] = {}


def _sound(char: str) -> str:
    """One private-use character per pinyin syllable (toneless), so that texts can be compared
    by sound with the same Aho-Corasick machinery."""
    found = _SOUNDS.get(char)
    if found is None:
        syllable = pinyin.syllable(char)
        found = _SOUNDS[char] = _SYLLABLES.setdefault(syllable, chr(0xE000 + len(_SYLLABLES)))
    return found


@lru_cache(maxsize=1)
def default_tagger() -> ConceptTagger:
    """The tagger for the built-in table, built once."""
    return ConceptTagger()


def warm_up() -> None:
    """Build the default tagger with its sound index (see ``kefu.diversion.detector``)."""
    default_tagger().correct("新疆包油吗")
