"""The account 360 as a browser shows it: the page, then what htmx loads as soon as the page is
there: the timeline's first page (``accounts:timeline``) and the side cards (``accounts:side``:
alerts and tasks, rewards, survey answers, onboarding, usage, MRR)."""

from django.urls import reverse

HX = {"HX-Request": "true"}


def side(client, account):
    """The side cards' htmx response (its context holds what they show)."""
    response = client.get(reverse("accounts:side", args=[account.pk]), headers=HX)
    assert response.status_code == 200
    return response


def timeline(client, account, *, htmx: bool = True):
    """The timeline's first page as htmx loads it; ``htmx=False``: as the page it is without
    JavaScript, whose context holds the entries (the htmx partial renders no template the test
    client records)."""
    response = client.get(reverse("accounts:timeline", args=[account.pk]), headers=HX if htmx else {})
    assert response.status_code == 200
    return response


def account_360_html(client, account) -> str:
    """The page's HTML with the timeline and the side cards where htmx puts them."""
    page = client.get(reverse("accounts:detail", args=[account.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="side-cards"' in html and 'hx-trigger="load"' in html
    return html + timeline(client, account).content.decode() + side(client, account).content.decode()
