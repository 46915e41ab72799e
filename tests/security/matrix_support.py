"""The machinery behind test_access_matrix.py: every route from the URL configuration, the data
its addresses point at, and one request per cell classified into an outcome."""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.admin.sites import site as admin_site
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

# ---------------------------------------------------------------------------- outcomes

OK = "ok"  # 2xx, or a redirect that is not to a login page
LOGIN = "login"  # redirect to a login page (the staff login or the admin's)
BAD = "bad"  # 400 / 422: let in, the (empty) input refused
UNAUTH = "401"  # the API's answer to no credentials
DENY = "403"
HIDE = "404"
NOPE = "405"

ROLES = ("anon", "own", "other", "manager", "admin")


def outcome(response) -> str:
    code = response.status_code
    if code in (301, 302, 303, 307, 308):
        location = response.get("Location", "")
        return LOGIN if ("/login/" in location and "next=" in location) else OK
    if 200 <= code < 300:
        return OK
    if code in (400, 422):
        return BAD
    return str(code)


# ---------------------------------------------------------------------------- routes


@dataclass
class Route:
    key: str  # "namespace:name", or the pattern itself for an unnamed route
    pattern: str  # the full pattern, for messages
    kwargs: tuple[str, ...]
    name: str | None
    callback: object = None
    is_admin: bool = False
    variants: list = field(default_factory=list)


def _kwarg_names(pattern) -> tuple[str, ...]:
    regex = pattern.regex
    return tuple(regex.groupindex)


def all_routes() -> dict[str, Route]:
    """Every route in the URL configuration, by key; a route's format-suffix twin (``.json``)
    shares the key and is requested too."""
    routes: dict[str, Route] = {}

    def walk(patterns, prefix: str, namespace: str, kwargs: tuple[str, ...]) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = namespace
                if p.namespace:
                    ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
                walk(p.url_patterns, prefix + str(p.pattern), ns, kwargs + _kwarg_names(p.pattern))
                continue
            assert isinstance(p, URLPattern)
            full = prefix + str(p.pattern)
            names = kwargs + _kwarg_names(p.pattern)
            name = f"{namespace}:{p.name}" if (namespace and p.name) else p.name
            key = name or full
            route = routes.get(key)
            if route is None:
                route = routes[key] = Route(
                    key=key,
                    pattern=full,
                    kwargs=tuple(k for k in names if k != "format"),
                    name=name,
                    callback=p.callback,
                    is_admin=full.startswith("/admin/"),
                )
            route.variants.append("format" in names)

    walk(get_resolver().url_patterns, "/", "", ())
    return routes


def row_for(key: str, table: dict) -> tuple | None:
    """The declared row: an exact key first, then the most specific (longest) glob that matches."""
    if key in table:
        return table[key]
    globs = sorted((p for p in table if "*" in p), key=len, reverse=True)
    return next((table[p] for p in globs if fnmatch.fnmatchcase(key, p)), None)


# ---------------------------------------------------------------------------- the data


@dataclass
class Portfolio:
    """One CSM's book: an object of every kind a route can point at."""

    objects: dict = field(default_factory=dict)


def build_world() -> dict:
    from accounts.models import Account
    from api.services import token_create
    from feedback.models import CampaignStatus, FollowUp, Suppression
    from health.models import AccountHealth, Alert, AlertRule, Playbook, PlaybookStep, Task
    from loyalty import services as loyalty_services
    from loyalty.models import LedgerEntry, LinkKind
    from onboarding import services as onboarding_services
    from onboarding.models import MilestoneTemplate
    from team.models import Role
    from tests.factories import (
        AccountFactory,
        ContactFactory,
        MrrMovementFactory,
        TouchpointFactory,
        UsageEventFactory,
        UserFactory,
    )
    from tests.feedback.factories import campaign, invitation, response, survey
    from tests.loyalty.factories import AdvocacyAskFactory, ReferralFactory, RewardFactory
    from tests.onboarding.factories import TemplateFactory, milestone_templates

    users = {
        "alice": UserFactory(email="alice@staff.example", full_name="Alice Archer", role=Role.CSM),
        "bob": UserFactory(email="bob@staff.example", full_name="Bob Baker", role=Role.CSM),
        "carol": UserFactory(email="carol@staff.example", full_name="Carol Chen", role=Role.MANAGER),
        "dave": UserFactory(
            email="dave@staff.example",
            full_name="Dave Admin",
            role=Role.ADMIN,
            is_staff=True,
            is_superuser=True,
        ),
    }
    template = TemplateFactory(name="Matrix onboarding")
    milestone_templates(template)
    reward = RewardFactory(cost=50, name="Matrix gift card")
    rule = AlertRule.objects.create(name="Matrix rule", kind="usage_drop", threshold=50)
    suppression = Suppression.objects.create(email="gone@nowhere.example", reason="unsubscribed")
    playbook = Playbook.objects.create(name="Matrix playbook")
    PlaybookStep.objects.create(playbook=playbook, position=1, title="Call the sponsor", due_in_days=2)
    shared = {
        "survey": survey("nps").pk,
        "template": template.pk,
        "tmilestone": MilestoneTemplate.objects.filter(template=template).first().pk,
        "reward": reward.pk,
        "suppression": suppression.pk,
        "playbook": playbook.pk,
    }
    books = {}
    for who in ("alice", "bob"):
        csm = users[who]
        account = AccountFactory(owner=csm, name=f"{who.title()} Co", external_id=f"ext-{who}")
        contact = ContactFactory(account=account, name=f"{who.title()}by Buyer", email=f"buyer@{who}.example")
        AccountHealth.objects.create(account=account, day=timezone.localdate(), score=55, grade="yellow")
        active = campaign(by=csm, status=CampaignStatus.ACTIVE, name=f"{who} pulse")
        active.accounts.add(account)
        draft = campaign(by=csm, status=CampaignStatus.DRAFT, name=f"{who} draft")
        invite = invitation(contact=contact, campaign_obj=active)
        answer = response(invitation_obj=invite, score=3)
        task = Task.objects.create(
            title="Call them",
            account=account,
            owner=csm,
            due_date=timezone.localdate() + dt.timedelta(days=3),
        )
        follow_up = FollowUp.objects.create(response=answer, account=account, owner=csm, task=task)
        alert = Alert.objects.create(account=account, rule=rule, severity="medium", details="usage down")
        plan = onboarding_services.plan_start(account=account, template=template)
        criterion = onboarding_services.criterion_add(
            plan=plan, data={"metric": "Weekly users", "target": Decimal("10")}
        )
        share = onboarding_services.share_link_create(plan=plan, by=csm, contact=contact)
        loyalty_services.points_adjust(account=account, points=500, reason="matrix", by=users["carol"])
        redemption = loyalty_services.redemption_request(account=account, reward=reward)
        referral_link = loyalty_services.member_link_get(
            account=account, kind=LinkKind.REFERRAL, contact=contact
        )
        rewards_link = loyalty_services.member_link_get(
            account=account, kind=LinkKind.REWARDS, contact=contact
        )
        referral = ReferralFactory(link=referral_link)
        ask = AdvocacyAskFactory(contact=contact, asked_by=csm)
        token = token_create(name=f"{who} feed", user=csm, scope="write", created_by=users["carol"]).token
        books[who] = {
            **shared,
            "user": csm.pk,
            "account": account.pk,
            "external_id": account.external_id,
            "contact": contact.pk,
            "movement": MrrMovementFactory(account=account).pk,
            "touchpoint": TouchpointFactory(account=account, summary=f"{who}-secret-touch").pk,
            "usage_event": UsageEventFactory(account=account, contact=contact).pk,
            "campaign": active.pk,
            "draft": draft.pk,
            "invitation": invite.pk,
            "response": answer.pk,
            "follow_up": follow_up.pk,
            "task": task.pk,
            "alert": alert.pk,
            "plan": plan.pk,
            "milestone": plan.milestones.order_by("position").first().pk,
            "criterion": criterion.pk,
            "share_link": share.pk,
            "share_token": onboarding_services.share_link_token(share),
            "redemption": redemption.pk,
            "referral": referral.pk,
            "ask": ask.pk,
            "ledger": LedgerEntry.objects.filter(account=account).first().pk,
            "api_token": token.pk,
            "invitation_token": invite.token,
            "referral_token": referral_link.token,
            "rewards_token": rewards_link.token,
        }
    assert Account.objects.count() == 2
    return {"users": users, "books": books}


def admin_object_id(route: Route) -> str:
    """An existing row of the admin's model (or 0, which the admin answers with a redirect)."""
    model_admin = getattr(route.callback, "model_admin", None)
    if model_admin is None:
        return "0"
    pk = model_admin.model._default_manager.order_by("pk").values_list("pk", flat=True).first()
    return str(pk if pk is not None else 0)


def url_for(route: Route, target: str | None, book: dict, *, with_format: bool) -> str:
    if route.name is None:  # the catch-alls: their fixed start, then an address nothing else serves
        return re.split(r"[\^(]", route.pattern)[0] + "no-such-page/"
    kwargs: dict[str, str] = {}
    for name in route.kwargs:
        if name == "object_id" and route.key == "admin:view_on_site":
            kwargs[name] = str(book["account"])
        elif name == "object_id":
            kwargs[name] = admin_object_id(route)
        elif name == "app_label":
            kwargs[name] = "accounts"
        elif name == "content_type_id":
            from django.contrib.contenttypes.models import ContentType

            from accounts.models import Account

            kwargs[name] = str(ContentType.objects.get_for_model(Account).pk)
        elif name == "id":  # the admin's password page of a user
            kwargs[name] = str(book["user"])
        elif name in ("rest", "url"):
            kwargs[name] = "no-such-page/"
        else:
            if target is None:
                raise AssertionError(f"{route.key}: the row names no target for <{name}>")
            kwargs[name] = str(book[target])
    if with_format:
        kwargs["format"] = "json"
    return reverse(route.name, kwargs=kwargs)


def request(client, method: str, url: str, *, htmx: bool = False):
    headers = {"HX-Request": "true"} if htmx else {}
    if method == "GET":
        return client.get(url, headers=headers)
    if url.startswith("/api/v1/"):
        return client.generic(method, url, data=json.dumps({}), content_type="application/json")
    return client.generic(
        method, url, data="", content_type="application/x-www-form-urlencoded", headers=headers
    )


def run_cell(client, method: str, url: str, *, htmx: bool = False) -> str:
    """One request in its own savepoint: whatever it writes is undone, so every cell sees the
    same data. ``htmx`` asks as htmx does (the partial instead of the page)."""
    with transaction.atomic():
        result = outcome(request(client, method, url, htmx=htmx))
        transaction.set_rollback(True)
    return result


def run_cell_response(client, url: str):
    """A GET in its own rolled-back savepoint, returning the response itself."""
    with transaction.atomic():
        response = client.get(url)
        transaction.set_rollback(True)
    return response


def registered_admin_models() -> int:
    return len(admin_site._registry)
