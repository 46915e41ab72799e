"""The project's addresses plus the health API on the v1 router, for the API tests (the project's
router lists each app's viewsets in api/urls.py)."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from health import api

router = DefaultRouter(trailing_slash=True)
router.register("health-scores", api.HealthScoreViewSet, basename="health-score")
router.register("alerts", api.AlertViewSet, basename="alert")
router.register("tasks", api.TaskViewSet, basename="task")

urlpatterns = [path("api/v1/", include(router.urls)), path("", include("cs_app.urls"))]
