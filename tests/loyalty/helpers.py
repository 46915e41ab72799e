from loyalty import services
from loyalty.models import EarnRule


def give(account, points: int, key: str | None = None, by=None):
    """Credit points to an account through a manager's adjustment (tests' shortcut)."""
    from tests.factories import UserFactory

    manager = by or UserFactory(role="manager")
    return services.points_adjust(
        account=account, points=points, reason="test credit", by=manager, idempotency_key=key or None
    )


def rule(event: str, points: int, **caps) -> EarnRule:
    obj, _ = EarnRule.objects.update_or_create(
        event=event,
        defaults={
            "points": points,
            "cap_per_day": None,
            "cap_per_month": None,
            "cap_per_year": None,
            "is_active": True,
            **caps,
        },
    )
    return obj
