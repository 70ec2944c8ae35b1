"""No personal data of a commenter on any public page: a crawl of the whole public site."""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlparse

from consultation.extensions import db
from consultation.models import Comment

from . import factories

PEOPLE = [
    {"name": "诸葛隐名", "organisation": "隐秘咨询有限公司", "phone": "13512345678",
     "email": "zhuge.hidden@example.org", "show_masked_name": True},
    {"name": "上官不显", "organisation": "不显律师事务所", "phone": "021-87654321",
     "email": "shangguan.hidden@example.org", "show_masked_name": False},
]
# Distinct wording: identical comments would form a campaign group, shown without any name.
OPINIONS = ["建议延长公示期限至三十日。", "第一条的适用范围应当包括郊区。"]
SECRETS = [v for p in PEOPLE for k, v in p.items() if k != "show_masked_name"] + ["上官", "127.0.0.1"]


def _crawl(browser, start_urls: list[str], posts: list[tuple[str, dict]]) -> dict[str, str]:
    """Fetch every public page reachable by links (never /staff or /auth), plus the given form posts."""
    seen: dict[str, str] = {}
    todo = list(start_urls)
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        response = browser.get(url)
        body = response.get_data(as_text=True) if response.mimetype.startswith("text") else ""
        seen[url] = body
        for href in re.findall(r'href="([^"#]+)', body):
            target = urlparse(urljoin("http://localhost" + url, href))
            if target.netloc == "localhost" and not target.path.startswith(("/staff", "/auth", "/static", "/lang")):
                todo.append(target.path + (f"?{target.query}" if target.query else ""))
    for url, data in posts:
        seen[f"POST {url} {data}"] = browser.post(url, data).get_data(as_text=True)
    return seen


def test_no_public_page_shows_a_commenters_personal_data(city, browser):
    open_doc = factories.in_consultation(city, title="开放中的办法")
    for person, wish in zip(PEOPLE, OPINIONS, strict=True):
        factories.comment(open_doc, body=f"对开放中的草案：{wish}", article_seq=2, **person)
    doc = factories.in_handling(city, comments=0, title="已公布的办法")
    for person, wish in zip(PEOPLE, OPINIONS, strict=True):
        factories.comment(doc, body=f"对已公布草案：{wish}", article_seq=1, **person)
    factories.answer_all(doc, city["drafter"])
    # Finish the procedure on the same document through the services.
    from consultation.services import publication
    factories.adopt(doc, city, prefix="华政发")
    publication.publish(doc, city["govoffice"], final_text=factories.REVISED, policy_interpretation="解读",
                        effective_date=factories.utcnow().date() + factories.timedelta(days=5), validity_years=1)
    db.session.commit()

    receipts = [c.receipt_number for c in db.session.scalars(db.select(Comment))]
    pages = _crawl(browser, ["/"], [("/receipt", {"receipt": r}) for r in receipts])

    assert f"/feedback/{doc.id}" in pages and any(u.startswith("/consultations/") for u in pages)
    assert "诸**名" in pages[f"/feedback/{doc.id}"]  # consented: masked only
    for url, body in pages.items():
        for secret in SECRETS:
            assert secret not in body, f"{secret!r} leaked on {url}"
