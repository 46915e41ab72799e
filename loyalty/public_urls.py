"""Public loyalty pages: /r/<token>/ (referral form) and /rewards/<token>/ (a contact's rewards)."""

from django.urls import path

from . import public_views

app_name = "loyalty_public"
urlpatterns = [
    path("r/<str:token>/", public_views.referral, name="referral"),
    path("r/<str:token>/thanks/", public_views.referral_thanks, name="referral_thanks"),
    path("rewards/<str:token>/", public_views.rewards, name="rewards"),
]
