"""bench_onboarding prints each page and read next to the floor measured in the same run."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_prints_figures_next_to_the_floor(plan, carol):
    out = io.StringIO()
    call_command("bench_onboarding", rounds=1, stdout=out)
    text = out.getvalue()
    assert "floor (every plan grouped, fetched)" in text
    for label in ("board, manager", "board, CSM", "plan page", "time-to-value", "funnel", "health source"):
        line = next(line for line in text.splitlines() if line.startswith(label))
        assert " ms " in line and "ratio" in line


def test_says_what_is_missing_without_plans(db):
    with pytest.raises(CommandError, match="No onboarding plans"):
        call_command("bench_onboarding", rounds=1, stdout=io.StringIO())
