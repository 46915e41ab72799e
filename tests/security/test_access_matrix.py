"""The access matrix: every route in the URL configuration, requested as five people, against
the outcome declared for each cell in ONE table (MATRIX below).

The people: ``anon`` (not logged in), ``own`` (alice, a CSM, on her own account's objects),
``other`` (alice on bob's objects), ``manager`` (carol, on bob's objects) and ``admin`` (dave, a
superuser, on bob's objects). A route's address is filled from a shared data set
(``matrix_support.build_world``): the row's target names which object its ``<pk>`` (or token)
is, taken from alice's book for ``anon`` and ``own`` and from bob's for the rest.

Outcomes: OK (2xx, or a redirect that is not to a login page), LOGIN (redirect to a login
page), BAD (400/422: let in, the empty input refused), UNAUTH (401), DENY (403), HIDE (404),
NOPE (405). Each request runs in a savepoint that is rolled back, so every cell sees the same
data. Non-GET requests send an empty form (pages) or ``{}`` (API). The "other" cell of every
page is also requested as htmx asks for it (``HX-Request: true``, the partial) and must be
refused the same way.

A route that has no row fails the suite (``test_every_route_has_a_row``); so does a row whose
route no longer exists. Admin routes are declared by glob (``admin:*``: only staff with admin
rights get in), with explicit rows where the admin refuses an action to everyone (read-only
models such as the audit log).
"""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.test import Client

from .matrix_support import (
    BAD,
    DENY,
    HIDE,
    LOGIN,
    NOPE,
    OK,
    ROLES,
    UNAUTH,
    all_routes,
    row_for,
    run_cell,
    url_for,
)

# ruff: noqa: E501  (the matrix reads best one route per line)

G, P, PATCH = "GET", "POST", "PATCH"
CSM_ONLY_OWN = (OK, HIDE, OK, OK)  # own, other, manager, admin
MANAGERS = (DENY, DENY, OK, OK)
PUBLIC = (OK, OK, OK, OK, OK)

# fmt: off
# route key: [(method, target, anon, own, other, manager, admin), ...]
MATRIX: dict[str, list[tuple]] = {
    # ---------------------------------------------------------------- login, home
    "home": [(G, None, OK, OK, OK, OK, OK)],
    "team:login": [(G, None, OK, OK, OK, OK, OK), (P, None, OK, OK, OK, OK, OK)],
    "team:logout": [(G, None, NOPE, NOPE, NOPE, NOPE, NOPE), (P, None, OK, OK, OK, OK, OK)],
    "team:me": [(G, None, LOGIN, OK, OK, OK, OK)],
    # ---------------------------------------------------------------- accounts
    "accounts:portfolio": [(G, None, LOGIN, OK, OK, OK, OK)],
    "accounts:detail": [(G, "account", LOGIN, *CSM_ONLY_OWN)],
    "accounts:side": [(G, "account", LOGIN, *CSM_ONLY_OWN)],
    "accounts:timeline": [(G, "account", LOGIN, *CSM_ONLY_OWN)],
    "accounts:touchpoint_create": [(P, "account", LOGIN, BAD, HIDE, BAD, BAD)],
    "accounts:reassign": [(P, "account", LOGIN, DENY, HIDE, OK, OK)],
    # ---------------------------------------------------------------- dashboards
    "dashboards:home": [(G, None, LOGIN, OK, OK, OK, OK)],
    "dashboards:renewals": [(G, None, LOGIN, OK, OK, OK, OK)],
    "dashboards:leadership": [(G, None, LOGIN, *MANAGERS)],
    "dashboards:cohorts": [(G, None, LOGIN, *MANAGERS)],
    "dashboards:drilldown": [(G, "?list=cohort", LOGIN, *MANAGERS)],
    # ---------------------------------------------------------------- health
    "health:inbox": [(G, None, LOGIN, OK, OK, OK, OK)],
    "health:backtest": [(G, None, LOGIN, *MANAGERS)],
    "health:task_complete": [(P, "task", LOGIN, *CSM_ONLY_OWN)],
    "health:task_reopen": [(P, "task", LOGIN, *CSM_ONLY_OWN)],
    "health:task_snooze": [(P, "task", LOGIN, *CSM_ONLY_OWN)],
    "health:task_reassign": [(P, "task", LOGIN, *CSM_ONLY_OWN)],
    "health:task_create": [(P, "account", LOGIN, *CSM_ONLY_OWN)],
    "health:playbook_apply": [(P, "account", LOGIN, *CSM_ONLY_OWN)],
    "health:playbook_menu": [(G, "account", LOGIN, *CSM_ONLY_OWN)],
    "health:alert_snooze": [(P, "alert", LOGIN, *CSM_ONLY_OWN)],
    "health:alert_resolve": [(P, "alert", LOGIN, *CSM_ONLY_OWN)],
    "health:alert_reopen": [(P, "alert", LOGIN, *CSM_ONLY_OWN)],
    # ---------------------------------------------------------------- feedback (staff)
    "feedback:campaign_list": [(G, None, LOGIN, OK, OK, OK, OK)],
    "feedback:campaign_create": [(G, None, LOGIN, OK, OK, OK, OK), (P, None, LOGIN, BAD, BAD, BAD, BAD)],
    "feedback:campaign_detail": [(G, "campaign", LOGIN, *CSM_ONLY_OWN)],
    "feedback:campaign_edit": [(G, "draft", LOGIN, *CSM_ONLY_OWN), (P, "draft", LOGIN, BAD, HIDE, BAD, BAD)],
    "feedback:campaign_progress": [(G, "campaign", LOGIN, *CSM_ONLY_OWN)],
    "feedback:campaign_invitations": [(G, "campaign", LOGIN, *CSM_ONLY_OWN)],
    "feedback:campaign_launch": [(P, "draft", LOGIN, *CSM_ONLY_OWN)],
    "feedback:campaign_pause": [(P, "campaign", LOGIN, *CSM_ONLY_OWN)],
    "feedback:campaign_resume": [(P, "campaign", LOGIN, *CSM_ONLY_OWN)],
    "feedback:campaign_cancel": [(P, "campaign", LOGIN, *CSM_ONLY_OWN)],
    "feedback:campaign_delete": [(P, "draft", LOGIN, *CSM_ONLY_OWN)],
    "feedback:survey_list": [(G, None, LOGIN, OK, OK, OK, OK)],
    "feedback:survey_preview": [(G, "survey", LOGIN, OK, OK, OK, OK)],
    "feedback:analysis": [(G, None, LOGIN, OK, OK, OK, OK)],
    "feedback:comments": [(G, None, LOGIN, OK, OK, OK, OK)],
    "feedback:follow_up_list": [(G, None, LOGIN, OK, OK, OK, OK)],
    "feedback:follow_up_close": [(P, "follow_up", LOGIN, *CSM_ONLY_OWN)],
    "feedback:account_answers": [(G, "account", LOGIN, *CSM_ONLY_OWN)],
    "feedback:suppression_list": [(G, None, LOGIN, *MANAGERS), (P, None, LOGIN, DENY, DENY, BAD, BAD)],
    "feedback:suppression_remove": [(P, "suppression", LOGIN, *MANAGERS)],
    # The development outbox exists only with DEBUG on (404 in production, as here).
    "feedback:outbox": [(G, None, LOGIN, HIDE, HIDE, HIDE, HIDE)],
    "feedback:outbox_message": [(G, "invitation", LOGIN, HIDE, HIDE, HIDE, HIDE)],
    "feedback:outbox_message_html": [(G, "invitation", LOGIN, HIDE, HIDE, HIDE, HIDE)],
    # ---------------------------------------------------------------- feedback (public, token)
    "feedback_public:answer": [(G, "invitation_token", *PUBLIC), (P, "invitation_token", BAD, BAD, BAD, BAD, BAD)],
    "feedback_public:thanks": [(G, "invitation_token", *PUBLIC)],
    "feedback_public:unsubscribe": [(G, "invitation_token", *PUBLIC), (P, "invitation_token", *PUBLIC)],
    "feedback_public:unknown": [(G, None, HIDE, HIDE, HIDE, HIDE, HIDE)],
    # ---------------------------------------------------------------- onboarding
    "onboarding:board": [(G, None, LOGIN, OK, OK, OK, OK)],
    "onboarding:plan": [(G, "account", LOGIN, *CSM_ONLY_OWN)],
    "onboarding:start": [(P, "account", LOGIN, BAD, HIDE, BAD, BAD)],
    "onboarding:switch": [(P, "account", LOGIN, BAD, HIDE, BAD, BAD)],
    "onboarding:shift": [(P, "account", LOGIN, BAD, HIDE, BAD, BAD)],
    "onboarding:delete": [(P, "account", LOGIN, *CSM_ONLY_OWN)],
    "onboarding:expectations": [(G, "account", LOGIN, *CSM_ONLY_OWN), (P, "account", LOGIN, *CSM_ONLY_OWN)],
    "onboarding:milestone_add": [(P, "account", LOGIN, BAD, HIDE, BAD, BAD)],
    "onboarding:criterion_add": [(P, "account", LOGIN, BAD, HIDE, BAD, BAD)],
    "onboarding:criteria_review": [(P, "account", LOGIN, *CSM_ONLY_OWN)],
    "onboarding:share_create": [(P, "account", LOGIN, BAD, HIDE, BAD, BAD)],
    "onboarding:share_revoke": [(P, "share_link", LOGIN, *CSM_ONLY_OWN)],
    "onboarding:milestone": [(G, "milestone", LOGIN, *CSM_ONLY_OWN)],
    "onboarding:milestone_edit": [(G, "milestone", LOGIN, *CSM_ONLY_OWN), (P, "milestone", LOGIN, BAD, HIDE, BAD, BAD)],
    "onboarding:milestone_status": [(P, "milestone", LOGIN, BAD, HIDE, BAD, BAD)],
    "onboarding:milestone_move": [(P, "milestone", LOGIN, *CSM_ONLY_OWN)],
    "onboarding:milestone_remove": [(P, "milestone", LOGIN, *CSM_ONLY_OWN)],
    "onboarding:criterion_edit": [(G, "criterion", LOGIN, *CSM_ONLY_OWN), (P, "criterion", LOGIN, BAD, HIDE, BAD, BAD)],
    "onboarding:criterion_remove": [(P, "criterion", LOGIN, *CSM_ONLY_OWN)],
    "onboarding:templates": [(G, None, LOGIN, *MANAGERS)],
    "onboarding:template_create": [(G, None, LOGIN, *MANAGERS), (P, None, LOGIN, DENY, DENY, BAD, BAD)],
    "onboarding:template": [(G, "template", LOGIN, *MANAGERS), (P, "template", LOGIN, *MANAGERS)],
    "onboarding:tmilestone_add": [(P, "template", LOGIN, DENY, DENY, BAD, BAD)],
    "onboarding:tmilestone_edit": [(G, "tmilestone", LOGIN, *MANAGERS), (P, "tmilestone", LOGIN, DENY, DENY, BAD, BAD)],
    "onboarding:tmilestone_move": [(P, "tmilestone", LOGIN, *MANAGERS)],
    "onboarding:tmilestone_remove": [(P, "tmilestone", LOGIN, *MANAGERS)],
    "onboarding:shared": [(G, "share_token", *PUBLIC)],
    # ---------------------------------------------------------------- loyalty (staff)
    "loyalty:overview": [(G, None, LOGIN, OK, OK, OK, OK)],
    "loyalty:account": [(G, "account", LOGIN, *CSM_ONLY_OWN)],
    "loyalty:redeem": [(P, "account", LOGIN, BAD, HIDE, BAD, BAD)],
    "loyalty:adjust": [(P, "account", LOGIN, DENY, DENY, BAD, BAD)],
    "loyalty:link_create": [(P, "account", LOGIN, BAD, HIDE, BAD, BAD)],
    "loyalty:redemptions": [(G, None, LOGIN, OK, OK, OK, OK)],
    "loyalty:redemption": [(G, "redemption", LOGIN, *CSM_ONLY_OWN), (P, "redemption", LOGIN, DENY, HIDE, BAD, BAD)],
    "loyalty:rewards": [(G, None, LOGIN, OK, OK, OK, OK)],
    "loyalty:referrals": [(G, None, LOGIN, OK, OK, OK, OK)],
    "loyalty:referral": [(G, "referral", LOGIN, *CSM_ONLY_OWN), (P, "referral", LOGIN, BAD, HIDE, BAD, BAD)],
    "loyalty:advocacy": [(G, None, LOGIN, OK, OK, OK, OK), (P, None, LOGIN, BAD, BAD, BAD, BAD)],
    "loyalty:ask_update": [(P, "ask", LOGIN, *CSM_ONLY_OWN)],
    # ---------------------------------------------------------------- loyalty (public, token)
    "loyalty_public:referral": [(G, "referral_token", *PUBLIC), (P, "referral_token", BAD, BAD, BAD, BAD, BAD)],
    "loyalty_public:referral_thanks": [(G, "referral_token", *PUBLIC)],
    "loyalty_public:rewards": [(G, "rewards_token", *PUBLIC), (P, "rewards_token", BAD, BAD, BAD, BAD, BAD)],
    # ---------------------------------------------------------------- API: pages and docs
    "api:schema": [(G, None, OK, OK, OK, OK, OK)],
    "api:docs": [(G, None, OK, OK, OK, OK, OK)],
    "api:tokens": [(G, None, LOGIN, *MANAGERS)],
    "api:token_create": [(G, None, LOGIN, *MANAGERS), (P, None, LOGIN, DENY, DENY, BAD, BAD)],
    "api:token_revoke": [(G, "api_token", LOGIN, *MANAGERS), (P, "api_token", LOGIN, *MANAGERS)],
    "/api/^*$": [(G, None, HIDE, HIDE, HIDE, HIDE, HIDE)],  # the JSON 404 for unknown addresses
    # ---------------------------------------------------------------- API v1 (session login here;
    # a token acts for its user with the same rules, tests/api/test_permissions.py)
    "api:root": [(G, None, UNAUTH, OK, OK, OK, OK)],
    "api:account-list": [(G, None, UNAUTH, OK, OK, OK, OK), (P, None, UNAUTH, BAD, BAD, BAD, BAD)],
    "api:account-detail": [(G, "account", UNAUTH, *CSM_ONLY_OWN), (PATCH, "account", UNAUTH, *CSM_ONLY_OWN)],
    "api:account-bulk-upsert": [(P, None, UNAUTH, BAD, BAD, BAD, BAD)],
    "api:account-by-external-id": [(G, "external_id", UNAUTH, *CSM_ONLY_OWN)],
    "api:contact-list": [(G, None, UNAUTH, OK, OK, OK, OK), (P, None, UNAUTH, BAD, BAD, BAD, BAD)],
    "api:contact-detail": [(G, "contact", UNAUTH, *CSM_ONLY_OWN), (PATCH, "contact", UNAUTH, *CSM_ONLY_OWN)],
    "api:contact-upsert": [(P, None, UNAUTH, BAD, BAD, BAD, BAD)],
    "api:contact-personal-data": [(G, "contact", UNAUTH, DENY, HIDE, OK, OK)],  # data rights: managers
    "api:contact-erase": [(P, "contact", UNAUTH, DENY, HIDE, OK, OK)],
    "api:mrr-movement-list": [(G, None, UNAUTH, OK, OK, OK, OK), (P, None, UNAUTH, BAD, BAD, BAD, BAD)],
    "api:mrr-movement-detail": [(G, "movement", UNAUTH, *CSM_ONLY_OWN)],
    "api:mrr-movement-batch": [(P, None, UNAUTH, BAD, BAD, BAD, BAD)],
    "api:touchpoint-list": [(G, None, UNAUTH, OK, OK, OK, OK), (P, None, UNAUTH, BAD, BAD, BAD, BAD)],
    "api:touchpoint-detail": [(G, "touchpoint", UNAUTH, *CSM_ONLY_OWN)],
    "api:usage-event-list": [(G, None, UNAUTH, OK, OK, OK, OK)],
    "api:usage-event-detail": [(G, "usage_event", UNAUTH, *CSM_ONLY_OWN)],
    "api:usage-event-bulk": [(P, None, UNAUTH, BAD, BAD, BAD, BAD)],
    "api:health-score-list": [(G, None, UNAUTH, OK, OK, OK, OK)],
    "api:health-score-detail": [(G, "account", UNAUTH, *CSM_ONLY_OWN)],
    "api:alert-list": [(G, None, UNAUTH, OK, OK, OK, OK)],
    "api:alert-detail": [(G, "alert", UNAUTH, *CSM_ONLY_OWN)],
    "api:alert-snooze": [(P, "alert", UNAUTH, BAD, HIDE, BAD, BAD)],
    "api:alert-resolve": [(P, "alert", UNAUTH, BAD, HIDE, BAD, BAD)],
    "api:alert-reopen": [(P, "alert", UNAUTH, *CSM_ONLY_OWN)],
    "api:task-list": [(G, None, UNAUTH, OK, OK, OK, OK), (P, None, UNAUTH, BAD, BAD, BAD, BAD)],
    "api:task-detail": [(G, "task", UNAUTH, *CSM_ONLY_OWN), (PATCH, "task", UNAUTH, *CSM_ONLY_OWN)],
    "api:playbook-list": [(G, None, UNAUTH, OK, OK, OK, OK)],
    "api:playbook-detail": [(G, "playbook", UNAUTH, OK, OK, OK, OK)],
    "api:playbook-apply": [(P, "playbook", UNAUTH, BAD, BAD, BAD, BAD)],
    "api:survey-list": [(G, None, UNAUTH, OK, OK, OK, OK)],
    "api:survey-detail": [(G, "survey", UNAUTH, OK, OK, OK, OK)],
    "api:survey-campaign-list": [(G, None, UNAUTH, OK, OK, OK, OK), (P, None, UNAUTH, BAD, BAD, BAD, BAD)],
    "api:survey-campaign-detail": [(G, "campaign", UNAUTH, *CSM_ONLY_OWN), (PATCH, "campaign", UNAUTH, BAD, HIDE, BAD, BAD)],
    "api:survey-campaign-progress": [(G, "campaign", UNAUTH, *CSM_ONLY_OWN)],
    "api:survey-campaign-launch": [(P, "campaign", UNAUTH, BAD, HIDE, BAD, BAD)],
    "api:survey-campaign-pause": [(P, "campaign", UNAUTH, *CSM_ONLY_OWN)],
    "api:survey-campaign-resume": [(P, "campaign", UNAUTH, BAD, HIDE, BAD, BAD)],
    "api:survey-campaign-cancel": [(P, "campaign", UNAUTH, *CSM_ONLY_OWN)],
    "api:survey-invitation-list": [(G, None, UNAUTH, OK, OK, OK, OK)],
    "api:survey-invitation-detail": [(G, "invitation", UNAUTH, *CSM_ONLY_OWN)],
    "api:survey-response-list": [(G, None, UNAUTH, OK, OK, OK, OK)],
    "api:survey-response-detail": [(G, "response", UNAUTH, *CSM_ONLY_OWN)],
    "api:onboarding-template-list": [(G, None, UNAUTH, OK, OK, OK, OK)],
    "api:onboarding-template-detail": [(G, "template", UNAUTH, OK, OK, OK, OK)],
    "api:onboarding-plan-list": [(G, None, UNAUTH, OK, OK, OK, OK)],
    "api:onboarding-plan-detail": [(G, "plan", UNAUTH, *CSM_ONLY_OWN)],
    "api:onboarding-milestone-list": [(G, None, UNAUTH, OK, OK, OK, OK)],
    "api:onboarding-milestone-detail": [(G, "milestone", UNAUTH, *CSM_ONLY_OWN), (PATCH, "milestone", UNAUTH, *CSM_ONLY_OWN)],
    "api:loyalty-ledger-list": [(G, None, UNAUTH, OK, OK, OK, OK)],
    "api:loyalty-ledger-detail": [(G, "ledger", UNAUTH, *CSM_ONLY_OWN)],
    "api:loyalty-award-list": [(P, None, UNAUTH, BAD, BAD, BAD, BAD)],
    "api:reward-list": [(G, None, UNAUTH, OK, OK, OK, OK)],
    "api:reward-detail": [(G, "reward", UNAUTH, OK, OK, OK, OK)],
    "api:redemption-list": [(G, None, UNAUTH, OK, OK, OK, OK), (P, None, UNAUTH, BAD, BAD, BAD, BAD)],
    "api:redemption-detail": [(G, "redemption", UNAUTH, *CSM_ONLY_OWN)],
    "api:redemption-approve": [(P, "redemption", UNAUTH, DENY, HIDE, OK, OK)],
    "api:redemption-reject": [(P, "redemption", UNAUTH, DENY, HIDE, BAD, BAD)],
    "api:redemption-fulfil": [(P, "redemption", UNAUTH, DENY, HIDE, BAD, BAD)],
    "api:referral-list": [(G, None, UNAUTH, OK, OK, OK, OK)],
    "api:referral-detail": [(G, "referral", UNAUTH, *CSM_ONLY_OWN)],
    "api:referral-review": [(P, "referral", UNAUTH, BAD, HIDE, BAD, BAD)],
    "api:advocacy-ask-list": [(G, None, UNAUTH, OK, OK, OK, OK), (P, None, UNAUTH, BAD, BAD, BAD, BAD)],
    "api:advocacy-ask-detail": [(G, "ask", UNAUTH, *CSM_ONLY_OWN)],
    "api:advocacy-ask-move": [(P, "ask", UNAUTH, BAD, HIDE, BAD, BAD)],
    "api:loyalty-metrics": [(G, None, UNAUTH, OK, OK, OK, OK)],
    "api:metrics-index": [(G, None, UNAUTH, OK, OK, OK, OK)],
    "api:metrics-portfolio": [(G, None, UNAUTH, OK, OK, OK, OK)],
    "api:metrics-renewals": [(G, None, UNAUTH, OK, OK, OK, OK)],
    "api:metrics-summary": [(G, None, UNAUTH, *MANAGERS)],
    "api:metrics-breakdown": [(G, None, UNAUTH, *MANAGERS)],
    "api:metrics-trend": [(G, None, UNAUTH, *MANAGERS)],
    "api:metrics-health": [(G, None, UNAUTH, *MANAGERS)],
    "api:metrics-churn-reasons": [(G, None, UNAUTH, *MANAGERS)],
    "api:metrics-cohorts": [(G, None, UNAUTH, *MANAGERS)],
    # ---------------------------------------------------------------- the Django admin
    # Staff with admin rights only: everyone else is sent to the admin's login page.
    "admin:*": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, OK)],
    "admin:login": [(G, None, OK, OK, OK, OK, OK)],
    "admin:logout": [(G, None, OK, OK, OK, OK, NOPE)],
    "/admin/(?P<url>.*)$": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, HIDE)],
    "/admin/*/<path:object_id>/": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, OK)],  # old change addresses
    "admin:autocomplete": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],  # needs its field parameters
    "admin:*_process_import": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, NOPE)],  # POST only
    # Read-only records: nobody adds, and these nobody deletes, even a superuser.
    "admin:audit_auditentry_add": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],
    "admin:audit_auditentry_delete": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],
    "admin:accounts_usageevent_add": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],
    "admin:accounts_mrrmovement_delete": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],
    "admin:api_webhookdelivery_add": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],
    "admin:axes_*_add": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],
    "admin:feedback_invitation_add": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],
    "admin:feedback_response_add": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],
    "admin:health_accounthealth_add": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],
    "admin:health_digestsent_add": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],
    "admin:health_healthsnapshot_add": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],
    "admin:health_scorecard_delete": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],
    "admin:loyalty_ledgerentry_add": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],
    "admin:loyalty_ledgerentry_delete": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],
    "admin:loyalty_pointsbalance_add": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],
    "admin:loyalty_pointsbalance_delete": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],
    "admin:loyalty_redemption_add": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],
    "admin:loyalty_tierchange_add": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],
    "admin:loyalty_tierchange_delete": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],
    "admin:onboarding_celebration_add": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],
    "admin:onboarding_milestone_add": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],
    "admin:onboarding_sharelink_add": [(G, None, LOGIN, LOGIN, LOGIN, LOGIN, DENY)],
}
# fmt: on

ROUTES = all_routes()
WHO = {"anon": None, "own": "alice", "other": "alice", "manager": "carol", "admin": "dave"}
BOOK = {"anon": "alice", "own": "alice", "other": "bob", "manager": "bob", "admin": "bob"}


def test_every_route_has_a_row():
    missing = [f"{key}  ({route.pattern})" for key, route in ROUTES.items() if row_for(key, MATRIX) is None]
    assert not missing, "Routes without a row in MATRIX (declare who may use them):\n" + "\n".join(missing)


def test_every_row_names_a_route():
    import fnmatch

    stale = [key for key in MATRIX if not any(k == key or fnmatch.fnmatchcase(k, key) for k in ROUTES)]
    assert not stale, f"Rows for routes that no longer exist: {stale}"


@pytest.mark.parametrize("key", sorted(ROUTES))
def test_route(key, world, db):
    route = ROUTES[key]
    rows = row_for(key, MATRIX)
    if rows is None:
        pytest.fail(f"{key} ({route.pattern}) has no row in MATRIX")
    clients = {}
    for role, who in WHO.items():
        client = Client()
        if who:
            client.force_login(world["users"][who])
        clients[role] = client
    problems = []
    for method, target, *expected in rows:
        query = ""
        if target and target.startswith("?"):
            target, query = None, target
        seen: dict[str, str] = {}
        observed = []
        for role in ROLES:
            caches["throttle"].clear()
            url = url_for(route, target, world["books"][BOOK[role]], with_format=False) + query
            cache_key = f"{WHO[role]} {url}"
            if cache_key not in seen:  # no target: "own" and "other" are the same request
                seen[cache_key] = run_cell(clients[role], method, url)
            observed.append(seen[cache_key])
            if role == "other" and not (route.is_admin or url.startswith("/api/")):
                # The htmx partial of another portfolio's page is refused the same way.
                partial = run_cell(clients[role], method, url, htmx=True)
                if partial != seen[cache_key]:
                    problems.append(f"{method} {url} as htmx: {partial}, as a page: {seen[cache_key]}")
        if observed != expected:
            problems.append(
                f"{method} {route.pattern} ({target}): expected {dict(zip(ROLES, expected, strict=True))}, "
                f"got {dict(zip(ROLES, observed, strict=True))}"
            )
    assert not problems, "\n".join(problems)


def test_outcomes_are_declared_with_known_symbols():
    known = {OK, LOGIN, BAD, UNAUTH, DENY, HIDE, NOPE}
    for key, rows in MATRIX.items():
        for method, _target, *cells in rows:
            assert method in ("GET", "POST", "PATCH", "PUT", "DELETE"), key
            assert len(cells) == len(ROLES) and set(cells) <= known, key
