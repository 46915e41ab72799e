from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboards:home", permanent=False), name="home"),
    path("", include("team.urls")),
    path("accounts/", include("accounts.urls")),
    path("dashboard/", include("dashboards.urls")),
    path("", include("health.urls")),
    path("api/", include("api.urls")),
    path("feedback/", include("feedback.urls")),
    path("s/", include("feedback.public_urls")),
    path("onboarding/", include("onboarding.urls")),
    path("loyalty/", include("loyalty.urls")),
    path("", include("loyalty.public_urls")),  # /r/<token>/ and /rewards/<token>/, no login
    path("admin/", admin.site.urls),
]

# A database outage answers 503 with a clear page (JSON under /api/), never a traceback.
handler500 = "cs_app.errors.server_error"
