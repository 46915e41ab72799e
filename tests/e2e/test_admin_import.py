"""Journey 6: an admin imports accounts from a CSV file with one bad row in the Django admin; the
preview names the row and the column, nothing is written and nothing can be confirmed; the file
fixed, the preview is clean, the import is confirmed and the accounts are in the portfolio."""

import re

import pytest

from accounts.models import Account
from tests.factories import PASSWORD, UserFactory

from .conftest import log_in

pytestmark = pytest.mark.browser

HEADER = "external_id,name,domain,segment,tier,plan,lifecycle_stage,owner_email,contract_start,currency\n"
GOOD = (
    "CRM-1,Acme Corp,acme.example,enterprise,gold,Scale,adoption,alice@staff.example,2025-01-01,USD\n"
    "CRM-2,Beta Ltd,beta.example,smb,bronze,Starter,onboarding,,2025-02-01,EUR\n"
)
BAD = "CRM-3,Gamma GmbH,gamma.example,galactic,,,,,2025-03-01,EUR\n"  # no such segment


@pytest.fixture
def people(transactional_db):
    admin = UserFactory(
        email="dave@staff.example",
        full_name="Dave Admin",
        role="admin",
        is_staff=True,
        is_superuser=True,
    )
    alice = UserFactory(email="alice@staff.example", full_name="Alice Archer", role="csm")
    return admin, alice


def _upload(page, tmp_path, content: str) -> None:
    page.goto("/admin/accounts/account/")
    page.get_by_role("link", name="Import").click()
    page.wait_for_url(re.compile(r"/admin/accounts/account/import/$"))
    path = tmp_path / "accounts.csv"
    path.write_text(content, encoding="utf-8")
    page.get_by_label("File to import").set_input_files(str(path))
    page.get_by_role("button", name="Submit").click()
    page.wait_for_load_state()


def test_admin_imports_accounts_and_sees_the_bad_rows_error(page, people, tmp_path):
    admin, alice = people
    log_in(page, admin.email, PASSWORD)

    _upload(page, tmp_path, HEADER + GOOD + BAD)
    assert page.get_by_text("Some rows failed to validate").is_visible()
    errors = page.locator(".validation-error-container, .import-preview, #content-main").first.inner_text()
    assert "segment" in errors.lower()
    assert "galactic" in errors or "Choose" in errors or "not one of" in errors, errors
    row = page.locator("tr", has_text="Gamma GmbH").first
    assert row.is_visible()  # the bad row is shown with its error, by line
    assert page.get_by_role("button", name="Confirm import").count() == 0
    assert not Account.objects.exists()

    _upload(page, tmp_path, HEADER + GOOD)
    assert page.get_by_text("Acme Corp").first.is_visible()
    assert not Account.objects.exists()  # the preview is a dry run
    page.get_by_role("button", name="Confirm import").click()
    page.wait_for_url(re.compile(r"/admin/accounts/account/$"))
    assert page.locator(".messagelist .success, .messagelist li").first.is_visible()
    assert set(Account.objects.values_list("name", flat=True)) == {"Acme Corp", "Beta Ltd"}
    assert Account.objects.get(external_id="CRM-1").owner == alice
    assert page.console_problems == []
