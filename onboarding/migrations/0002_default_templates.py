"""A sensible default plan per segment, so a fresh install starts plans for new accounts.

Managers change them (or add their own) on the Plan templates page or in the admin.
"""

from django.db import migrations

# (name, description, due day, owner side, weight, delivers value, celebrate)
DEFAULTS = {
    "enterprise": (
        "Enterprise onboarding",
        "90 days from kick-off to the first value review with the executive sponsor.",
        [
            ("Kick-off call", "Introductions, scope, timeline and who does what.", 3, "csm", 1, False, False),
            ("Success plan agreed", "Goals and measurable success criteria written down with the sponsor.", 10, "csm", 2, False, False),
            ("SSO and user provisioning set up", "Single sign-on and automatic user provisioning in place.", 21, "customer", 2, False, False),
            ("Data integration live", "Production data flowing into the product.", 30, "customer", 3, False, True),
            ("Admin training completed", "The customer's admins can run the product on their own.", 35, "csm", 2, False, False),
            ("First report delivered to stakeholders", "The first report built on their own data, shared with the people who asked for it.", 45, "customer", 3, True, True),
            ("Half of the licensed users active", "At least 50% of the licensed users active in a week.", 60, "customer", 3, False, True),
            ("First value review", "Review the success criteria with the executive sponsor.", 90, "csm", 2, False, True),
        ],
    ),
    "mid_market": (
        "Mid-market onboarding",
        "60 days from kick-off to the onboarding review.",
        [
            ("Kick-off call", "Introductions, scope and timeline.", 2, "csm", 1, False, False),
            ("Goals and success criteria agreed", "What success looks like, with numbers.", 7, "csm", 2, False, False),
            ("Data connected", "Their data flowing into the product.", 14, "customer", 3, False, True),
            ("Team training", "The team trained on their first workflow.", 21, "csm", 2, False, False),
            ("First workflow live", "The first workflow in daily use on their own data.", 30, "customer", 3, True, True),
            ("Onboarding review", "Review the success criteria and plan the next quarter.", 60, "csm", 1, False, True),
        ],
    ),
    "smb": (
        "SMB onboarding",
        "30 days from the welcome call to the first project live and the team on board.",
        [
            ("Welcome call", "A short call to set up the account together.", 1, "csm", 1, False, False),
            ("Account set up and data imported", "Settings done and their data imported.", 7, "customer", 2, False, True),
            ("First project live", "The first project running on their own data.", 14, "customer", 3, True, True),
            ("Team invited", "At least three people using the product.", 21, "customer", 2, False, False),
            ("30-day check-in", "How is it going, and what next.", 30, "csm", 1, False, True),
        ],
    ),
}


def create(apps, schema_editor):
    PlanTemplate = apps.get_model("onboarding", "PlanTemplate")
    MilestoneTemplate = apps.get_model("onboarding", "MilestoneTemplate")
    for segment, (name, description, milestones) in DEFAULTS.items():
        if PlanTemplate.objects.filter(name__iexact=name).exists():
            continue
        if PlanTemplate.objects.filter(segment=segment, account_plan="", is_active=True, auto_assign=True).exists():
            continue
        template = PlanTemplate.objects.create(
            name=name, description=description, segment=segment, account_plan="", auto_assign=True, is_active=True
        )
        MilestoneTemplate.objects.bulk_create(
            [
                MilestoneTemplate(
                    template=template,
                    position=position,
                    name=m_name,
                    description=m_description,
                    due_day=due_day,
                    owner_side=side,
                    weight=weight,
                    delivers_value=value,
                    celebrate=celebrate,
                )
                for position, (m_name, m_description, due_day, side, weight, value, celebrate) in enumerate(milestones)
            ]
        )


def remove(apps, schema_editor):
    PlanTemplate = apps.get_model("onboarding", "PlanTemplate")
    PlanTemplate.objects.filter(name__in=[name for name, _d, _m in DEFAULTS.values()]).delete()


class Migration(migrations.Migration):
    dependencies = [("onboarding", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
