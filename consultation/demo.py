"""The demo city (华城市): departments, one account per role, and documents at several stages."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from sqlalchemy import select

from . import working_days
from .extensions import db
from .models import Department, DepartmentKind, Document, ReviewOrgan, Role, User, utcnow
from .services import (
    answers, comment_lists, consultations, drafting, intake, library, moderation, publication, review,
)
from .services.publication import SHANGHAI
from .workflow import engine

DEPARTMENTS = [
    ("华城市人民政府办公室", DepartmentKind.GOVERNMENT_OFFICE),
    ("华城市司法局", DepartmentKind.JUSTICE),
    ("华城市政务公开办公室", DepartmentKind.OPENNESS),
    ("华城市住房和城乡建设局", DepartmentKind.DRAFTING),
    ("华城市市场监督管理局", DepartmentKind.DRAFTING),
]

# username, display name, department, roles
ACCOUNTS = [
    ("drafter", "王起草（住建局）", "华城市住房和城乡建设局", [Role.DRAFTER]),
    ("head", "李局长（住建局）", "华城市住房和城乡建设局", [Role.DEPARTMENT_HEAD]),
    ("drafter2", "赵起草（市场监管局）", "华城市市场监督管理局", [Role.DRAFTER]),
    ("head2", "钱局长（市场监管局）", "华城市市场监督管理局", [Role.DEPARTMENT_HEAD]),
    ("govoffice", "陈审核（市政府办）", "华城市人民政府办公室", [Role.GOV_OFFICE_REVIEWER]),
    ("justice", "周审核（司法局）", "华城市司法局", [Role.JUSTICE_REVIEWER]),
    ("openness", "吴公开（政务公开办）", "华城市政务公开办公室", [Role.OPENNESS_OFFICER]),
    ("admin", "系统管理员", "华城市人民政府办公室", [Role.ADMIN]),
]

PROPERTY_DRAFT = """华城市住宅小区物业管理办法（征求意见稿）
第一章 总则
第一条 为了规范本市住宅小区物业管理活动，维护业主和物业服务人的合法权益，根据《中华人民共和国民法典》《物业管理条例》等规定，结合本市实际，制定本办法。
第二条 本办法适用于本市行政区域内住宅小区的物业管理及其监督管理活动。
第三条 市住房和城乡建设主管部门负责全市物业管理活动的监督管理工作。
第二章 业主大会
第四条 一个物业管理区域成立一个业主大会。业主大会由物业管理区域内全体业主组成。
第五条 业主大会会议可以采用集体讨论的形式，也可以采用书面征求意见或者电子投票的形式。
第三章 物业服务
第六条 物业服务人应当按照物业服务合同的约定提供服务，并在物业管理区域内显著位置公示服务内容、收费标准和投诉电话。
第七条 物业服务收费应当遵循合理、公开以及费用与服务水平相适应的原则。
第四章 附则
第八条 本办法自2027年3月1日起施行，有效期5年。
"""

MARKET_DRAFT = """华城市小微企业首次轻微违法行为免予处罚清单（试行）（征求意见稿）
第一条 为了优化营商环境，推行包容审慎监管，根据《中华人民共和国行政处罚法》，制定本清单。
第二条 当事人首次违法且危害后果轻微并及时改正的，可以不予行政处罚。
第三条 市场监督管理部门应当对当事人进行教育。
第四条 本清单自发布之日起施行，有效期2年。
"""

PARKING_DRAFT = """华城市中心城区停车收费标准调整方案（征求意见稿）
第一条 为了合理配置停车资源，缓解中心城区停车难，制定本方案。
第二条 中心城区公共停车场实行分时段收费。
第三条 本方案自发布之日起施行，有效期3年。
"""

ROADS_DRAFT = """华城市城市道路临时占用管理办法（征求意见稿）
第一章 总则
第一条 为了加强城市道路临时占用管理，保障道路安全畅通，制定本办法。
第二条 临时占用城市道路施工的单位，应当遵守施工现场管理规定，设置明显的安全警示标志。
第三条 临时占用城市道路，应当经市城市管理部门批准。
第二章 附则
第四条 本办法自发布之日起施行。
"""

EXPLANATION = "一、起草背景\n为落实上级工作部署，回应群众关切。\n二、主要内容\n共若干条，明确适用范围、职责分工和主要制度。\n三、征求意见情况\n拟通过预公开向社会公开征求意见。"


LEGALITY_REVIEW_DAYS_SPENT = 13  # of the 15 working days (workflows/major_decision.toml): 2 left


def working_days_ago(count: int, now: datetime | None = None) -> datetime:
    """Noon (Beijing time) of the day ``count`` working days before today: the first day is not counted, as in
    every time limit, so a limit of N working days started then has N - count working days left today."""
    today = (now or utcnow()).astimezone(SHANGHAI).date()
    day = today
    while working_days.working_days_between(day, today) < count:
        day -= timedelta(days=1)
    return datetime.combine(day, time(12), tzinfo=SHANGHAI).astimezone(timezone.utc)


def _user(username: str) -> User:
    return db.session.scalars(select(User).where(User.username == username)).one()


def seed_accounts(password: str) -> None:
    """Create the demo departments and one account per role."""
    departments = {name: Department(name=name, kind=kind.value) for name, kind in DEPARTMENTS}
    db.session.add_all(departments.values())
    for username, display, dept, roles in ACCOUNTS:
        user = User(username=username, display_name=display, department=departments[dept])
        user.set_password(password)
        user.set_roles(roles)
        db.session.add(user)
    db.session.flush()


def seed(password: str) -> str:
    """Create the demo city unless it exists; return a short description of what was made."""
    if db.session.scalars(select(Department).limit(1)).first() is not None:
        return "already present"
    seed_accounts(password)
    for username, *_rest in ACCOUNTS:  # notifications go to these (as .eml files under instance/mail/ without SMTP)
        _user(username).email = f"{username}@demo.huacheng.gov.cn"

    drafter, head, openness = _user("drafter"), _user("head"), _user("openness")
    # 1. A draft still in the drafting department, ready to go through every step.
    drafting.create_document(drafter, title="华城市住宅小区物业管理办法", body=PROPERTY_DRAFT,
                             explanation=EXPLANATION, affects_public_rights=True)
    # 2. A draft open for comments now, with a few comments.
    doc = drafting.create_document(drafter, title="华城市住宅小区电动自行车停放充电管理规定",
                                   body=PROPERTY_DRAFT.replace("物业管理办法", "电动自行车停放充电管理规定"),
                                   explanation=EXPLANATION, affects_public_rights=True)
    _open(doc, drafter, head, openness, opens_at=utcnow() - timedelta(days=1), days=21)
    article = doc.current_version.articles[5]
    consultations.submit_comment(doc_consultation(doc), body="建议明确充电设施的安装费用由谁承担。",
                                 article_id=article.id, name="张小祥", phone="13800000001",
                                 show_masked_name=True)
    for sign in ("！", "！！", "。"):  # a small campaign: three near-identical comments form one group
        consultations.submit_comment(doc_consultation(doc), body="坚决反对在楼道内充电，请尽快在小区增设集中充电桩" + sign,
                                     article_id=article.id)
    intake.take_in_all()  # what the worker's clock does moments later: the group is formed
    moderation.moderate(doc, openness, [c.id for c in comment_lists.staff_comments(doc).items], publish=True)
    # One comment waits for moderation: the openness office's queue shows it as its only row.
    consultations.submit_comment(doc_consultation(doc), body="建议增加夜间充电安全巡查的要求。")
    # 3. A market-entities draft whose consultation has closed: comments wait for answers.
    drafter2, head2 = _user("drafter2"), _user("head2")
    doc3 = drafting.create_document(drafter2, title="华城市小微企业首次轻微违法行为免予处罚清单（试行）",
                                    body=MARKET_DRAFT, explanation=EXPLANATION, affects_public_rights=True,
                                    concerns_market_entities=True)
    opened = utcnow() - timedelta(days=40)
    _open(doc3, drafter2, head2, openness, opens_at=opened, days=31)
    consultation = doc_consultation(doc3)
    for body, article_no in (("建议将“首次”界定为两年内首次。", 1), ("建议明确“及时改正”的期限。", 1),
                             ("清单应当定期评估调整。", None)):
        art = doc3.current_version.articles[article_no].id if article_no is not None else None
        consultations.submit_comment(consultation, body=body, article_id=art, now=opened + timedelta(days=3))
    engine.settle(doc3)
    _prior_assessments(doc3, drafter2, answered=False)
    moderation.moderate(doc3, openness, [c.id for c in comment_lists.staff_comments(doc3).items], publish=True)
    # 4. A major decision (重大行政决策) with its expert argument and risk assessment, in the legality
    #    review for 13 working days, whatever the weekday the demo is loaded: the justice bureau's
    #    15-working-day limit is due within 3 working days (flagged on its dashboard).
    doc4 = drafting.create_document(drafter, title="华城市中心城区停车收费标准调整方案", body=PARKING_DRAFT,
                                    explanation=EXPLANATION, affects_public_rights=True, procedure="major_decision")
    opened = utcnow() - timedelta(days=60)
    _open(doc4, drafter, head, openness, opens_at=opened, days=35)
    comment = consultations.submit_comment(doc_consultation(doc4), body="建议夜间停车实行优惠收费。",
                                           article_id=doc4.current_version.articles[1].id,
                                           now=opened + timedelta(days=2))
    engine.settle(doc4)
    moderation.moderate(doc4, openness, [comment.id], publish=True)
    answers.answer_comment(doc4, drafter, comment.id, decision="adopted", reason="已在第二条增加夜间优惠时段。")
    drafting.revise_draft(doc4, drafter, body=PARKING_DRAFT.replace("分时段收费", "分时段收费，夜间实行优惠"),
                          explanation=EXPLANATION)
    for kind, who, conclusion in (
        ("expert_argument", "市价格协会、高校交通规划专家共五人", "调整方案依据充分，建议分步实施。"),
        ("risk_assessment", "市发展改革委、第三方评估机构", "社会稳定风险等级为低，可以实施。"),
    ):
        drafting.record_assessment(doc4, drafter, kind=kind, held_on=(utcnow() - timedelta(days=20)).date(),
                                   participants=who, conclusion=conclusion)
    _prior_assessments(doc4, drafter, answered=True)
    review.submit_for_review(doc4, drafter)
    review.send_to_joint_review(doc4, head)
    doc4.stage_entered_at = working_days_ago(LEGALITY_REVIEW_DAYS_SPENT)
    _published_example(drafter, head, openness)
    intake.take_in_all()  # every comment sealed into the audit chain
    return "departments, 8 accounts, 5 documents (one published, in the library)"


def _prior_assessments(doc: Document, drafter: User, *, answered: bool) -> None:
    """事前评估: an enterprise representative and an expert (named, with consent) assessed the draft."""
    from .services import invitations

    for kind, name, organisation, consent in (("enterprise", "周经理", "华城市某停车管理有限公司", False),
                                              ("expert", "吴教授", "华城大学经济学院", True)):
        invitation = invitations.invite(doc, drafter, kind=kind, name=name, organisation=organisation,
                                        email=f"{kind}@assess.demo.huacheng.gov.cn")
        assessment = invitations.submit(
            invitation, necessity="有必要。", feasibility="总体可行，建议设置过渡期。", market_impact="对经营者成本影响较小。",
            fair_competition="未发现排除、限制竞争的内容。", interests="无利益关系。" if kind == "expert" else "本人所在企业受本文件影响。",
            consent_named=consent, remarks={doc.current_version.articles[1].id: "建议细化本条。"})
        if answered:
            invitations.answer(assessment, drafter, overall=("partly_adopted", "过渡期建议已采纳。"),
                               remarks={assessment.remarks[0].id: ("adopted", "已细化。")})


def _published_example(drafter: User, head: User, openness: User) -> None:
    """5. A document taken all the way: comments moderated (one hidden) and answered, joint review,
    adoption, publication with its feedback, and its place in the library."""
    govoffice, justice = _user("govoffice"), _user("justice")
    doc = drafting.create_document(drafter, title="华城市城市道路临时占用管理办法", body=ROADS_DRAFT,
                                   explanation=EXPLANATION, affects_public_rights=True)
    opened = utcnow() - timedelta(days=90)
    _open(doc, drafter, head, openness, opens_at=opened, days=30)
    articles = doc.current_version.articles
    for body, article, name in (
        ("建议明确占道施工的夜间作业时间限制。", articles[1].id, "李明华"),
        ("建议占用审批结果在网上公开，便于群众监督。", articles[2].id, None),
        ("加微信领取免费停车券 wx:abc123", None, None),
    ):
        consultations.submit_comment(doc_consultation(doc), body=body, article_id=article, name=name or "",
                                     show_masked_name=bool(name), now=opened + timedelta(days=5))
    engine.settle(doc)
    first, second, spam = comment_lists.staff_comments(doc).items
    moderation.moderate(doc, openness, [first.id, second.id], publish=True)
    moderation.moderate(doc, openness, [spam.id], publish=False, reason="spam", note="广告")
    answers.answer_comment(doc, drafter, first.id, decision="adopted", reason="已在第二条增加夜间作业时间限制。")
    answers.answer_comment(doc, drafter, second.id, decision="partly_adopted",
                           reason="审批结果将在政务服务网公开，个人信息除外。")
    answers.answer_comment(doc, drafter, spam.id, decision="explained", reason="与本办法无关。")
    final = ROADS_DRAFT.replace("应当遵守", "应当遵守，夜间二十二时至次日六时不得施工，并")
    drafting.revise_draft(doc, drafter, body=final, explanation=EXPLANATION)
    review.submit_for_review(doc, drafter)
    review.send_to_joint_review(doc, head)
    review.approve(doc, govoffice, ReviewOrgan.GOVERNMENT_OFFICE, "同意。")
    review.approve(doc, justice, ReviewOrgan.JUSTICE, "合法。")
    decided = (utcnow() - timedelta(days=20)).astimezone(SHANGHAI).date()
    publication.record_adoption(doc, govoffice, decision="adopted", decision_date=decided, prefix="华政办发")
    published = utcnow() - timedelta(days=10)
    publication.publish(doc, govoffice, final_text=final,
                        policy_interpretation="一、制定背景。二、主要内容：明确占用审批、夜间作业限制和信息公开。",
                        effective_date=published.astimezone(SHANGHAI).date() + timedelta(days=1), validity_years=5,
                        topic="城乡建设、环境保护", now=published)
    library.update_record(doc, openness, registration_number="HCDR-2026-0001", topic="城乡建设、环境保护",
                          signed_date=decided)


def doc_consultation(document: Document):
    return consultations.consultation_of(document)


def _open(doc: Document, drafter: User, head: User, openness: User, *, opens_at: datetime, days: int) -> None:
    engine.perform(doc, "request_predisclosure", drafter, now=opens_at)
    engine.perform(doc, "head_approve_predisclosure", head, now=opens_at)
    consultations.open_consultation(doc, openness, opens_at=opens_at, closes_at=opens_at + timedelta(days=days),
                                    notice="欢迎社会各界提出意见建议。",
                                    contact_person="王科员", contact_phone="0571-87000000",
                                    contact_email="zhengqiu@demo.huacheng.gov.cn",
                                    postal_address="华城市人民路1号华城市人民政府办公室（邮编000000）", now=opens_at)
