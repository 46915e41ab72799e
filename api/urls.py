"""/api/: the versioned REST resources, the schema and docs, and the managers' token pages.

Each app's ``api.py`` holds its viewsets, registered on the router here; the v1 index lists the
router's resources and the plain views below it (metrics), so every part of the product is
reachable from /api/v1/.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from accounts import api as accounts_api
from dashboards import api as dashboards_api
from feedback import api as feedback_api
from health import api as health_api
from loyalty import api as loyalty_api
from onboarding import api as onboarding_api

from . import views
from .exceptions import json_not_found

app_name = "api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
# JSON only: no ``.json`` twin of every address (the custom actions answered those with a 500).
router.include_format_suffixes = False
router.register("accounts", accounts_api.AccountViewSet, basename="account")
router.register("contacts", accounts_api.ContactViewSet, basename="contact")
router.register("mrr-movements", accounts_api.MrrMovementViewSet, basename="mrr-movement")
router.register("touchpoints", accounts_api.TouchpointViewSet, basename="touchpoint")
router.register("usage-events", accounts_api.UsageEventViewSet, basename="usage-event")
router.register("health-scores", health_api.HealthScoreViewSet, basename="health-score")
router.register("alerts", health_api.AlertViewSet, basename="alert")
router.register("tasks", health_api.TaskViewSet, basename="task")
router.register("playbooks", health_api.PlaybookViewSet, basename="playbook")
router.register("surveys", feedback_api.SurveyViewSet, basename="survey")
router.register("survey-campaigns", feedback_api.CampaignViewSet, basename="survey-campaign")
router.register("survey-invitations", feedback_api.InvitationViewSet, basename="survey-invitation")
router.register("survey-responses", feedback_api.ResponseViewSet, basename="survey-response")
router.register("onboarding-templates", onboarding_api.PlanTemplateViewSet, basename="onboarding-template")
router.register("onboarding-plans", onboarding_api.OnboardingPlanViewSet, basename="onboarding-plan")
router.register("onboarding-milestones", onboarding_api.MilestoneViewSet, basename="onboarding-milestone")
router.register("loyalty-ledger", loyalty_api.LedgerViewSet, basename="loyalty-ledger")
router.register("loyalty-awards", loyalty_api.AwardViewSet, basename="loyalty-award")
router.register("rewards", loyalty_api.RewardViewSet, basename="reward")
router.register("redemptions", loyalty_api.RedemptionViewSet, basename="redemption")
router.register("referrals", loyalty_api.ReferralViewSet, basename="referral")
router.register("advocacy-asks", loyalty_api.AdvocacyAskViewSet, basename="advocacy-ask")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", views.ApiDocsView.as_view(url_name="api:schema"), name="docs"),
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/new/", views.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path(
        "v1/",
        views.ApiRootView.as_view(
            routes=[(prefix, f"{basename}-list") for prefix, _viewset, basename in router.registry]
            + [("metrics", "metrics-index"), ("loyalty-metrics", "loyalty-metrics")]
        ),
        name="root",
    ),
    path("v1/", include(router.urls)),
    path("v1/metrics/", include(dashboards_api.urlpatterns)),  # every dashboard figure (issue 8)
    path("v1/loyalty-metrics/", loyalty_api.ProgrammeMetricsView.as_view(), name="loyalty-metrics"),
    re_path(r"^[\s\S]*$", json_not_found),  # unknown /api/ addresses answer JSON, not an HTML page
]
