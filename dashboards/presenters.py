"""The dashboards' figures as named, labelled values (for the API) and as tables (for the pages
and their CSV exports). Both come from the same selector results, so the page, the CSV and the
API always agree."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from health.models import Grade

from .selectors import (
    GRADES,
    NO_GRADE,
    Assumptions,
    CohortRow,
    Desk,
    Figures,
    HealthReport,
    ReasonRow,
    RenewalWindow,
    Report,
    TrendPoint,
)
from .tables import Cell, Column, Table


@dataclass(frozen=True)
class FigureDef:
    key: str
    label: str
    kind: str  # money, int, pct, pct2, number, nps, times, days
    get: Callable[[Figures, Assumptions], Any]
    better: str = ""  # "up", "down" or "" (neither)
    drilldown: str = ""  # the accounts behind it (selectors.DRILLDOWNS)
    section: str = ""


def _surveys(attr: str) -> Callable[[Figures, Assumptions], Any]:
    return lambda f, a: getattr(f, attr) if f.surveys else None


def figure_defs() -> list[FigureDef]:
    retention, revenue, value, sentiment = _("Retention"), _("Revenue"), _("Lifetime value"), _("Sentiment")
    return [
        FigureDef("logo_churn", _("Logo churn"), "pct", lambda f, a: f.logo_churn, "down", "lost", retention),
        FigureDef(
            "net_revenue_churn",
            _("Net revenue churn"),
            "pct",
            lambda f, a: f.net_revenue_churn,
            "down",
            "",
            retention,
        ),
        FigureDef(
            "gross_revenue_churn",
            _("Gross revenue churn"),
            "pct",
            lambda f, a: f.gross_revenue_churn,
            "down",
            "",
            retention,
        ),
        FigureDef("nrr", _("Net revenue retention (NRR)"), "pct", lambda f, a: f.nrr, "up", "", retention),
        FigureDef("grr", _("Gross revenue retention (GRR)"), "pct", lambda f, a: f.grr, "up", "", retention),
        FigureDef(
            "cohort",
            _("Starting cohort (active on the first day)"),
            "int",
            lambda f, a: f.cohort if f.has_revenue else None,
            "",
            "cohort",
            retention,
        ),
        FigureDef(
            "lost",
            _("Accounts lost"),
            "int",
            lambda f, a: f.lost if f.has_revenue else None,
            "down",
            "lost",
            retention,
        ),
        FigureDef(
            "retained",
            _("Accounts retained"),
            "int",
            lambda f, a: f.retained if f.has_revenue else None,
            "up",
            "retained",
            retention,
        ),
        FigureDef(
            "mrr_start", _("MRR on the first day"), "money", lambda f, a: f.mrr_start, "up", "cohort", revenue
        ),
        FigureDef(
            "mrr_end",
            _("MRR on the last day"),
            "money",
            lambda f, a: f.mrr_end_or_none,
            "up",
            "active",
            revenue,
        ),
        FigureDef(
            "active_end",
            _("Active accounts on the last day"),
            "int",
            lambda f, a: f.active_end_or_none,
            "up",
            "active",
            revenue,
        ),
        FigureDef(
            "arpa", _("ARPA (MRR per active account)"), "money", lambda f, a: f.arpa, "up", "", revenue
        ),
        FigureDef(
            "logo_churn_12m",
            _("Logo churn over the 12 months to the last day"),
            "pct",
            lambda f, a: f.logo_churn_12m,
            "down",
            "",
            value,
        ),
        FigureDef(
            "monthly_churn_rate",
            _("Monthly churn rate"),
            "pct2",
            lambda f, a: f.monthly_churn_rate,
            "down",
            "",
            value,
        ),
        FigureDef(
            "clv", _("Customer lifetime value (simple)"), "money", lambda f, a: f.clv(a), "up", "", value
        ),
        FigureDef(
            "discounted_clv",
            _("Customer lifetime value (discounted)"),
            "money",
            lambda f, a: f.discounted_clv(a),
            "up",
            "",
            value,
        ),
        FigureDef(
            "cac_accounts",
            _("Accounts with an acquisition cost"),
            "int",
            lambda f, a: f.cac_n,
            "",
            "",
            value,
        ),
        FigureDef(
            "mean_cac", _("Mean acquisition cost"), "money", lambda f, a: f.mean_cac, "down", "", value
        ),
        FigureDef("ltv_cac", _("LTV:CAC (simple CLV)"), "times", lambda f, a: f.ltv_cac(a), "up", "", value),
        FigureDef(
            "discounted_ltv_cac",
            _("LTV:CAC (discounted CLV)"),
            "times",
            lambda f, a: f.discounted_ltv_cac(a),
            "up",
            "",
            value,
        ),
        FigureDef(
            "time_to_value",
            _("Time-to-value (median days)"),
            "days",
            lambda f, a: f.time_to_value,
            "down",
            "",
            value,
        ),
        FigureDef("nps", _("NPS"), "nps", lambda f, a: f.nps, "up", "", sentiment),
        FigureDef("nps_answers", _("NPS answers"), "int", _surveys("nps_n"), "", "", sentiment),
        FigureDef("csat", _("CSAT (answers of 4 or 5)"), "pct", lambda f, a: f.csat, "up", "", sentiment),
        FigureDef("csat_answers", _("CSAT answers"), "int", _surveys("csat_n"), "", "", sentiment),
        FigureDef("ces", _("CES (mean, 1 to 7)"), "number", lambda f, a: f.ces, "up", "", sentiment),
        FigureDef(
            "ces_easy", _("CES: answering 5 to 7"), "pct", lambda f, a: f.ces_easy_share, "up", "", sentiment
        ),
        FigureDef("ces_answers", _("CES answers"), "int", _surveys("ces_n"), "", "", sentiment),
    ]


HEADLINE = ("logo_churn", "nrr", "grr", "net_revenue_churn", "mrr_end", "active_end", "arpa", "nps")

CHANGE_KIND = {
    "pct": "pp",
    "pct2": "pp",
    "money": "signed_money",
    "int": "signed_int",
    "number": "signed_number",
    "nps": "signed_number",
    "times": "signed_number",
    "days": "signed_days",
}


def _change(current, previous):
    if current is None or previous is None:
        return None
    if isinstance(current, Decimal) or isinstance(previous, Decimal):
        return Decimal(current) - Decimal(previous)
    return current - previous


def trend_class(definition: FigureDef, change) -> str:
    if not change or not definition.better:
        return ""
    good = (change > 0) == (definition.better == "up")
    return "change up" if good else "change down"


def with_params(params: dict, **changes) -> str:
    merged = {k: v for k, v in params.items() if v not in (None, "")}
    for key, value in changes.items():
        if value in (None, ""):
            merged.pop(key, None)
        else:
            merged[key] = value
    return "?" + urlencode(merged) if merged else "?"


# ---------------------------------------------------------------- API values


def api_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return round(value, 10)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def figures_dict(figures: Figures, assumptions: Assumptions) -> dict[str, Any]:
    return {d.key: api_value(d.get(figures, assumptions)) for d in figure_defs()}


def waterfall_list(figures: Figures) -> list[dict]:
    return [
        {"step": key, "label": label, "amount": api_value(amount), "accounts": accounts}
        for key, label, amount, accounts in figures.waterfall()
    ]


# ---------------------------------------------------------------- leadership tables


def headline_cards(report: Report, params: dict) -> list[dict]:
    defs = {d.key: d for d in figure_defs()}
    cards = []
    for key in HEADLINE:
        d = defs[key]
        current, previous = (
            d.get(report.current, report.assumptions),
            d.get(report.previous, report.assumptions),
        )
        change = _change(current, previous)
        cards.append(
            {
                "key": key,
                "label": d.label,
                # a tile shows whole units of large amounts; the tables below keep the cents
                "kind": "money_whole" if d.kind == "money" and _large(current, previous) else d.kind,
                "current": current,
                "previous": previous,
                "change": change,
                "change_kind": "signed_money_whole"
                if d.kind == "money" and _large(current, previous)
                else CHANGE_KIND[d.kind],
                "trend": trend_class(d, change),
                "href": drilldown_href(params, d.drilldown) if d.drilldown and current is not None else None,
            }
        )
    return cards


def _large(*amounts) -> bool:
    return any(a is not None and abs(a) >= 100_000 for a in amounts)


def drilldown_href(params: dict, which: str) -> str:
    return reverse("dashboards:drilldown") + with_params(params, list=which, by=None, export=None, page=None)


def figure_tables(report: Report, params: dict) -> list[Table]:
    """The headline figures by theme, this period against the one before."""
    tables: dict[str, Table] = {}
    period, previous = report.period.label, report.previous_period.label
    for d in figure_defs():
        table = tables.get(d.section)
        if table is None:
            table = tables[d.section] = Table(
                id=f"figures-{len(tables) + 1}",
                title=d.section,
                columns=[
                    Column("figure", _("Figure")),
                    Column("current", period, "number"),
                    Column("previous", previous, "number"),
                    Column("change", _("Change"), "number"),
                ],
                css="figures",
            )
        current, prev = d.get(report.current, report.assumptions), d.get(report.previous, report.assumptions)
        change = _change(current, prev)
        from . import formatting

        href = drilldown_href(params, d.drilldown) if d.drilldown and current is not None else None
        raw_kind = "pct" if d.kind in ("pct", "pct2") else d.kind
        table.rows.append(
            [
                Cell(d.label, text=str(d.label)),
                Cell(
                    _pct_raw(current, raw_kind),
                    href=href,
                    html=formatting.display(current, d.kind),
                    text=_csv(current, raw_kind),
                ),
                Cell(
                    _pct_raw(prev, raw_kind), html=formatting.display(prev, d.kind), text=_csv(prev, raw_kind)
                ),
                Cell(
                    _pct_raw(change, raw_kind),
                    html=formatting.display(change, CHANGE_KIND[d.kind]),
                    css=trend_class(d, change),
                    text=_csv(change, raw_kind),
                ),
            ]
        )
    for table in tables.values():
        table.description = _(
            "Percentages in the CSV are numbers of percent; changes of percentages are percentage points."
        )
    return list(tables.values())


def _pct_raw(value, kind: str):
    """Cells of the figures tables hold numbers of one column kind ("number"): a ratio is
    shown as a number of percent there."""
    if value is None:
        return None
    if kind == "pct":
        return float(value) * 100
    return value


def _csv(value, kind: str) -> str:
    if value is None:
        return ""
    if kind == "pct":
        return f"{float(value) * 100:.2f}"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def waterfall_table(report: Report, params: dict) -> Table:
    drill = {"start": "cohort", "end": "active"}
    rows = []
    for key, label, amount, accounts in report.current.waterfall():
        which = drill.get(key, key)
        rows.append(
            [
                Cell(label, text=label),
                amount,
                Cell(accounts, href=drilldown_href(params, which) if accounts else None),
            ]
        )
    return Table(
        id="waterfall",
        title=_("MRR waterfall"),
        description=_(
            "MRR on the first day, plus the movements dated after it up to the last day, by kind, "
            "equals MRR on the last day. Losses are negative."
        ),
        columns=[
            Column("step", _("Step")),
            Column("amount", _("MRR"), "money"),
            Column("accounts", _("Accounts"), "int"),
        ],
        rows=rows,
        empty=_("No revenue history in this scope yet: no data."),
        chart={"type": "waterfall", "series": ["amount"], "currency": _currency()},
    )


def _currency() -> str:
    from django.conf import settings

    return settings.REPORTING_CURRENCY


def trend_table(points: list[TrendPoint]) -> Table:
    rows = []
    for point in points:
        f = point.figures
        rows.append(
            [
                Cell(point.period.label, text=point.month.strftime("%Y-%m")),
                f.mrr_end_or_none,
                f.active_end_or_none,
                f.logo_churn,
                f.nrr,
                f.grr,
            ]
        )
    has_data = any(p.figures.has_revenue for p in points)
    return Table(
        id="trend",
        title=_("The last 12 months"),
        description=_(
            "Each month on its own: MRR and active accounts on its last day, and its logo churn, NRR and GRR."
        ),
        columns=[
            Column("month", _("Month")),
            Column("mrr", _("MRR"), "money"),
            Column("active", _("Active accounts"), "int"),
            Column("logo_churn", _("Logo churn"), "pct"),
            Column("nrr", _("NRR"), "pct"),
            Column("grr", _("GRR"), "pct"),
        ],
        rows=rows if has_data else [],
        empty=_("No revenue history in this scope yet: no data."),
        chart={"type": "line", "series": ["mrr"], "currency": _currency()},
    )


def breakdown_table(report: Report, params: dict) -> Table:
    dimension = report.dimension
    a = report.assumptions
    rows = []
    for s in report.slices:
        f = s.figures
        rows.append(
            [
                Cell(s.label, href=with_params(params, **{dimension.key: s.param}), text=s.label),
                f.cohort,
                f.lost,
                f.logo_churn,
                f.net_revenue_churn,
                f.nrr,
                f.grr,
                f.mrr_start,
                f.mrr_end_or_none,
                f.active_end_or_none,
                f.arpa,
                f.movements["new"],
                f.movements["expansion"],
                f.movements["contraction"],
                f.movements["churn"],
                f.movements["reactivation"],
                f.clv(a),
                f.ltv_cac(a),
                f.nps,
                f.csat,
                f.ces,
            ]
        )
    return Table(
        id="breakdown",
        title=_("By %(dimension)s") % {"dimension": str(dimension.label).lower()},
        description=_("Every slice over the same period; choose a slice to see all its figures."),
        columns=[
            Column("slice", dimension.label),
            Column("cohort", _("Cohort"), "int"),
            Column("lost", _("Lost"), "int"),
            Column("logo_churn", _("Logo churn"), "pct"),
            Column("net_revenue_churn", _("Net revenue churn"), "pct"),
            Column("nrr", _("NRR"), "pct"),
            Column("grr", _("GRR"), "pct"),
            Column("mrr_start", _("MRR first day"), "money"),
            Column("mrr_end", _("MRR last day"), "money"),
            Column("active_end", _("Active"), "int"),
            Column("arpa", _("ARPA"), "money"),
            Column("new", _("New"), "money"),
            Column("expansion", _("Expansion"), "money"),
            Column("contraction", _("Contraction"), "money"),
            Column("churn", _("Churned"), "money"),
            Column("reactivation", _("Reactivation"), "money"),
            Column("clv", _("CLV"), "money"),
            Column("ltv_cac", _("LTV:CAC"), "times"),
            Column("nps", _("NPS"), "nps"),
            Column("csat", _("CSAT"), "pct"),
            Column("ces", _("CES"), "number"),
        ],
        rows=rows,
        empty=_("No accounts with revenue history in this scope: no data."),
        chart={
            "type": "bar",
            "series": ["logo_churn", "net_revenue_churn"],
            "percent": True,
            "palette": ["#c0392b", "#2451c7"],
        },
        css="wide",
    )


def sentiment_tables(report: Report) -> list[Table]:
    cur, prv = report.current, report.previous
    from . import formatting

    def score(value, kind):
        return Cell(
            _pct_raw(value, "pct" if kind == "pct" else kind),
            html=formatting.display(value, kind),
            text=_csv(value, "pct" if kind == "pct" else kind),
        )

    def answers(f: Figures, attr: str):
        return getattr(f, attr) if f.surveys else None

    scores = Table(
        id="sentiment",
        title=_("NPS, CSAT and CES"),
        description=_(
            "Answers given in the period. NPS: % promoters (9–10) − % detractors (0–6). CSAT: % of answers "
            "that are 4 or 5. CES: the mean of 1–7 answers to “the company made it easy to handle my issue”."
        ),
        columns=[
            Column("survey", _("Survey")),
            Column("score", report.period.label, "number"),
            Column("answers", _("Answers"), "int"),
            Column("previous", report.previous_period.label, "number"),
            Column("previous_answers", _("Answers before"), "int"),
        ],
        rows=[
            [
                _("NPS"),
                score(cur.nps, "nps"),
                answers(cur, "nps_n"),
                score(prv.nps, "nps"),
                answers(prv, "nps_n"),
            ],
            [
                _("CSAT"),
                score(cur.csat, "pct"),
                answers(cur, "csat_n"),
                score(prv.csat, "pct"),
                answers(prv, "csat_n"),
            ],
            [
                _("CES (mean)"),
                score(cur.ces, "number"),
                answers(cur, "ces_n"),
                score(prv.ces, "number"),
                answers(prv, "ces_n"),
            ],
            [
                _("CES: 5 to 7"),
                score(cur.ces_easy_share, "pct"),
                answers(cur, "ces_n"),
                score(prv.ces_easy_share, "pct"),
                answers(prv, "ces_n"),
            ],
        ],
    )
    bands = Table(
        id="nps-bands",
        title=_("NPS answers by band"),
        columns=[
            Column("band", _("Band")),
            Column("current", report.period.label, "int"),
            Column("previous", report.previous_period.label, "int"),
        ],
        rows=[
            [_("Promoters (9–10)"), answers(cur, "nps_promoters"), answers(prv, "nps_promoters")],
            [
                _("Passives (7–8)"),
                cur.nps_passives if cur.surveys else None,
                prv.nps_passives if prv.surveys else None,
            ],
            [_("Detractors (0–6)"), answers(cur, "nps_detractors"), answers(prv, "nps_detractors")],
        ]
        if (cur.nps_n or prv.nps_n)
        else [],
        empty=_("No NPS answers in these periods: no data."),
        chart={"type": "bar", "series": ["current", "previous"]},
    )
    return [scores, bands]


def _grade_label(grade: str | None) -> str:
    if grade is None:
        return _("Not scored")
    return {
        Grade.RED: _("Red"),
        Grade.YELLOW: _("Yellow"),
        Grade.GREEN: _("Green"),
        NO_GRADE: _("No grade (not enough data)"),
    }[grade]


def health_tables(health: HealthReport, report: Report) -> list[Table]:
    day_s = date_format(health.day_start, "j M Y") if health.day_start else _("no snapshot")
    day_e = date_format(health.day_end, "j M Y") if health.day_end else _("no snapshot")
    rows = []
    if health.has_data:
        for grade in (*GRADES, NO_GRADE):
            start = health.start.get(grade, 0) if health.day_start else None
            end = health.end.get(grade, 0)
            if grade == NO_GRADE and not start and not end:
                continue
            rows.append(
                [
                    Cell(
                        _grade_label(grade),
                        css=f"grade-row grade-{grade or 'none'}",
                        text=_grade_label(grade),
                    ),
                    start,
                    end,
                    None if start is None else end - start,
                ]
            )
    distribution = Table(
        id="grades",
        title=_("Health grades"),
        description=_(
            "Accounts by grade in the daily health snapshots of (or just before) the first and last day."
        ),
        columns=[
            Column("grade", _("Grade")),
            Column("start", day_s, "int"),
            Column("end", day_e, "int"),
            Column("change", _("Change"), "signed_int"),
        ],
        rows=rows,
        empty=_("No health scores for this period yet: no data."),
        chart={"type": "bar", "series": ["start", "end"], "colors": "grades"},
    )
    states: list[str | None] = [*GRADES, NO_GRADE, None]
    matrix_rows = []
    if health.has_migration:
        totals = {
            before: sum(n for (b, _after), n in health.matrix.items() if b == before) for before in states
        }
        for before in states:
            if not totals[before]:
                continue
            row: list[Any] = [Cell(_grade_label(before), text=_grade_label(before))]
            for after in states:
                n = health.matrix.get((before, after), 0)
                share = n / totals[before] if totals[before] else 0
                row.append(Cell(n, css=f"heat heat-{min(9, int(share * 10))}" if n else ""))
            row.append(totals[before])
            matrix_rows.append(row)
    matrix = Table(
        id="grade-moves",
        title=_("How accounts moved between grades"),
        description=_("Rows: the grade on %(start)s; columns: the grade on %(end)s.")
        % {"start": day_s, "end": day_e},
        columns=[
            Column("from", _("From \\ to")),
            *(Column(_state_key(g), _grade_label(g), "int") for g in states),
            Column("total", _("Total"), "int"),
        ],
        rows=matrix_rows,
        empty=_("Needs health snapshots on two different days of the period: no data yet."),
        css="matrix",
    )
    return [distribution, matrix]


def _state_key(grade: str | None) -> str:
    return "to_unscored" if grade is None else f"to_{grade or 'none'}"


def churn_reason_table(reasons: list[ReasonRow], report: Report) -> Table:
    return Table(
        id="churn-reasons",
        title=_("Why accounts churned"),
        description=_("Churn movements in the period by the account's churn reason, with the MRR they took."),
        columns=[
            Column("reason", _("Reason")),
            Column("accounts", _("Accounts"), "int"),
            Column("mrr", _("MRR lost"), "money"),
            Column("previous", report.previous_period.label, "int"),
        ],
        rows=[[r.label, r.accounts, r.mrr, r.previous_accounts] for r in reasons],
        empty=_("No account churned in these periods.")
        if report.current.has_revenue
        else _("No revenue history: no data."),
        chart={"type": "bar", "series": ["accounts"], "horizontal": True},
    )


# ---------------------------------------------------------------- cohorts


def cohort_tables(rows: list[CohortRow], params: dict) -> list[Table]:
    months = len(rows[0].cells) if rows else 0
    offsets = [Column(f"m{k}", _("Month %(k)s") % {"k": k}, "pct") for k in range(months)]
    logo_rows, revenue_rows = [], []
    for row in rows:
        label = Cell(
            date_format(row.month, "M Y"),
            href=with_params(params, cohort=row.month.strftime("%Y-%m")),
            text=row.month.strftime("%Y-%m"),
        )
        logo = [label, row.signed, row.base_accounts]
        revenue = [label, row.signed, row.base_mrr]
        for k in range(months):
            if row.cells[k][0] is None:  # not reached yet: left blank
                logo.append(Cell(None, html="", css="future"))
                revenue.append(Cell(None, html="", css="future"))
                continue
            lv, rv = row.logo(k), row.revenue(k)
            logo.append(Cell(lv, css=_heat(lv)))
            revenue.append(Cell(rv, css=_heat(rv)))
        logo_rows.append(logo)
        revenue_rows.append(revenue)
    note = _(
        "Cohort: accounts whose contract started that month. Base: those of them active at the end of that "
        "month. Month k: the end of the k-th month after it (month 0 is the signup month itself). Blank: "
        "not reached yet; no data: no account of the cohort was active at the end of its signup month."
    )
    return [
        Table(
            id="cohort-logo",
            title=_("Logo retention by signup month"),
            description=note,
            columns=[
                Column("cohort", _("Signup month")),
                Column("signed", _("Signed"), "int"),
                Column("base", _("Active at month end"), "int"),
                *offsets,
            ],
            rows=logo_rows,
            css="cohorts",
        ),
        Table(
            id="cohort-revenue",
            title=_("Revenue retention by signup month"),
            description=note,
            columns=[
                Column("cohort", _("Signup month")),
                Column("signed", _("Signed"), "int"),
                Column("base", _("MRR at month end"), "money"),
                *offsets,
            ],
            rows=revenue_rows,
            css="cohorts",
        ),
    ]


def _heat(value: float | None) -> str:
    if value is None:
        return "heat-none"
    return f"heat heat-{max(0, min(9, int(value * 10 - 0.0001)))}"


# ---------------------------------------------------------------- renewals and the CSM desk


def _portfolio(**params) -> str:
    return reverse("accounts:portfolio") + "?" + urlencode(params)


def renewal_table(
    windows: list[RenewalWindow], *, renewals_href: Callable[[int], str] | None = None
) -> Table:
    rows = []
    for w in windows:
        href = renewals_href(w.days) if renewals_href else _portfolio(renewal=w.days)
        rows.append(
            [
                Cell(_("Next %(n)s days") % {"n": w.days}, href=href, text=str(w.days)),
                Cell(w.accounts, href=href),
                w.mrr,
                w.at_risk_accounts,
                w.mrr_at_risk,
                w.by_grade.get(Grade.RED, 0),
                w.by_grade.get(Grade.YELLOW, 0),
                w.by_grade.get(Grade.GREEN, 0),
                w.unscored,
            ]
        )
    return Table(
        id="renewals",
        title=_("Renewals coming"),
        description=_(
            "Current customers whose renewal date falls in the window; MRR at risk is the MRR of red "
            "and yellow accounts."
        ),
        columns=[
            Column("window", _("Window")),
            Column("accounts", _("Accounts"), "int"),
            Column("mrr", _("MRR"), "money"),
            Column("at_risk", _("At risk (red or yellow)"), "int"),
            Column("mrr_at_risk", _("MRR at risk"), "money"),
            Column("red", _("Red"), "int"),
            Column("yellow", _("Yellow"), "int"),
            Column("green", _("Green"), "int"),
            Column("unscored", _("No score"), "int"),
        ],
        rows=rows,
        chart={
            "type": "bar",
            "series": ["mrr", "mrr_at_risk"],
            "currency": _currency(),
            "palette": ["#2451c7", "#c0392b"],
        },
    )


def renewing_accounts_table(accounts, today: dt.date, *, shows_owner: bool) -> Table:
    from django.utils.html import format_html

    rows = []
    for account in accounts:
        health = getattr(account, "health", None)
        grade = health.grade if health else ""
        chip = (
            format_html('<span class="grade grade-{}">{}</span>', grade, _grade_label(grade))
            if grade
            else format_html('<span class="no-data">{}</span>', _("no data"))
        )
        rows.append(
            [
                Cell(account.name, href=account.get_absolute_url(), text=account.name),
                str(account.owner) if account.owner else _("Unassigned"),
                Cell(date_format(account.renewal_date, "j M Y"), text=account.renewal_date.isoformat()),
                (account.renewal_date - today).days,
                Cell(grade or None, html=chip, text=grade),
                health.score if health else None,
                account.mrr,
                account.get_segment_display(),
                account.get_tier_display(),
            ]
        )
    columns = [
        Column("account", _("Account")),
        Column("owner", _("Owner")),
        Column("renewal", _("Renewal")),
        Column("days", _("Days left"), "int"),
        Column("grade", _("Grade"), "html"),
        Column("score", _("Score"), "int"),
        Column("mrr", _("MRR"), "money"),
        Column("segment", _("Segment")),
        Column("tier", _("Tier")),
    ]
    if not shows_owner:
        columns.pop(1)
        rows = [row[:1] + row[2:] for row in rows]
    return Table(
        id="renewing-accounts",
        title=_("Accounts renewing"),
        columns=columns,
        rows=rows,
        empty=_("No account renews in this window."),
    )


def desk_tables(d: Desk) -> list[Table]:
    grade_rows = []
    for g in d.grades:
        href = _portfolio(grade=g.grade or "none")
        grade_rows.append(
            [
                Cell(
                    _grade_label(g.grade),
                    css=f"grade-row grade-{g.grade or 'none'}",
                    href=href,
                    text=_grade_label(g.grade),
                ),
                Cell(g.accounts, href=href),
                g.mrr,
            ]
        )
    grades = Table(
        id="my-grades",
        title=_("Accounts by health grade"),
        columns=[
            Column("grade", _("Grade")),
            Column("accounts", _("Accounts"), "int"),
            Column("mrr", _("MRR"), "money"),
        ],
        rows=grade_rows if d.accounts else [],
        empty=_("No customer accounts in your portfolio yet."),
        chart={"type": "doughnut", "series": ["accounts"], "colors": "grades"},
    )
    return [grades, renewal_table(d.renewals)]


def drilldown_table(accounts, *, shows_owner: bool) -> Table:
    rows = []
    for account in accounts:
        start, end = account.mrr_start, account.mrr_end
        from .selectors import cents

        start = cents(start) if start is not None else Decimal("0.00")
        end = cents(end) if end is not None else Decimal("0.00")
        rows.append(
            [
                Cell(account.name, href=account.get_absolute_url(), text=account.name),
                str(account.owner) if account.owner else _("Unassigned"),
                account.get_segment_display(),
                account.get_tier_display(),
                account.plan,
                start,
                end,
                end - start,
                account.get_churn_reason_display() if account.churn_reason else "",
            ]
        )
    columns = [
        Column("account", _("Account")),
        Column("owner", _("Owner")),
        Column("segment", _("Segment")),
        Column("tier", _("Tier")),
        Column("plan", _("Plan")),
        Column("mrr_start", _("MRR first day"), "money"),
        Column("mrr_end", _("MRR last day"), "money"),
        Column("change", _("Change"), "signed_money"),
        Column("churn_reason", _("Churn reason")),
    ]
    if not shows_owner:
        columns.pop(1)
        rows = [row[:1] + row[2:] for row in rows]
    return Table(id="accounts", title=_("Accounts"), columns=columns, rows=rows, empty=_("No accounts."))
