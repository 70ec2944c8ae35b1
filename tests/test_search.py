"""Public search: Chinese character pairs, words and numbers, filters, pages, and nothing before its time."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from consultation import search
from consultation.errors import InvalidInput
from consultation.extensions import db
from consultation.models import Document, SearchEntry, SearchTerm
from consultation.search_cli import search_group
from consultation.services import consultations, library

from . import factories

NUMERALS = "一二三四五六七八九十"


def _body(*articles: str) -> str:
    """A draft whose articles are the given sentences (第一条 …)."""
    return "\n".join(f"第{NUMERALS[i]}条 {text}" for i, text in enumerate(articles))


def _consultation(city, title: str, *articles: str, **kw) -> Document:
    return factories.in_consultation(city, title=title, body=_body(*(articles or ("本办法自发布之日起施行。",))), **kw)


def _other_department(city) -> dict:
    """The demo city seen from the market regulation bureau: its drafter and head."""
    return {**city, "drafter": city["drafter2"], "head": city["head2"]}


def _titles(page: search.Page) -> list[str]:
    return [item.title.striptags() for item in page.items]


# The terms ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("停车管理", {"停车": 1, "车管": 1, "管理": 1}),
    ("停", {"停": 1}),
    ("停车，停车", {"停车": 2}),
    ("GB/T  Parking parking", {"gb": 1, "t": 1, "parking": 2}),
    ("ＡＢＣ１２３", {"abc123": 1}),  # full-width letters and digits (NFKC)
    ("华政办发〔2026〕7号", {"华政": 1, "政办": 1, "办发": 1, "2026": 1, "7": 1, "号": 1}),
    ("2027年1月1日", {"2027": 1, "年": 1, "1": 2, "月": 1, "日": 1}),
    ("", {}),
    ("，。！?<>", {}),
])
def test_terms_are_chinese_character_pairs_and_whole_words(text, expected):
    assert search.terms(text) == expected


def test_a_long_word_is_cut_to_the_column_length():
    assert search.terms("x" * 100) == {"x" * 40: 1}


# Matching ----------------------------------------------------------------------------------------------


def test_a_chinese_title_is_found_by_two_of_its_characters_and_not_by_a_pair_it_lacks(city):
    _consultation(city, "华城市停车管理办法")
    assert _titles(search.search("停车")) == ["华城市停车管理办法"]
    assert _titles(search.search("停车管理")) == ["华城市停车管理办法"]
    assert search.search("停水").total == 0
    assert search.search("管理停车场").total == 0  # 车场 is not there


def test_every_term_of_the_query_must_be_there(city):
    _consultation(city, "华城市停车管理办法", "公共停车场实行分时段收费。")
    _consultation(city, "华城市物业管理办法", "物业服务收费应当公开。")
    assert _titles(search.search("收费 停车")) == ["华城市停车管理办法"]
    assert _titles(search.search("收费 物业")) == ["华城市物业管理办法"]
    assert set(_titles(search.search("收费"))) == {"华城市停车管理办法", "华城市物业管理办法"}
    assert search.search("物业 停车").total == 0


def test_a_single_chinese_character_finds_the_words_that_hold_it(city):
    _consultation(city, "华城市停车管理办法")
    assert _titles(search.search("停")) == ["华城市停车管理办法"]
    assert _titles(search.search("车 办")) == ["华城市停车管理办法"]
    assert search.search("水").total == 0


def test_latin_words_and_numbers_are_found_whole_whatever_the_width_or_case(city):
    _consultation(city, "华城市充电设施管理办法", "充电设施应当符合GB/T 20234标准。")
    assert _titles(search.search("gb")) == ["华城市充电设施管理办法"]
    assert _titles(search.search("２０２３４")) == ["华城市充电设施管理办法"]
    assert search.search("2023").total == 0  # a number is a whole word, not a prefix


def test_a_published_document_is_found_by_the_year_of_its_number(city):
    doc = factories.published(city, title="华城市停车管理办法")
    results = search.search(str(doc.number_year), kind="library")
    assert [item.document_id for item in results.items] == [doc.id]
    assert results.items[0].document_number == doc.document_number
    assert "<mark>" in results.items[0].snippet


def test_a_title_match_outranks_a_newer_match_in_the_text(city):
    _consultation(city, "华城市停车管理办法", opens_at=factories.utcnow() - timedelta(days=2))
    _consultation(city, "华城市道路管理办法", "道路两侧不得停车。")
    assert _titles(search.search("停车")) == ["华城市停车管理办法", "华城市道路管理办法"]
    # Equal scores: the most recent first.
    assert _titles(search.search("华城市")) == ["华城市道路管理办法", "华城市停车管理办法"]


def test_any_query_text_is_safe_to_search(city):
    _consultation(city, "华城市停车管理办法")

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.text(max_size=60))
    def check(query):
        page = search.search(query)
        assert page.total >= len(page.items)
        assert all(isinstance(item.snippet, Markup) for item in page.items)

    check()


# Nothing before its time -------------------------------------------------------------------------------


def test_a_consultation_that_has_not_opened_is_not_found(city, browser):
    opens_at = factories.utcnow() + timedelta(days=3)
    _consultation(city, "华城市停车管理办法", opens_at=opens_at)
    assert db.session.scalar(db.select(db.func.count(SearchEntry.id))) == 1  # indexed, but not yet public
    assert search.search("停车").total == 0
    assert search.search("").total == 0
    page = browser.get("/search?q=停车").get_data(as_text=True)
    assert "华城市停车管理办法" not in page
    assert "华城市停车管理办法" not in browser.get("/search?kind=consultation").get_data(as_text=True)
    assert _titles(search.search("停车", now=opens_at + timedelta(minutes=1))) == ["华城市停车管理办法"]


def test_the_library_entry_appears_only_from_the_publication_time(city):
    doc = factories.published(city, title="华城市停车管理办法")
    before = doc.published_at - timedelta(seconds=1)
    assert [i.kind for i in search.search("停车", now=before).items] == ["consultation"]
    assert {i.kind for i in search.search("停车").items} == {"consultation", "library"}


# Filters and pages -------------------------------------------------------------------------------------


def test_kind_department_and_year_filters(city):
    _consultation(city, "华城市停车管理办法", opens_at=datetime(2024, 12, 31, 16, 30, tzinfo=timezone.utc))  # 2025 in Beijing
    _consultation(_other_department(city), "华城市停车收费监管办法")
    published = factories.published(city, title="华城市停车场建设办法")
    market = city["drafter2"].department_id
    assert _titles(search.search("停车", department_id=market)) == ["华城市停车收费监管办法"]
    assert _titles(search.search("停车", kind="library")) == ["华城市停车场建设办法"]
    assert search.search("停车", kind="consultation").total == 3
    assert _titles(search.search("停车", year=2025)) == ["华城市停车管理办法"]
    this_year = published.published_at.astimezone(search.SHANGHAI).year
    assert search.search("停车", year=this_year, kind="library").total == 1
    assert search.search("停车", department_id=market, kind="library").total == 0


def test_consultation_status_filter(city):
    now = factories.utcnow()
    _consultation(city, "华城市停车管理办法")
    _consultation(city, "华城市停车收费办法", opens_at=now - timedelta(days=50), days=45)
    factories.published(city, title="华城市停车场建设办法")
    expected = {"open": ["华城市停车管理办法"], "closed": ["华城市停车收费办法"], "feedback": ["华城市停车场建设办法"]}
    for status, titles in expected.items():
        page = search.search("停车", status=status)
        assert _titles(page) == titles and page.total == len(titles)
        assert {item.status for item in page.items} == {status}
        assert {item.kind for item in page.items} == {"consultation"}


def test_library_status_filter_follows_the_library_dates(city):
    doc = factories.published(city, title="华城市停车场建设办法")
    in_force_day = datetime.combine(doc.effective_date, datetime.min.time(), tzinfo=search.SHANGHAI) + timedelta(hours=12)
    after_expiry = in_force_day + timedelta(days=6 * 366)
    cases = [(None, "not_yet_in_force"), (in_force_day, "in_force"), (after_expiry, "expired")]
    for now, status in cases:
        page = search.search("停车", status=status, now=now)
        assert [(i.kind, i.document_id, i.status) for i in page.items] == [("library", doc.id, status)]
        assert page.total == 1
        others = [s for s in search.library_statuses() if s != status]
        assert all(search.search("停车", status=other, now=now).total == 0 for other in others)


def test_a_repealed_document_is_found_under_repealed_only(city, browser):
    doc = factories.published(city, title="华城市停车场建设办法")
    today = factories.utcnow().astimezone(search.SHANGHAI).date()
    library.record_change(doc, city["openness"], change="repealed", effective_on=today, by_reference="华政办发〔2026〕99号")
    db.session.commit()
    assert [i.document_id for i in search.search("停车", status="repealed").items] == [doc.id]
    assert search.search("停车", status="not_yet_in_force").total == 0
    page = browser.get("/search?q=停车&status=repealed").get_data(as_text=True)
    assert 'class="badge status-repealed"' in page


def test_unknown_or_mismatched_filters_are_refused(city):
    for kw in ({"kind": "comments"}, {"status": "secret"}, {"kind": "library", "status": "open"},
               {"kind": "consultation", "status": "in_force"}):
        with pytest.raises(InvalidInput):
            search.search("停车", **kw)


def test_pages_split_the_results_and_count_them_all(city):
    start = factories.utcnow() - timedelta(hours=5)
    for i in range(5):
        _consultation(city, f"华城市停车管理办法（{i}）", opens_at=start + timedelta(hours=i))
    seen = []
    for number in (1, 2, 3):
        page = search.search("停车", page=number, per_page=2)
        assert (page.total, page.pages, page.page) == (5, 3, number)
        seen += _titles(page)
    assert seen == [f"华城市停车管理办法（{i}）" for i in reversed(range(5))]
    beyond = search.search("停车", page=4, per_page=2)
    assert beyond.items == [] and beyond.total == 5
    assert search.search("停车", status="open", page=3, per_page=2).total == 5


def test_library_pages_with_a_status_filter_count_them_all(city):
    for i in range(3):
        factories.published(city, title=f"华城市停车场建设办法（{i}）")
    pages = [search.search("停车", status="not_yet_in_force", page=n, per_page=2) for n in (1, 2)]
    assert [(p.total, p.pages, len(p.items)) for p in pages] == [(3, 2, 2), (3, 2, 1)]


# Results -----------------------------------------------------------------------------------------------


def test_a_result_carries_its_link_department_and_a_marked_snippet(app, city):
    doc = _consultation(city, "华城市道路管理办法", "道路两侧不得停车。")
    consultation = consultations.consultation_of(doc)
    item = search.search("停车").items[0]
    with app.test_request_context():
        assert item.url == f"/consultations/{consultation.id}"
    assert item.department == "华城市住房和城乡建设局"
    assert item.date == consultation.opens_at and item.status == "open"
    assert "第二条 道路两侧不得<mark>停车</mark>。" in item.snippet or "道路两侧不得<mark>停车</mark>。" in item.snippet
    assert item.title == Markup("华城市道路管理办法")


def test_adjacent_pairs_are_marked_as_one_stretch():
    marked = search.highlight("本市停车管理工作", search.query_terms("停车管理"))
    assert marked == Markup("本市<mark>停车管理</mark>工作")
    assert search.highlight("Parking parkings", ["parking"]) == Markup("<mark>Parking</mark> parkings")


def test_a_long_text_gives_a_short_snippet_around_the_first_match():
    text = "甲" * 500 + "停车" + "乙" * 500
    snippet = search.highlight(text, ["停车"], excerpt=True)
    assert snippet.startswith("…") and snippet.endswith("…") and "<mark>停车</mark>" in snippet
    assert len(snippet.striptags()) <= search.SNIPPET_LENGTH + 2


def test_results_escape_html_in_titles_and_texts(city, browser):
    _consultation(city, "<script>alert(1)</script>停车办法", "<img src=x onerror=alert(2)>停车收费。")
    page = browser.get("/search?q=停车").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<mark>停车</mark>办法" in page
    assert "&lt;img src=x onerror=alert(2)&gt;<mark>停车</mark>收费" in page
    item = search.search("script").items[0]
    assert str(item.title).startswith("&lt;<mark>script</mark>&gt;")


def test_a_library_result_links_to_the_library_page(app, city):
    doc = factories.published(city, title="华城市停车场建设办法")
    item = search.search("停车", kind="library").items[0]
    with app.test_request_context():
        assert item.url == f"/library/{doc.id}"


# The page ----------------------------------------------------------------------------------------------


def test_the_page_shows_results_with_filters_kept_in_the_page_links(city, browser):
    start = factories.utcnow() - timedelta(hours=30)
    for i in range(23):
        _consultation(city, f"华城市停车管理办法（{i}）", opens_at=start + timedelta(hours=i))
    r = browser.get("/search?q=停车&kind=consultation&status=open")
    text = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "23" in text and text.count('class="card result result-consultation"') == 20
    assert "<mark>停车</mark>" in text
    assert 'href="/search?page=2&amp;q=%E5%81%9C%E8%BD%A6&amp;kind=consultation&amp;status=open"' in text
    second = browser.get("/search?page=2&q=停车&kind=consultation&status=open").get_data(as_text=True)
    assert second.count('class="card result result-consultation"') == 3
    assert 'rel="prev"' in second and 'rel="next"' not in second


def test_the_page_without_a_query_shows_the_form_only(city, browser):
    _consultation(city, "华城市停车管理办法")
    r = browser.get("/search")
    assert r.status_code == 200 and 'name="q"' in r.get_data(as_text=True)
    assert "华城市停车管理办法" not in r.get_data(as_text=True)
    assert "华城市停车管理办法" in browser.get("/search?kind=consultation").get_data(as_text=True)
    punctuation = browser.get("/search?q=，。")
    assert punctuation.status_code == 200 and "华城市停车管理办法" not in punctuation.get_data(as_text=True)


def test_the_department_and_year_choices_come_from_what_is_public(city, browser):
    _consultation(city, "华城市停车管理办法")
    _consultation(_other_department(city), "华城市市场办法", opens_at=factories.utcnow() + timedelta(days=2))
    page = browser.get("/search").get_data(as_text=True)
    assert "华城市住房和城乡建设局" in page and "华城市市场监督管理局" not in page
    market = city["drafter2"].department_id
    r = browser.get(f"/search?q=办法&department={market}")
    assert r.status_code == 400 and "华城市市场办法" not in r.get_data(as_text=True)


@pytest.mark.parametrize("query", [
    "kind=comments", "status=secret", "department=abc", "department=99999", "year=20x6", "year=99999",
    "page=0", "page=abc", "kind=library&status=open", "q=" + "长" * 201,
])
def test_bad_filter_values_get_a_message_not_an_error(city, browser, query):
    _consultation(city, "华城市停车管理办法")
    r = browser.get(f"/search?{query}&q=停车")  # the first value of a name counts
    assert r.status_code == 400
    assert re.search(r'class="error"( id="[a-z_]+-error-1")? role="alert"', r.get_data(as_text=True))


def test_a_year_without_entries_is_no_error(city, browser):
    _consultation(city, "华城市停车管理办法")
    r = browser.get("/search?q=停车&year=2019")
    assert r.status_code == 200 and "华城市停车管理办法" not in r.get_data(as_text=True)


def test_the_page_never_fails_whatever_the_query_string(app, city):
    _consultation(city, "华城市停车管理办法")
    client = app.test_client()
    names = st.sampled_from(["q", "kind", "department", "status", "year", "page", "other"])

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.dictionaries(names, st.text(max_size=30), max_size=6))
    def check(params):
        with app.app_context():
            response = client.get("/search", query_string=params)
        assert response.status_code in (200, 400)

    check()
    for raw in ("q=%ff%fe", "q=%00&year=%00", "department=%00&status=%00", "q=%E5%81&page=%ff"):
        with app.app_context():
            assert client.get(f"/search?{raw}").status_code in (200, 400)


def test_the_search_box_is_a_get_form_to_the_search_page(app):
    with app.test_request_context():
        from flask import render_template

        html = render_template("public/_search_box.html")
    assert 'action="/search"' in html and 'method="get"' in html and 'name="q"' in html and "<label" in html


# The index ---------------------------------------------------------------------------------------------


def test_indexing_again_replaces_the_terms(city):
    doc = _consultation(city, "华城市停车管理办法")
    consultation = consultations.consultation_of(doc)
    doc.title = "华城市道路管理办法"
    search.index_consultation(consultation)
    db.session.commit()
    assert search.search("停车").total == 0 and search.search("道路").total == 1
    assert db.session.scalar(db.select(db.func.count(SearchEntry.id))) == 1
    weights = dict(db.session.execute(db.select(SearchTerm.term, SearchTerm.weight)).all())
    assert weights["道路"] == search.TITLE_WEIGHT and weights["公告"] == 1


def test_an_unpublished_document_has_no_library_entry(city):
    doc = factories.in_publication(city, title="华城市停车场建设办法")
    search.index_document(doc)
    assert db.session.scalar(db.select(db.func.count(SearchEntry.id)).where(SearchEntry.kind == "library")) == 0


def test_reindex_command_rebuilds_the_index(app, city):
    _consultation(city, "华城市停车管理办法")
    factories.published(city, title="华城市停车场建设办法")
    db.session.execute(db.delete(SearchTerm))
    db.session.execute(db.delete(SearchEntry))
    db.session.commit()
    assert search.search("停车").total == 0
    result = app.test_cli_runner().invoke(search_group, ["reindex"])
    assert result.exit_code == 0, result.output
    assert "3" in result.output
    db.session.expire_all()
    assert {(i.kind, i.title.striptags()) for i in search.search("停车").items} == {
        ("consultation", "华城市停车管理办法"), ("consultation", "华城市停车场建设办法"),
        ("library", "华城市停车场建设办法")}
