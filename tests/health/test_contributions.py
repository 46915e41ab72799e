"""Contributions (points) add up exactly to the score, as stored and as shown."""

import datetime as dt
import random
import re

from django.urls import reverse
from django.utils import timezone

from accounts.models import UsageEvent
from health.registry import MEASURES
from health.scoring import CardConfig, MeasureConfig, allocate, score_account
from health.services import health_scores_recompute
from tests.factories import AccountFactory, ContactFactory

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def test_allocation_rounds_to_tenths_and_keeps_the_total():
    assert allocate([33.333, 33.333, 33.334], 1000) == [333, 333, 334]
    assert sum(allocate([10.26, 20.26, 41.48], 720)) == 720
    assert allocate([0.0, 0.0], 0) == [0, 0]


def test_contributions_add_up_to_the_score_for_random_scorecards():
    rng = random.Random(7)
    keys = list(MEASURES)
    for _ in range(500):
        chosen = rng.sample(keys, rng.randint(1, len(keys)))
        card = CardConfig(
            id=1,
            name="r",
            green_from=70,
            yellow_from=40,
            measures=tuple(
                MeasureConfig(k, rng.randint(0, 30), 0, rng.choice([-1, 1]) * rng.uniform(1, 100))
                for k in chosen
            ),
        )
        signals = {k: rng.uniform(-120, 120) for k in chosen if rng.random() < 0.8}
        result = score_account(card, signals, NOW)
        if result.score is None:
            continue
        points = [m[3] for m in result.measures.values() if m[0] is not None]
        assert round(sum(points), 1) == result.score
        assert all(0 <= p <= 100 for p in points)


def test_page_shows_points_that_add_up(client, alice):
    now = timezone.now()
    account = AccountFactory(owner=alice, last_touch_at=now - dt.timedelta(days=33, hours=2))
    people = [
        ContactFactory(account=account, role="champion"),
        *ContactFactory.create_batch(2, account=account),
    ]
    UsageEvent.objects.bulk_create(
        UsageEvent(account=account, contact=people[i % 2], name="x", occurred_at=now - dt.timedelta(days=d))
        for i, d in enumerate([1, 5, 9, 35, 36, 40, 41, 44, 50, 52])
    )
    health_scores_recompute()
    client.force_login(alice)
    response = client.get(reverse("accounts:detail", args=[account.pk]))
    html = response.content.decode()
    health = response.context["health"]
    table = html[html.index('id="health-why"') :]
    table = table[: table.index("</table>")]
    shown = [float(x) for x in re.findall(r'<td class="num points">(-?[\d.]+)</td>', table)]
    assert len(shown) == len(health.lines) >= 5
    assert round(sum(shown), 1) == health.score
    assert f"<strong>{health.score}</strong>" in table
    # ordered by how much each measure pulls the score down
    lost = [line.lost for line in health.lines]
    assert lost == sorted(lost, reverse=True)
