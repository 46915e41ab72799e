"""Probing another portfolio through the query string: every page, partial, export and API list
a CSM may open, asked with another portfolio's ids in every filter we can think of, never
shows that portfolio's customer data (and never answers with a 500)."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.test import Client

from .matrix_support import OK, all_routes, row_for, run_cell_response, url_for
from .test_access_matrix import MATRIX

# bob's customer data as build_world names it (his staff name may appear in staff pickers).
BOB_MARKERS = (
    "Bob Co",
    "Bobby Buyer",
    "buyer@bob.example",
    "ext-bob",
    "bob pulse",
    "bob draft",
    "bob-secret-touch",
)

ROUTES = all_routes()
# The lists, dashboards, exports and API collections a CSM may open (the addresses that take
# filters; an address naming one object is the access matrix's business).
PROBED = sorted(
    key
    for key, route in ROUTES.items()
    if not route.is_admin
    and any(
        method == "GET" and own == OK and (target is None or target.startswith("?"))
        for method, target, _anon, own, *_rest in (row_for(key, MATRIX) or [])
    )
)


def probes(bob_book: dict, bob_id: int) -> list[dict[str, str]]:
    account, contact, campaign = str(bob_book["account"]), str(bob_book["contact"]), str(bob_book["campaign"])
    return [
        {},
        {"account": account},
        {"accounts": account},
        {"owner": str(bob_id)},
        {"owner": "bob@staff.example"},
        {"contact": contact},
        {"campaign": campaign},
        {"plan": str(bob_book["plan"])},
        {"q": "Bob", "search": "Bob"},
        {"external_id": "ext-bob"},
        {"export": "renewing-accounts", "within": "90"},
        {"page_size": "500", "days": "3650"},
    ]


@pytest.mark.parametrize("key", PROBED)
def test_no_other_portfolio_data_through_filters(key, world, db):
    route = ROUTES[key]
    (_method, target, *_cells) = next(r for r in row_for(key, MATRIX) if r[0] == "GET")
    query = ""
    if target and target.startswith("?"):
        target, query = None, target[1:]
    client = Client()
    client.force_login(world["users"]["alice"])
    base = url_for(route, target, world["books"]["alice"], with_format=False)
    leaks = []
    for params in probes(world["books"]["bob"], world["users"]["bob"].pk):
        caches["throttle"].clear()
        qs = "&".join(filter(None, [query, *(f"{k}={v}" for k, v in params.items())]))
        url = f"{base}?{qs}" if qs else base
        response = run_cell_response(client, url)
        body = response.content.decode("utf-8", errors="replace")
        assert response.status_code < 500, (url, response.status_code)
        # (a value we sent may be echoed back in the page's links: that is not a leak)
        leaks += [f"{url}: {marker!r}" for marker in BOB_MARKERS if marker in body and marker not in url]
    assert not leaks, "Another portfolio's data shown to a CSM:\n" + "\n".join(leaks)


def test_the_probe_sees_a_leak_when_there_is_one(world, db):
    """The markers are real: a manager, who may see bob's portfolio, finds them."""
    client = Client()
    client.force_login(world["users"]["carol"])
    body = run_cell_response(client, "/accounts/?q=Bob").content.decode()
    assert "Bob Co" in body
