"""``GET /api/v1/statistics``: the openness-assessment figures as data, the same as the page /statistics shows."""
from __future__ import annotations

from typing import Any

from ..models import utcnow
from ..services import statistics
from ..services.status import SHANGHAI
from . import bp, responses
from .errors import json_response
from .params import MAX_ID, YEARS, Query

RATES = ("answered_share", "adoption_rate", "feedback_on_time_rate", "reviews_on_time_rate",
         "publications_on_time_rate", "average_consultation_days")


@bp.get("/statistics")
def statistics_figures():
    query = Query()
    year = query.integer("year", *YEARS, default=utcnow().astimezone(SHANGHAI).year)
    department_id = query.integer("department_id", 1, MAX_ID)
    grain = query.choice("grain", statistics.GRAINS) or "month"
    query.done()
    result = statistics.reports(year, (grain, "year"), department_id)
    by_period, by_department = result[grain], result["year"]
    library = statistics.library_figures(department_id)
    return json_response({
        "year": year, "grain": grain, "department_id": department_id,
        "periods": [row.as_dict() for row in by_period.totals],
        "departments": [{"department": responses.department(d), "year": row.as_dict(),
                         "library": {key: library.get(d.id, {}).get(key, 0) for key in statistics.LIBRARY_FIELDS}}
                        for d, row in zip(by_department.departments, by_department.rows, strict=True)],
        "pre_disclosure_skip_reasons": [{"reason": reason, "count": n} for reason, n in by_period.skip_reasons],
        "annual_report": [{"department": responses.department(r.department) if r.department else None,
                           "made": r.made, "repealed": r.repealed, "in_force": r.in_force}
                          for r in statistics.annual_table(year)],
    })


def openapi_path(year: dict[str, Any], department: dict[str, Any]) -> dict[str, Any]:
    """The endpoint's entry in the OpenAPI document (consultation/api/openapi.py)."""
    from .openapi import COUNT, INTEGER, STRING, _get, _query, array, nullable, obj, ref

    rate = {"type": ["number", "null"], "minimum": 0}
    figures = obj({"department_id": nullable(INTEGER), "period": STRING,
                   **{name: COUNT for name in statistics.FIELDS}, **{name: rate for name in RATES}, "late": COUNT},
                  "the figures of one period (2026-03, 2026-Q1 or 2026); rates are fractions, null when nothing "
                  "was counted")
    answer = obj({
        "year": INTEGER, "grain": {"type": "string", "enum": list(statistics.GRAINS)},
        "department_id": nullable(INTEGER),
        "periods": array(figures),
        "departments": array(obj({"department": ref("Department"), "year": figures,
                                  "library": obj({k: COUNT for k in statistics.LIBRARY_FIELDS},
                                                 "the library today; expiring: in force, ending within 90 days")})),
        "pre_disclosure_skip_reasons": array(obj({"reason": STRING, "count": COUNT})),
        "annual_report": array(obj({"department": {"oneOf": [ref("Department"), {"type": "null"}]},
                                    "made": COUNT, "repealed": COUNT, "in_force": COUNT},
                                   "本年制发 / 本年废止 / 现行有效 per organ; department null: the total")),
    })
    return _get(
        "getStatistics", "The figures of government openness (公开考核数据) by period and department",
        {"description": "the figures", "content": {"application/json": {"schema": answer}}},
        [_query("year", year, "the year (Beijing time); default: the current year"), department,
         _query("grain", {"type": "string", "enum": list(statistics.GRAINS), "default": "month"},
                "figures by month, quarter or year")],
        {"400": {"description": "a query parameter is not valid",
                 "content": {"application/json": {"schema": ref("Error")}}}}, tag="statistics")
