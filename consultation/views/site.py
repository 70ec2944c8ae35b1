"""What every page of a government website carries: the site's identity in the footer and the site map."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, render_template, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Consultation, Document, utcnow

bp = Blueprint("site", __name__)

# The blueprints whose pages the public sees; their GET routes without arguments make the site map.
PUBLIC_BLUEPRINTS = ("public", "search", "site")
# The names of those pages; a route missing here is listed by its address.
PAGE_TITLES = {
    "public.index": _l("Consultations"),
    "public.library_index": _l("Library"),
    "search.search": _l("Search"),
    "public.receipt_lookup": _l("Look up a receipt"),
    "public.subscribe": _l("Subscribe to new consultations"),
    "public.atom_feed": _l("Atom feed"),
    "site.sitemap": _l("Site map"),
}
SITEMAP_LINKS = 50  # open consultations and published feedback listed on the site map, each


@dataclass(frozen=True)
class Link:
    url: str
    title: str


@bp.app_context_processor
def _site_identity() -> dict[str, Any]:
    """``site``: the organiser, operator, codes and filing numbers of the footer, from the configuration."""
    config = current_app.config
    psb = config.get("SITE_PSB") or ""
    return {"site": {
        "organiser": config.get("SITE_ORGANISER"),
        "operator": config.get("SITE_OPERATOR"),
        "code": config.get("SITE_CODE"),
        "icp": config.get("SITE_ICP"),
        "psb": psb,
        # The public-security filing is looked up by its number's digits.
        "psb_url": "https://beian.mps.gov.cn/#/query/webSearch?code=" + re.sub(r"\D", "", psb),
        "contact": config.get("SITE_CONTACT"),
        "conac_url": config.get("SITE_CONAC_URL"),
    }}


def public_pages() -> list[Link]:
    """The public blueprints' GET pages that take no argument, in the order of their addresses."""
    pages = []
    for rule in current_app.url_map.iter_rules():
        if (rule.endpoint.split(".")[0] in PUBLIC_BLUEPRINTS and "GET" in (rule.methods or ())
                and not rule.arguments):
            pages.append(Link(url_for(rule.endpoint), str(PAGE_TITLES.get(rule.endpoint, rule.rule))))
    return sorted(pages, key=lambda link: link.url)


@bp.get("/sitemap")
def sitemap():
    now = utcnow()
    open_now = db.session.execute(
        select(Consultation.id, Document.title).join(Document, Consultation.document_id == Document.id)
        .where(Consultation.opens_at <= now, Consultation.closes_at > now)
        .order_by(Consultation.closes_at).limit(SITEMAP_LINKS)
    ).all()
    published = db.session.execute(
        select(Document.id, Document.title).where(Document.published_at.is_not(None), Document.published_at <= now)
        .order_by(Document.published_at.desc()).limit(SITEMAP_LINKS)
    ).all()
    return render_template("public/sitemap.html", pages=public_pages(), open_consultations=open_now,
                           published=published, limit=SITEMAP_LINKS)
