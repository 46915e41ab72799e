"""A starting programme: earn rules for every event and four tiers. Admins edit them."""

from django.db import migrations

EARN = [
    # event, points, per day, per month, per year
    ("survey_answered", 20, 1, 3, 12),
    ("milestone_completed", 50, None, None, 1000),
    ("onboarding_completed", 250, None, None, None),
    ("renewal", 500, None, None, None),
    ("referral_converted", 1000, None, None, 10000),
    ("review_published", 300, None, None, 1200),
    ("case_study", 1000, None, None, None),
    ("reference_call", 200, None, 600, None),
    ("testimonial", 150, None, None, 600),
    ("talk", 750, None, None, None),
    ("webinar_attended", 25, 25, 100, None),
    ("welcome_credit", 250, None, None, None),
]
TIERS = [
    ("bronze", 0, None, "Points on every event; the reward catalog."),
    ("silver", 1000, 24, "Early access to new features; priority support queue."),
    ("gold", 5000, 48, "VIP event invitations; a named support engineer."),
    ("platinum", 15000, None, "Executive sponsor; roadmap sessions; premium rewards."),
]


def forwards(apps, schema_editor):
    EarnRule = apps.get_model("loyalty", "EarnRule")
    TierRule = apps.get_model("loyalty", "TierRule")
    for event, points, day, month, year in EARN:
        EarnRule.objects.get_or_create(
            event=event, defaults={"points": points, "cap_per_day": day, "cap_per_month": month, "cap_per_year": year}
        )
    for tier, points, months, benefits in TIERS:
        TierRule.objects.get_or_create(
            tier=tier, defaults={"min_lifetime_points": points, "min_tenure_months": months, "benefits": benefits}
        )


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
