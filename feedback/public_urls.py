"""Public survey pages under /s/: no login; the token in the address is the only credential."""

from django.urls import path, re_path

from . import public_views

app_name = "feedback_public"
urlpatterns = [
    path("<str:token>/", public_views.answer, name="answer"),
    path("<str:token>/thanks/", public_views.thanks, name="thanks"),
    path("<str:token>/unsubscribe/", public_views.unsubscribe, name="unsubscribe"),
    re_path(r"^(?P<rest>.*)$", public_views.unknown, name="unknown"),
]
