"""The people every access test uses: alice and bob are CSMs, carol a manager,
dave an admin, charlie a staff login with no role."""

import os

import pytest

from team.models import Role

from .factories import AccountFactory, UserFactory


def pytest_report_header(config):
    from django.conf import settings

    return [
        f"database: {settings.DATABASES['default']['ENGINE']}",
        f"celery broker: {settings.CELERY_BROKER_URL}",
    ]


@pytest.fixture(autouse=True)
def _isolated_settings(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # A fresh in-memory cache per test, so no test sees another's (or a previous run's) keys.
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": str(tmp_path)},
    }
    settings.CELERY_TASK_ALWAYS_EAGER = False


@pytest.fixture
def alice(db):
    return UserFactory(email="alice@staff.example", full_name="Alice Archer", role=Role.CSM)


@pytest.fixture
def bob(db):
    return UserFactory(email="bob@staff.example", full_name="Bob Baker", role=Role.CSM)


@pytest.fixture
def carol(db):
    return UserFactory(email="carol@staff.example", full_name="Carol Chen", role=Role.MANAGER)


@pytest.fixture
def dave(db):
    return UserFactory(
        email="dave@staff.example",
        full_name="Dave Admin",
        role=Role.ADMIN,
        is_staff=True,
        is_superuser=True,
    )


@pytest.fixture
def charlie(db):
    return UserFactory(email="charlie@staff.example", full_name="Charlie NoRole", role="")


@pytest.fixture
def alice_account(alice):
    return AccountFactory(owner=alice, name="Alpha Industries", domain="alpha.example")


@pytest.fixture
def bob_account(bob):
    return AccountFactory(owner=bob, name="Bravo Logistics", domain="bravo.example")


def using_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))


requires_postgres = pytest.mark.skipif(
    not using_postgres(), reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)"
)


def pytest_sessionfinish(session, exitstatus):
    """In CI (CS_REQUIRE_ALL=1) a skipped test is a failure: every real part must be proven."""
    if not os.environ.get("CS_REQUIRE_ALL"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(
            f"CS_REQUIRE_ALL is set and {len(skipped)} test(s) were skipped; failing the run.", red=True
        )
        session.exitstatus = 1
