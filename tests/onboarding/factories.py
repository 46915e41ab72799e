"""Factories for onboarding tests."""

from __future__ import annotations

import factory

from onboarding.models import MilestoneTemplate, PlanTemplate


class TemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanTemplate

    name = factory.Sequence(lambda n: f"Template {n}")
    segment = ""
    auto_assign = False
    is_active = True


# (name, due day, side, weight, delivers value, celebrate)
STANDARD = [
    ("Kick-off call", 3, "csm", 1, False, False),
    ("Data connected", 10, "customer", 2, False, True),
    ("First report live", 20, "customer", 3, True, True),
    ("Value review", 40, "csm", 4, False, False),
]


def milestone_templates(template: PlanTemplate, rows=STANDARD) -> list[MilestoneTemplate]:
    return MilestoneTemplate.objects.bulk_create(
        [
            MilestoneTemplate(
                template=template,
                position=index,
                name=name,
                due_day=due_day,
                owner_side=side,
                weight=weight,
                delivers_value=value,
                celebrate=celebrate,
            )
            for index, (name, due_day, side, weight, value, celebrate) in enumerate(rows)
        ]
    )
