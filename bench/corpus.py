"""Comment texts for the benchmarks: Chinese prose of varied length about a property-management draft.

Distinct comments are drawn from clause templates with many fillers and a free-form tail, so that two of
them share a phrase now and then (as real comments on one draft do) but are far below the campaign
threshold. Campaign copies repeat one text with the small changes people make when they paste it.
"""
from __future__ import annotations

import random

MIN_LENGTH, MAX_LENGTH = 30, 600

SUBJECTS = ["物业服务企业", "业主委员会", "街道办事处", "住房和城乡建设主管部门", "开发建设单位", "社区居民委员会",
            "城市管理执法部门", "消防救援机构", "供水供电企业", "电梯维护保养单位", "物业管理区域内的业主",
            "前期物业服务人", "区人民政府", "市场监督管理部门", "业主大会筹备组", "租户和物业使用人"]
ACTIONS = ["应当定期公开", "建议进一步明确", "希望办法能够细化", "不宜简单规定", "请考虑增加关于", "必须严格落实",
           "建议删除关于", "应当每季度公示", "可以委托第三方评估", "要加强监督检查", "建议参照外地做法完善",
           "应当在合同中约定", "不得擅自提高", "需要听取业主意见后再确定"]
OBJECTS = ["公共收益的使用情况", "地下停车位的租售比例", "电动自行车集中充电设施的建设标准", "专项维修资金的使用程序",
           "装修垃圾的清运费用", "高空抛物的责任认定", "小区绿化养护的频次", "楼道堆物的清理办法", "电梯故障的应急处置",
           "物业费的调价程序", "二次供水设施的清洗消毒", "业主大会的表决方式", "物业服务质量的评价标准",
           "外卖快递车辆的进出管理", "宠物犬只的文明饲养", "夜间施工噪声的投诉处理", "消防通道的日常巡查",
           "老旧小区加装电梯的费用分摊", "共有部位广告收入的分配", "门禁系统的人脸信息保护", "车位充电桩的安装审批",
           "前期物业合同的期限", "物业服务人退出时的交接", "业主委员会成员的任职条件", "生活垃圾分类投放点的设置"]
DETAILS = ["并在小区显著位置公示不少于十五日", "由业主大会表决决定", "不得超过价格主管部门核定的标准",
           "在三十日内作出书面答复", "同时报街道办事处备案", "相关费用由受益业主分摊", "每年至少组织一次满意度测评",
           "对拒不整改的依法予以处罚", "并通过手机应用向业主推送", "确保老年人和残疾人能够方便使用",
           "避免给低收入家庭增加负担", "由第三方专业机构出具报告", "在合同期满前三个月启动续聘程序",
           "并留存影像资料备查", "以免引发新的邻里纠纷", "同时明确违约责任"]
INTROS = ["我是{estate}的业主，", "作为一名在{estate}居住了{n}年的老住户，", "我们{estate}{n}栋的居民讨论后认为，",
          "本人从事物业管理工作{n}年，", "看了征求意见稿，", "对第{n}条有几点意见：", "", "", ""]
CLOSINGS = ["希望采纳。", "以上意见供参考。", "谢谢！", "恳请认真研究。", "盼复。", "", "", ""]
ESTATE_PARTS = ["锦绣", "阳光", "翠湖", "金桂", "紫荆", "东方", "滨江", "梧桐", "香樟", "和平", "幸福", "春晓",
                "云栖", "明珠", "丽景", "银杏", "枫林", "清泉", "海棠", "龙湖"]
ESTATE_KINDS = ["花园", "家园", "苑", "小区", "新村", "公寓", "名邸", "雅居"]
# Free-form words: what people add in their own words, in any order.
WORDS = ["现在", "很多", "小区", "晚上", "停车", "特别", "困难", "老人", "孩子", "上下班", "物业", "收费", "不透明",
         "经常", "投诉", "没有", "回复", "楼下", "充电", "起火", "隐患", "大家", "担心", "希望", "政府", "出台",
         "管理", "规定", "业主", "权益", "保护", "维修", "资金", "使用", "公开", "透明", "监督", "电梯", "坏了",
         "半个月", "才修好", "垃圾", "分类", "桶", "太少", "臭味", "夏天", "蚊虫", "绿化", "被占", "改成", "车位",
         "租金", "上涨", "开发商", "承诺", "兑现", "合同", "约定", "不清楚", "费用", "分摊", "合理", "公平", "程序",
         "表决", "投票", "线上", "线下", "方便", "年轻人", "上班族", "外地", "租户", "房东", "中介", "装修", "噪音",
         "周末", "早上", "八点", "之前", "禁止", "施工", "快递", "外卖", "电动车", "进出", "门禁", "刷脸", "隐私",
         "信息", "泄露", "风险", "保安", "巡逻", "消防", "通道", "堵塞", "安全", "第一", "社区", "协调", "街道",
         "执法", "力度", "加大", "处罚", "标准", "细化", "明确", "责任", "主体", "落实", "到位", "效果", "评估"]
COPY_TAILS = ["", "", "", "！", "！！", "。", " ", "（转发）", "同意以上意见。", "附议！"]
ANSWER_REASONS = ["已在修改稿中予以体现。", "该意见与办法的规定一致，已在相关条款中明确。", "该事项属于物业服务合同约定范围，不宜在办法中统一规定。",
                  "将在配套实施细则中予以细化。", "上位法已有明确规定，不再重复。", "部分采纳，相关表述已作调整。",
                  "该意见超出本办法的调整范围，已转交相关部门研究。", "感谢您的意见，我们将在执行中加强监督。"]


class Corpus:
    """A reproducible source of comment texts."""

    def __init__(self, seed: int = 20221) -> None:
        self.random = random.Random(seed)
        self.serial = 0

    def length(self) -> int:
        """Many short comments, fewer long ones: 30 to 600 characters, median about 120."""
        r = self.random.random()
        return int(MIN_LENGTH * (MAX_LENGTH / MIN_LENGTH) ** (r ** 1.4))

    def estate(self) -> str:
        r = self.random
        return r.choice(ESTATE_PARTS) + r.choice(ESTATE_PARTS) + r.choice(ESTATE_KINDS)

    def clause(self) -> str:
        r = self.random
        if r.random() < 0.7:
            return "".join(r.choice(WORDS) for _ in range(r.randint(4, 12)))
        return r.choice(SUBJECTS) + r.choice(ACTIONS) + r.choice(OBJECTS) + ("，" + r.choice(DETAILS)
                                                                           if r.random() < 0.6 else "")

    def text(self) -> str:
        """One distinct comment."""
        r = self.random
        self.serial += 1
        target = self.length()
        parts = [r.choice(INTROS).format(estate=self.estate(), n=r.randint(2, 30))]
        size = len(parts[0])
        while size < target:
            part = self.clause() + r.choice("，。；")
            parts.append(part)
            size += len(part)
        parts.append(r.choice(CLOSINGS))
        body = "".join(parts)
        if len(body) > MAX_LENGTH:
            body = body[:MAX_LENGTH - 1] + "。"
        return body

    def copy_of(self, text: str) -> str:
        """A campaign copy: the same text, now and then with a mark or a few words added."""
        tail = self.random.choice(COPY_TAILS)
        return (text + tail)[:MAX_LENGTH]

    def answer_reason(self) -> str:
        return self.random.choice(ANSWER_REASONS)
