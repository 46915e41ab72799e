"""Settings for the customer-success platform.

Every value comes from the environment, with safe defaults for the local run
(SQLite, Celery's filesystem transport, mail written to files). Production sets
DJANGO_DEBUG=false, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL and
CELERY_BROKER_URL; see docs/production.md.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("CS_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY",
    default="django-insecure-local-only-key-do-not-use-in-production-8f3a9c1e5b7d",
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "template_partials",
    "django_htmx",
    "axes",
    "csp",
    "import_export",
    "django_celery_beat",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "team",
    "accounts",
    "health",
    "api",
    "feedback",
    "dashboards",
    "onboarding",
    "loyalty",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "audit.context.AuditContextMiddleware",  # the client address for audit entries
    # Axes must be last: it answers locked-out logins.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cs_app.urls"
WSGI_APPLICATION = "cs_app.wsgi.application"

# Forms: Django's template renderer, with the plain widgets built in Python (cs_app.form_renderer).
FORM_RENDERER = "cs_app.form_renderer.FastWidgets"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cs_app.context_processors.platform",
                "health.context_processors.task_counts",
            ],
        },
    },
]

# Database: SQLite file by default, PostgreSQL via DATABASE_URL.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server, worker and beat share one file.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "team.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "team:login"
LOGIN_REDIRECT_URL = "dashboards:home"
LOGOUT_REDIRECT_URL = "team:login"

# Login throttling (django-axes): lock a username+IP pair after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "team/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("tr", "Türkçe"), ("zh-hant", "繁體中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("CS_TIME_ZONE", default="UTC")  # the platform's calendar for metrics
USE_I18N = True
USE_TZ = True

REPORTING_CURRENCY = env.str("CS_REPORTING_CURRENCY", default="USD")
# Dashboards (issue 8): what lifetime value assumes; managers may override both per request.
METRICS_GROSS_MARGIN = env.float("CS_METRICS_GROSS_MARGIN", default=0.80)  # share of revenue kept
METRICS_MONTHLY_DISCOUNT_RATE = env.float("CS_METRICS_MONTHLY_DISCOUNT_RATE", default=0.01)

STATIC_URL = "static/"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Chart.js for the dashboards, installed from npm by ./run (package.json): served as
    # static/vendor/chart.js/, never from a CDN. Only its dist folder, not all of node_modules.
    ("vendor/chart.js", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Email: files a person can read locally; SMTP in production via EMAIL_URL-like settings.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Customer Success <cs@example.com>")

# Celery: filesystem transport by default (no server), Redis or RabbitMQ via CELERY_BROKER_URL.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None) or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Periodic jobs. The database scheduler copies these into django-celery-beat's tables,
# where admins can change or pause them.
CELERY_BEAT_SCHEDULE = {
    "accounts-refresh-mrr": {
        "task": "accounts.tasks.accounts_refresh_mrr_task",
        "schedule": 60 * 60,  # hourly: future-dated movements take effect on their day
    },
    "health-scores-nightly": {
        "task": "health.tasks.health_scores_recompute_task",
        "schedule": crontab(hour=2, minute=30),  # every account's score, alerts and playbook tasks
    },
    "health-task-digest": {
        "task": "health.tasks.task_digests_send_task",
        "schedule": crontab(hour=7, minute=0),  # each CSM's tasks due and new alerts, skipped when empty
    },
}

# REST API (issue 3): token auth, per-token throttling, JSON errors, OpenAPI at /api/schema/.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=2 * 1024 * 1024)
API_BULK_MAX_BYTES = env.int("API_BULK_MAX_BYTES", default=16 * 1024 * 1024)
CACHES = {
    # Shared by every process on the machine (web, worker, beat) by default; point CACHE_URL at
    # Redis (redis://host:6379/1) when web and worker processes run on several machines.
    "default": env.cache_url("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}"),
    # Throttle counts: shared by every web process when pointed at Redis (redis://…/2).
    "throttle": env.cache_url("API_THROTTLE_CACHE_URL", default="locmemcache://api-throttle"),
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.HasAppAccess", "api.permissions.TokenScopeAllows"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttles.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "token": env.str("API_THROTTLE_RATE", default="1200/min"),
        "ingest": env.str("API_THROTTLE_INGEST_RATE", default="600/min"),
    },
    "DEFAULT_PARSER_CLASSES": ["api.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pages",
    "PAGE_SIZE": 50,
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CS Platform API",
    "DESCRIPTION": (
        "Every part of the customer-success platform: accounts, contacts, revenue, usage and "
        "touchpoints; health scores, alerts, tasks and playbooks; onboarding; surveys; loyalty and "
        "referrals; dashboard metrics. "
        "Authenticate with `Authorization: Bearer <token>`; see docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "MovementKindEnum": "accounts.models.MovementKind",
        "TouchpointKindEnum": "accounts.models.TouchpointKind",
        "ContactRoleEnum": "accounts.models.ContactRole",
        "SyncStatusEnum": ["created", "updated", "unchanged", "rejected"],
        "SurveyKindEnum": "feedback.models.SurveyKind",
        "QuestionKindEnum": "feedback.models.QuestionKind",
    },
}
CELERY_BEAT_SCHEDULE["api-idempotency-purge"] = {
    "task": "api.tasks.idempotency_purge_task",
    "schedule": 60 * 60,  # hourly: Idempotency-Key answers are kept 24 hours
}
CELERY_BEAT_SCHEDULE["api-webhook-sweep"] = {
    "task": "api.tasks.webhook_deliveries_sweep_task",
    "schedule": 5 * 60,  # deliveries whose enqueue was lost (broker down) go out within minutes
}

# Security. Production (DEBUG off) turns on every check --deploy wants.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content Security Policy: no inline script or style anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# CSV import and export in the admin (django-import-export).
# Every import runs in a transaction: the preview is a rolled-back dry run, and the admins
# also roll back the confirmed import when any row fails, so a bad row never half-writes.
IMPORT_EXPORT_USE_TRANSACTIONS = True
# The library's switch only deletes a leading "=" from exported cells. Our admins export with
# accounts.resources.SafeCSV, which keeps the value and prefixes an apostrophe to any cell that
# starts with = + - @ tab or CR; the switch stays on as a fallback for other admins.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
# Importing creates and changes rows; exporting needs at least view permission.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
# The preview and the confirm step may reach different web processes: keep the upload in the
# shared cache, not in one machine's temporary folder.
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.CacheStorage"
# Surveys (issue 6): due rounds, reminders, stale claims and stalled senders, every minute.
CELERY_BEAT_SCHEDULE["feedback-tick"] = {
    "task": "feedback.tasks.feedback_tick_task",
    "schedule": 60,
}
# Requests per minute per address on the public survey pages (feedback.ratelimit.LIMITS), e.g.
# FEEDBACK_RATE_LIMITS=read=120,write=30; the load benchmark raises them for its one address.
FEEDBACK_RATE_LIMITS = {k: int(v) for k, v in env.dict("FEEDBACK_RATE_LIMITS", default={}).items()}
# Loyalty (issue 7): expiry, expiry warnings and tier moves, nightly.
CELERY_BEAT_SCHEDULE["loyalty-nightly"] = {
    "task": "loyalty.tasks.loyalty_nightly_task",
    "schedule": crontab(hour=3, minute=15),
}
# Onboarding (issue 5): celebration emails whose enqueue after commit was lost, every 5 minutes.
CELERY_BEAT_SCHEDULE["onboarding-celebrations-sweep"] = {
    "task": "onboarding.tasks.celebrations_sweep_task",
    "schedule": 5 * 60,
}
