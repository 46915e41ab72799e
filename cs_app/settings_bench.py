"""Production settings for the load benchmark's and the fault drills' gunicorn (run with
DJANGO_DEBUG=false), except that static files are served from the apps' folders (WhiteNoise
with finders, no collectstatic manifest): collecting and compressing every asset takes minutes,
and a page does the same work either way."""

from .settings import *  # noqa: F403
from .settings import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
