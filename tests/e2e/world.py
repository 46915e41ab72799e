"""A small, complete world for the browser checks that visit many pages (accessibility): every
page has something to show: a health score with its explanation, tasks, an onboarding plan with
a share link, a survey campaign with an answer, points, a reward and a pending redemption.

Browser tests flush the database, so the data migrations' defaults are made again first.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass

from django.apps import apps
from django.utils import timezone

from accounts.models import Account, Contact
from accounts.services import account_create
from cs_app.celery import app as celery_app
from feedback import services as feedback_services
from feedback.models import Campaign, Invitation
from health.services import health_scores_recompute, task_create
from loyalty import services as loyalty_services
from loyalty.models import LinkKind, MemberLink, Redemption, Reward, RewardKind
from onboarding import services as onboarding_services
from onboarding.models import OnboardingPlan
from team.models import User
from tests.factories import ContactFactory, UserFactory
from tests.feedback import factories as f

DATA_MIGRATIONS = [
    ("health.migrations.0002_defaults", "create_defaults"),
    ("health.migrations.0004_usage_up_off", "switch_off"),
    ("health.migrations.0005_usage_collapse_cap", "add_cap"),
    ("onboarding.migrations.0002_default_templates", "create"),
    ("feedback.migrations.0002_default_surveys", "create"),
    ("loyalty.migrations.0002_default_rules", "forwards"),
]


def restore_defaults() -> None:
    for module, function in DATA_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)


@dataclass
class World:
    csm: User
    manager: User
    account: Account
    contact: Contact
    campaign: Campaign
    invitation: Invitation  # open, not answered: the public answer page
    share_token: str
    referral: MemberLink
    rewards: MemberLink


def build_world() -> World:
    restore_defaults()
    csm = UserFactory(email="alice@staff.example", full_name="Alice Archer", role="csm")
    manager = UserFactory(email="carol@staff.example", full_name="Carol Chen", role="manager")
    today = timezone.localdate()
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # background jobs run inline while building
    try:
        account = account_create(
            name="Zeta Analytics",
            domain="zeta.example",
            segment="smb",
            owner=csm,
            contract_start=today - dt.timedelta(days=20),
        )
        contact = ContactFactory(
            account=account, name="Sam Lee", email="sam@zeta.example", role="champion", language="en"
        )
        other = ContactFactory(account=account, name="Ayşe Demir", email="ayse@zeta.example", language="tr")
        account_create(
            name="Yonder Labs",
            domain="yonder.example",
            segment="enterprise",
            owner=csm,
            contract_start=today - dt.timedelta(days=400),
        )
        health_scores_recompute(accounts=Account.objects.all())
        task_create(account=account, title="Call about the renewal", due_date=today, by=csm)

        plan = OnboardingPlan.objects.filter(account=account).first() or onboarding_services.plan_start(
            account=account, by=csm
        )
        link = onboarding_services.share_link_create(plan=plan, by=csm, contact=contact)

        campaign = f.campaign(by=csm, kind="nps", name="Q4 NPS")
        answered = f.invitation(contact=other, campaign_obj=campaign)
        feedback_services.response_submit(invitation=answered, score=4, follow_up="Reports are slow.")
        invitation = f.invitation(contact=contact, campaign_obj=campaign)

        loyalty_services.points_adjust(account=account, points=900, reason="Welcome bonus", by=manager)
        reward = Reward.objects.create(name="Conference ticket", kind=RewardKind.VIP_TICKET, cost=500)
        loyalty_services.redemption_request(account=account, reward=reward, by=csm)
    finally:
        celery_app.conf.task_always_eager = eager
    assert Redemption.objects.exists()
    return World(
        csm=csm,
        manager=manager,
        account=account,
        contact=contact,
        campaign=campaign,
        invitation=invitation,
        share_token=onboarding_services.share_link_token(link),
        referral=loyalty_services.member_link_get(account=account, kind=LinkKind.REFERRAL, contact=contact),
        rewards=loyalty_services.member_link_get(account=account, kind=LinkKind.REWARDS, contact=contact),
    )
