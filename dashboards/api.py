"""/api/v1/metrics/…: every dashboard figure for other tools, with the pages' own period and
slice parameters (``period``, ``date``, ``start``, ``end``, ``segment``, ``tier``, ``plan``,
``owner``, ``cohort``, ``by``, ``margin``, ``discount``), computed by the same selectors, so
the API and the pages always show the same numbers.

Money is a string with two decimals in the reporting currency; ratios are fractions (0.109
is 10.9 %); ``null`` means no data (never 0). Leadership figures are for managers and
admins (403 for a CSM); renewals and the CSM dashboard's figures are for any role, over the
accounts the caller sees.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.reverse import reverse

from api.permissions import IsManager
from api.viewsets import ApiView

from . import presenters, selectors
from .forms import MetricsForm
from .presenters import api_value

# ---------------------------------------------------------------- documentation of the shapes


class MetricsQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(
        choices=["month", "quarter", "year", "custom"], required=False, help_text="Default: month."
    )
    date = serializers.DateField(
        required=False, help_text="A day in the period (default: the last complete period)."
    )
    start = serializers.DateField(required=False, help_text="First day, with period=custom.")
    end = serializers.DateField(required=False, help_text="Last day, with period=custom.")
    segment = serializers.CharField(required=False, help_text="Only accounts of this segment.")
    tier = serializers.CharField(required=False, help_text="Only accounts of this tier.")
    plan = serializers.CharField(required=False, help_text="Only accounts on this plan.")
    owner = serializers.IntegerField(required=False, help_text="Only accounts of this owner (user id).")
    cohort = serializers.CharField(
        required=False, help_text="Only accounts whose contract started that month (YYYY-MM)."
    )
    margin = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, help_text="Gross margin in % (default from settings)."
    )
    discount = serializers.DecimalField(
        max_digits=6, decimal_places=3, required=False, help_text="Monthly discount rate in %."
    )


class BreakdownQuerySerializer(MetricsQuerySerializer):
    by = serializers.ChoiceField(
        choices=["segment", "tier", "plan", "owner", "cohort"], required=False, help_text="Default: segment."
    )


class PeriodSerializer(serializers.Serializer):
    kind = serializers.CharField()
    start = serializers.DateField(help_text="S: the cohort is the accounts active on this day.")
    end = serializers.DateField(help_text="E (today for a period not over yet).")
    label = serializers.CharField()
    to_date = serializers.BooleanField(help_text="The period is not over yet and ends today.")


def _figures_serializer() -> type[serializers.Serializer]:
    kinds = {
        "money": lambda: serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True),
        "int": lambda: serializers.IntegerField(allow_null=True),
    }
    attrs = {
        d.key: kinds.get(d.kind, lambda: serializers.FloatField(allow_null=True))()
        for d in presenters.figure_defs()
    }
    return type("MetricsFiguresSerializer", (serializers.Serializer,), attrs)


FiguresSerializer = _figures_serializer()


class WaterfallStepSerializer(serializers.Serializer):
    step = serializers.ChoiceField(
        choices=["start", "new", "expansion", "contraction", "churn", "reactivation", "end"]
    )
    label = serializers.CharField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    accounts = serializers.IntegerField()


class AssumptionsSerializer(serializers.Serializer):
    gross_margin = serializers.FloatField()
    discount_rate = serializers.FloatField(help_text="Monthly.")


class SummarySerializer(serializers.Serializer):
    currency = serializers.CharField()
    period = PeriodSerializer()
    previous_period = PeriodSerializer()
    scope = serializers.DictField(child=serializers.CharField(allow_null=True))
    assumptions = AssumptionsSerializer()
    current = FiguresSerializer()
    previous = FiguresSerializer()
    waterfall = WaterfallStepSerializer(many=True)
    previous_waterfall = WaterfallStepSerializer(many=True)


class SliceSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    label = serializers.CharField()
    figures = FiguresSerializer()


class BreakdownSerializer(serializers.Serializer):
    currency = serializers.CharField()
    period = PeriodSerializer()
    by = serializers.CharField()
    slices = SliceSerializer(many=True)
    total = FiguresSerializer()


class TrendMonthSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    start = serializers.DateField()
    end = serializers.DateField()
    mrr_end = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    active_end = serializers.IntegerField(allow_null=True)
    logo_churn = serializers.FloatField(allow_null=True)
    nrr = serializers.FloatField(allow_null=True)
    grr = serializers.FloatField(allow_null=True)


class TrendSerializer(serializers.Serializer):
    currency = serializers.CharField()
    months = TrendMonthSerializer(many=True)


class GradeMoveSerializer(serializers.Serializer):
    before = serializers.CharField(allow_null=True, help_text="Grade on S; null: not scored then.")
    after = serializers.CharField(allow_null=True, help_text="Grade on E; null: not scored then.")
    accounts = serializers.IntegerField()


class HealthSerializer(serializers.Serializer):
    period = PeriodSerializer()
    snapshot_day_start = serializers.DateField(allow_null=True)
    snapshot_day_end = serializers.DateField(allow_null=True)
    grades_start = serializers.DictField(child=serializers.IntegerField(), allow_null=True)
    grades_end = serializers.DictField(child=serializers.IntegerField(), allow_null=True)
    moves = GradeMoveSerializer(many=True, allow_null=True)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()
    label = serializers.CharField()
    accounts = serializers.IntegerField()
    mrr = serializers.DecimalField(max_digits=16, decimal_places=2)
    previous_accounts = serializers.IntegerField()


class ChurnReasonsSerializer(serializers.Serializer):
    currency = serializers.CharField()
    period = PeriodSerializer()
    previous_period = PeriodSerializer()
    reasons = ReasonSerializer(many=True)


class CohortSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM, the signup (contract start) month.")
    signed = serializers.IntegerField()
    base_accounts = serializers.IntegerField(help_text="Active at the end of the signup month.")
    base_mrr = serializers.DecimalField(max_digits=16, decimal_places=2)
    logo = serializers.ListField(child=serializers.FloatField(allow_null=True))
    revenue = serializers.ListField(child=serializers.FloatField(allow_null=True))
    active = serializers.ListField(child=serializers.IntegerField(allow_null=True))
    mrr = serializers.ListField(child=serializers.CharField(allow_null=True))


class CohortsSerializer(serializers.Serializer):
    currency = serializers.CharField()
    cohorts = CohortSerializer(many=True)


class RenewalWindowSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    accounts = serializers.IntegerField()
    mrr = serializers.DecimalField(max_digits=16, decimal_places=2)
    at_risk_accounts = serializers.IntegerField()
    mrr_at_risk = serializers.DecimalField(max_digits=16, decimal_places=2)
    by_grade = serializers.DictField(child=serializers.IntegerField())


class RenewalsSerializer(serializers.Serializer):
    currency = serializers.CharField()
    today = serializers.DateField()
    windows = RenewalWindowSerializer(many=True)


class DeskSerializer(serializers.Serializer):
    currency = serializers.CharField()
    today = serializers.DateField()
    accounts = serializers.IntegerField()
    mrr = serializers.DecimalField(max_digits=16, decimal_places=2)
    grades = serializers.DictField(child=serializers.IntegerField())
    mrr_by_grade = serializers.DictField(child=serializers.CharField())
    mrr_at_risk = serializers.DecimalField(max_digits=16, decimal_places=2)
    tasks_due_today = serializers.IntegerField()
    tasks_overdue = serializers.IntegerField()
    renewals = RenewalWindowSerializer(many=True)
    detractors_last_30_days = serializers.IntegerField(allow_null=True)
    onboarding_behind_schedule = serializers.IntegerField(allow_null=True)


class MetricsIndexSerializer(serializers.Serializer):
    summary = serializers.URLField()
    breakdown = serializers.URLField()
    trend = serializers.URLField()
    health = serializers.URLField()
    churn_reasons = serializers.URLField()
    cohorts = serializers.URLField()
    renewals = serializers.URLField()
    portfolio = serializers.URLField()


# ---------------------------------------------------------------- views


def _grade_key(grade: str | None) -> str:
    return "unscored" if grade is None else (grade or "none")


class MetricsView(ApiView):
    """Reads the shared filter form; a bad parameter is a 400 with the field's message."""

    def form(self, request) -> MetricsForm:
        form = MetricsForm(request.query_params, user=request.user, today=timezone.localdate())
        if not form.is_valid():
            raise ValidationError(
                {
                    ("non_field_errors" if field == "__all__" else field): [e["message"] for e in errors]
                    for field, errors in form.errors.get_json_data().items()
                }
            )
        return form


class ManagerMetricsView(MetricsView):
    permission_classes = [*MetricsView.permission_classes, IsManager]


class MetricsIndexView(MetricsView):
    @extend_schema(responses=MetricsIndexSerializer, tags=["metrics"], summary="The metrics endpoints")
    def get(self, request):
        names = (
            "summary",
            "breakdown",
            "trend",
            "health",
            "churn_reasons",
            "cohorts",
            "renewals",
            "portfolio",
        )
        return Response(
            {name: reverse(f"api:metrics-{name.replace('_', '-')}", request=request) for name in names}
        )


class SummaryView(ManagerMetricsView):
    @extend_schema(
        parameters=[MetricsQuerySerializer],
        responses=SummarySerializer,
        description="Managers and admins only (403 for a CSM).",
        tags=["metrics"],
        summary="Every headline figure of a period and the one before",
    )
    def get(self, request):
        form = self.form(request)
        period = form.get_period()
        report = selectors.leadership_report(
            scope=form.get_scope(), period=period, assumptions=form.get_assumptions()
        )
        a = report.assumptions
        return Response(
            {
                "currency": settings.REPORTING_CURRENCY,
                "period": period.as_dict(),
                "previous_period": report.previous_period.as_dict(),
                "scope": report.scope.as_dict(),
                "assumptions": {"gross_margin": a.gross_margin, "discount_rate": a.discount_rate},
                "current": presenters.figures_dict(report.current, a),
                "previous": presenters.figures_dict(report.previous, a),
                "waterfall": presenters.waterfall_list(report.current),
                "previous_waterfall": presenters.waterfall_list(report.previous),
            }
        )


class BreakdownView(ManagerMetricsView):
    @extend_schema(
        parameters=[BreakdownQuerySerializer],
        responses=BreakdownSerializer,
        description="Managers and admins only (403 for a CSM).",
        tags=["metrics"],
        summary="The period's figures for each segment, tier, plan, owner or signup cohort",
    )
    def get(self, request):
        form = self.form(request)
        period = form.get_period()
        dimension = form.get_dimension()
        report = selectors.leadership_report(
            scope=form.get_scope(), period=period, assumptions=form.get_assumptions(), dimension=dimension
        )
        a = report.assumptions
        return Response(
            {
                "currency": settings.REPORTING_CURRENCY,
                "period": period.as_dict(),
                "by": dimension.key,
                "slices": [
                    {
                        "key": s.param or None,
                        "label": s.label,
                        "figures": presenters.figures_dict(s.figures, a),
                    }
                    for s in report.slices
                ],
                "total": presenters.figures_dict(report.current, a),
            }
        )


class TrendView(ManagerMetricsView):
    @extend_schema(
        parameters=[MetricsQuerySerializer],
        responses=TrendSerializer,
        description="Managers and admins only (403 for a CSM).",
        tags=["metrics"],
        summary="The 12 months up to the period's last day, each on its own",
    )
    def get(self, request):
        form = self.form(request)
        points = selectors.monthly_trend(scope=form.get_scope(), end=form.get_period().end)
        return Response(
            {
                "currency": settings.REPORTING_CURRENCY,
                "months": [
                    {
                        "month": p.month.strftime("%Y-%m"),
                        "start": p.period.start.isoformat(),
                        "end": p.period.end.isoformat(),
                        "mrr_end": api_value(p.figures.mrr_end_or_none),
                        "active_end": p.figures.active_end_or_none,
                        "logo_churn": api_value(p.figures.logo_churn),
                        "nrr": api_value(p.figures.nrr),
                        "grr": api_value(p.figures.grr),
                    }
                    for p in points
                ],
            }
        )


class HealthView(ManagerMetricsView):
    @extend_schema(
        parameters=[MetricsQuerySerializer],
        responses=HealthSerializer,
        description="Managers and admins only (403 for a CSM).",
        tags=["metrics"],
        summary="Health grades on the first and last day, and the moves between grades",
    )
    def get(self, request):
        form = self.form(request)
        period = form.get_period()
        health = selectors.health_report(scope=form.get_scope(), period=period)
        return Response(
            {
                "period": period.as_dict(),
                "snapshot_day_start": api_value(health.day_start),
                "snapshot_day_end": api_value(health.day_end),
                "grades_start": {_grade_key(g): n for g, n in health.start.items()}
                if health.day_start
                else None,
                "grades_end": {_grade_key(g): n for g, n in health.end.items()} if health.day_end else None,
                "moves": [
                    {"before": before, "after": after, "accounts": n}
                    for (before, after), n in sorted(
                        health.matrix.items(), key=lambda i: (str(i[0][0]), str(i[0][1]))
                    )
                ]
                if health.has_migration
                else None,
            }
        )


class ChurnReasonsView(ManagerMetricsView):
    @extend_schema(
        parameters=[MetricsQuerySerializer],
        responses=ChurnReasonsSerializer,
        description="Managers and admins only (403 for a CSM).",
        tags=["metrics"],
        summary="Why accounts churned in the period (and the one before)",
    )
    def get(self, request):
        form = self.form(request)
        period = form.get_period()
        previous = period.previous()
        reasons = selectors.churn_reasons(scope=form.get_scope(), period=period, previous=previous)
        return Response(
            {
                "currency": settings.REPORTING_CURRENCY,
                "period": period.as_dict(),
                "previous_period": previous.as_dict(),
                "reasons": [
                    {
                        "reason": r.reason,
                        "label": r.label,
                        "accounts": r.accounts,
                        "mrr": api_value(r.mrr),
                        "previous_accounts": r.previous_accounts,
                    }
                    for r in reasons
                ],
            }
        )


class CohortsView(ManagerMetricsView):
    @extend_schema(
        parameters=[MetricsQuerySerializer],
        responses=CohortsSerializer,
        description="Managers and admins only (403 for a CSM).",
        tags=["metrics"],
        summary="Logo and revenue retention by signup month over the months after it",
    )
    def get(self, request):
        form = self.form(request)
        rows = selectors.cohort_retention(scope=form.get_scope(), today=form.today)
        return Response(
            {
                "currency": settings.REPORTING_CURRENCY,
                "cohorts": [
                    {
                        "month": row.month.strftime("%Y-%m"),
                        "signed": row.signed,
                        "base_accounts": row.base_accounts,
                        "base_mrr": api_value(row.base_mrr),
                        "logo": [api_value(row.logo(k)) for k in range(len(row.cells))],
                        "revenue": [api_value(row.revenue(k)) for k in range(len(row.cells))],
                        "active": [active for active, _mrr in row.cells],
                        "mrr": [api_value(mrr) for _active, mrr in row.cells],
                    }
                    for row in rows
                ],
            }
        )


def _window(w: selectors.RenewalWindow) -> dict:
    return {
        "days": w.days,
        "accounts": w.accounts,
        "mrr": api_value(w.mrr),
        "at_risk_accounts": w.at_risk_accounts,
        "mrr_at_risk": api_value(w.mrr_at_risk),
        "by_grade": {_grade_key(g): n for g, n in w.by_grade.items()},
    }


class RenewalsView(MetricsView):
    @extend_schema(
        parameters=[MetricsQuerySerializer],
        responses=RenewalsSerializer,
        tags=["metrics"],
        summary="Renewals in the next 30, 60 and 90 days with MRR at risk (the caller's accounts)",
    )
    def get(self, request):
        form = self.form(request)
        windows = selectors.renewal_windows(scope=form.get_scope(), today=form.today)
        return Response(
            {
                "currency": settings.REPORTING_CURRENCY,
                "today": form.today.isoformat(),
                "windows": [_window(w) for w in windows],
            }
        )


class PortfolioView(MetricsView):
    @extend_schema(
        responses=DeskSerializer,
        tags=["metrics"],
        summary="The caller's dashboard: accounts by grade, MRR at risk, tasks, renewals, detractors",
    )
    def get(self, request):
        today = timezone.localdate()
        desk = selectors.desk(user=request.user, today=today)
        return Response(
            {
                "currency": settings.REPORTING_CURRENCY,
                "today": today.isoformat(),
                "accounts": desk.accounts,
                "mrr": api_value(desk.mrr),
                "grades": {_grade_key(g.grade): g.accounts for g in desk.grades},
                "mrr_by_grade": {_grade_key(g.grade): api_value(g.mrr) for g in desk.grades},
                "mrr_at_risk": api_value(desk.mrr_at_risk),
                "tasks_due_today": desk.tasks_due_today,
                "tasks_overdue": desk.tasks_overdue,
                "renewals": [_window(w) for w in desk.renewals],
                "detractors_last_30_days": desk.detractors_total,
                "onboarding_behind_schedule": desk.onboarding_behind,
            }
        )


urlpatterns = [
    path("", MetricsIndexView.as_view(), name="metrics-index"),
    path("summary/", SummaryView.as_view(), name="metrics-summary"),
    path("breakdown/", BreakdownView.as_view(), name="metrics-breakdown"),
    path("trend/", TrendView.as_view(), name="metrics-trend"),
    path("health/", HealthView.as_view(), name="metrics-health"),
    path("churn-reasons/", ChurnReasonsView.as_view(), name="metrics-churn-reasons"),
    path("cohorts/", CohortsView.as_view(), name="metrics-cohorts"),
    path("renewals/", RenewalsView.as_view(), name="metrics-renewals"),
    path("portfolio/", PortfolioView.as_view(), name="metrics-portfolio"),
]
