"""The defaults a fresh install needs: a default scorecard with every measure and its thresholds,
two exceptions (caps), playbooks, and alert rules. Values are copied here (not imported) so the
migration means the same thing forever; admins change them in the admin."""

from django.db import migrations

SCORECARD = {
    "name": "Default",
    "segment": "",
    "green_from": 70,
    "yellow_from": 40,
    "description": (
        "Used by every account whose segment has no scorecard of its own. Measures without data "
        "for an account (surveys, onboarding until those parts exist) are left out and the rest "
        "re-weighted."
    ),
}

# key, weight, scores 0 at, scores 100 at
MEASURES = [
    ("days_since_usage", 15, 30, 3),
    ("active_users", 15, 10, 60),
    ("usage_trend", 15, -50, 0),
    ("nps_latest", 10, 6, 9),
    ("nps_avg_12m", 5, 6, 9),
    ("csat", 5, 50, 90),
    ("ces", 5, 3, 6),
    ("onboarding_progress", 10, 50, 100),
    ("overdue_tasks", 5, 5, 0),
    ("days_since_touch", 5, 90, 14),
    ("mrr_trend", 5, -25, 0),
    ("renewal_proximity", 5, 0, 120),
]

CAPS = [("detractor_recent", 40, 30), ("champion_missing", 60, 0)]

PLAYBOOKS = {
    "Save an at-risk account": (
        "For an account whose health turned red: find out why, talk to the champion, agree a plan.",
        [
            ("Review the health score: which measures pulled it down", 1, 3, "Open the account and read 'Why this score'."),
            ("Call the champion about goals and blockers", 3, 3, ""),
            ("Agree a recovery plan with the customer", 7, 2, "Write the plan as a touchpoint on the account."),
            ("Check that usage and the score have recovered", 21, 2, ""),
        ],
    ),
    "Follow up a detractor": (
        "Close the loop with an unhappy customer quickly.",
        [
            ("Call the detractor within 48 hours", 2, 4, "Listen first; log the call as a touchpoint."),
            ("Fix or escalate what went wrong", 5, 3, ""),
            ("Confirm the fix with the customer", 14, 2, ""),
        ],
    ),
    "Turn a promoter into an advocate": (
        "A happy customer: ask for a review, a reference or a case study.",
        [
            ("Thank them and ask for a review or a reference", 3, 2, ""),
            ("Offer a case study or a referral reward", 14, 1, ""),
        ],
    ),
}

# name, kind, N, grade, severity, playbook, active, description
RULES = [
    (
        "Health turned red",
        "grade_drop",
        None,
        "red",
        "high",
        "Save an at-risk account",
        True,
        "The account's grade became red (from green, yellow or no score).",
    ),
    (
        "Health turned yellow",
        "grade_drop",
        None,
        "yellow",
        "low",
        None,
        False,
        "Off by default: a yellow account is watched through the portfolio's grade filter.",
    ),
    (
        "Score dropped 15 points in a week",
        "score_drop",
        15,
        "",
        "medium",
        None,
        False,
        "Off by default: the red rule catches a falling account; turn on for earlier warnings.",
    ),
    (
        "Usage fell 50% week over week",
        "usage_drop",
        50,
        "",
        "medium",
        None,
        False,
        "Off by default: usage already weighs in the score.",
    ),
    (
        "Detractor answer",
        "detractor",
        7,
        "",
        "high",
        "Follow up a detractor",
        True,
        "A 0-6 NPS answer in the last 7 days (once per answer). Fires when surveys exist.",
    ),
    (
        "Renewal in 60 days and not green",
        "renewal_risk",
        60,
        "",
        "high",
        "Save an at-risk account",
        False,
        "Off by default so a falling account raises one alert (the red rule); turn on before renewal season.",
    ),
    (
        "Onboarding milestone overdue",
        "onboarding_overdue",
        None,
        "",
        "medium",
        None,
        True,
        "Any onboarding milestone past its due day. Fires when onboarding plans exist.",
    ),
    (
        "No touchpoint for 60 days",
        "no_touch",
        60,
        "",
        "low",
        None,
        False,
        "Off by default: days since the last touchpoint already weigh in the score.",
    ),
    (
        "Promoter answer",
        "promoter",
        7,
        "",
        "low",
        "Turn a promoter into an advocate",
        True,
        "A 9-10 NPS answer in the last 7 days (once per answer). Fires when surveys exist.",
    ),
    (
        "Usage up 50%",
        "usage_up",
        50,
        "",
        "low",
        None,
        True,
        "Events in the last 30 days at least 50% above the 30 before: an expansion conversation.",
    ),
]


def create_defaults(apps, schema_editor):
    Scorecard = apps.get_model("health", "Scorecard")
    Measure = apps.get_model("health", "Measure")
    ScoreCap = apps.get_model("health", "ScoreCap")
    Playbook = apps.get_model("health", "Playbook")
    PlaybookStep = apps.get_model("health", "PlaybookStep")
    AlertRule = apps.get_model("health", "AlertRule")

    card, created = Scorecard.objects.get_or_create(segment="", defaults=SCORECARD)
    if created:
        Measure.objects.bulk_create(
            Measure(scorecard=card, key=key, weight=weight, zero_at=zero_at, full_at=full_at)
            for key, weight, zero_at, full_at in MEASURES
        )
        ScoreCap.objects.bulk_create(
            ScoreCap(scorecard=card, condition=condition, cap=cap, window_days=window)
            for condition, cap, window in CAPS
        )
    playbooks = {}
    for name, (description, steps) in PLAYBOOKS.items():
        playbook, created = Playbook.objects.get_or_create(name=name, defaults={"description": description})
        playbooks[name] = playbook
        if created:
            PlaybookStep.objects.bulk_create(
                PlaybookStep(
                    playbook=playbook, position=i, title=title, due_in_days=due, priority=priority, notes=notes
                )
                for i, (title, due, priority, notes) in enumerate(steps, start=1)
            )
    for name, kind, threshold, grade, severity, playbook, active, description in RULES:
        AlertRule.objects.get_or_create(
            name=name,
            defaults={
                "kind": kind,
                "threshold": threshold,
                "grade": grade,
                "severity": severity,
                "playbook": playbooks.get(playbook),
                "is_active": active,
                "description": description,
            },
        )


def remove_defaults(apps, schema_editor):
    apps.get_model("health", "AlertRule").objects.filter(name__in=[r[0] for r in RULES]).delete()
    apps.get_model("health", "Playbook").objects.filter(name__in=list(PLAYBOOKS)).delete()
    apps.get_model("health", "Scorecard").objects.filter(segment="", name=SCORECARD["name"]).delete()


class Migration(migrations.Migration):
    dependencies = [("health", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, remove_defaults)]
