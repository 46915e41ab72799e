"""Production settings for the drills' gunicorn (DJANGO_DEBUG=false in its environment), except
that static files are served without the collectstatic manifest, so a drill needs no build step."""

from cs_app.settings import *  # noqa: F403
from cs_app.settings import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
