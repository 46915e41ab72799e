"""The account 360 as a browser shows it: the page, then its side cards, which htmx loads from
``accounts:side`` as soon as the page is there (alerts and tasks, rewards, survey answers,
onboarding, usage, MRR)."""

from django.urls import reverse

HX = {"HX-Request": "true"}


def side(client, account):
    """The side cards' htmx response (its context holds what they show)."""
    response = client.get(reverse("accounts:side", args=[account.pk]), headers=HX)
    assert response.status_code == 200
    return response


def account_360_html(client, account) -> str:
    """The page's HTML with the side cards where htmx puts them."""
    page = client.get(reverse("accounts:detail", args=[account.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="side-cards"' in html
    return html + side(client, account).content.decode()
