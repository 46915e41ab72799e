"""Survey signals for the health score (health.registry): per account, from answers given in the
12 months before the moment scored, in two grouped queries for every account in scope.

- ``nps_latest``: the newest 0-10 NPS answer; ``nps_avg_12m``: their mean;
- ``csat``: % of 1-5 CSAT answers that are 4 or 5; ``ces``: the mean of 1-7 CES answers;
- ``detractor_at`` / ``promoter_at``: the time of the newest 0-6 / 9-10 NPS answer.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Avg, Count, F, Max, Q
from django.db.models.expressions import Window
from django.db.models.functions import RowNumber

from health.registry import ScoringContext, Signals, raw_values_source

from .models import Response, SurveyKind

WINDOW_DAYS = 365


@raw_values_source(
    "feedback", provides=("nps_latest", "nps_avg_12m", "csat", "ces", "detractor_at", "promoter_at")
)
def feedback_signals(ctx: ScoringContext) -> Signals:
    answers = Response.objects.filter(
        answered_at__lt=ctx.as_of,
        answered_at__gte=ctx.as_of - dt.timedelta(days=WINDOW_DAYS),
        score__isnull=False,
    )
    id_range = getattr(ctx, "id_range", None)  # a batch of the run, when scoring in batches
    if id_range is not None:
        answers = answers.filter(account_id__gte=id_range[0], account_id__lte=id_range[1])
    if ctx.accounts is not None:
        answers = answers.filter(account__in=ctx.accounts.values("pk"))
    nps, csat, ces = Q(kind=SurveyKind.NPS), Q(kind=SurveyKind.CSAT), Q(kind=SurveyKind.CES)
    rows = (
        answers.order_by()
        .values("account_id")
        .annotate(
            nps_avg=Avg("score", filter=nps),
            csat_n=Count("id", filter=csat),
            csat_ok=Count("id", filter=csat & Q(score__gte=4)),
            ces_avg=Avg("score", filter=ces),
            detractor_at=Max("answered_at", filter=nps & Q(score__lte=6)),
            promoter_at=Max("answered_at", filter=nps & Q(score__gte=9)),
        )
    )
    signals: Signals = {
        key: {} for key in ("nps_latest", "nps_avg_12m", "csat", "ces", "detractor_at", "promoter_at")
    }
    for row in rows:
        aid = row["account_id"]
        if row["nps_avg"] is not None:
            signals["nps_avg_12m"][aid] = float(row["nps_avg"])
        if row["csat_n"]:
            signals["csat"][aid] = row["csat_ok"] * 100.0 / row["csat_n"]
        if row["ces_avg"] is not None:
            signals["ces"][aid] = float(row["ces_avg"])
        if row["detractor_at"] is not None:
            signals["detractor_at"][aid] = row["detractor_at"]
        if row["promoter_at"] is not None:
            signals["promoter_at"][aid] = row["promoter_at"]
    latest = (
        answers.filter(nps)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("account_id")],
                order_by=[F("answered_at").desc(), F("id").desc()],
            )
        )
        .filter(rank=1)
        .values_list("account_id", "score")
    )
    for aid, score in latest:
        signals["nps_latest"][aid] = float(score)
    return signals
