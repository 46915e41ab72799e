"""The public referral and rewards pages speak the contact's language (English, Turkish,
Traditional Chinese); the visitor can switch, and the choice survives the form."""

from __future__ import annotations

import pytest
from django.urls import reverse

from loyalty import services
from loyalty.models import LinkKind, Referral
from tests.factories import ContactFactory

from .factories import RewardFactory
from .helpers import give

pytestmark = pytest.mark.django_db

REFERRAL_TEXTS = {
    "en": ("en", "Know a company we could help?", "Company website", "Send referral"),
    "tr": (
        "tr",
        "Yardımcı olabileceğimiz bir şirket tanıyor musunuz?",
        "Şirketin web sitesi",
        "Öneriyi gönder",
    ),
    "zh-hant": ("zh-Hant", "認識我們能幫上忙的公司嗎？", "公司網站", "送出推薦"),
}


def _link(account, language, kind=LinkKind.REFERRAL):
    contact = ContactFactory(account=account, language=language, name="Ayşe Yılmaz")
    return services.member_link_get(account=account, contact=contact, kind=kind)


@pytest.mark.parametrize("language", ["en", "tr", "zh-hant"])
def test_the_referral_page_speaks_the_contacts_language(client, alice_account, language):
    link = _link(alice_account, language)
    page = client.get(reverse("loyalty_public:referral", args=[link.token]))
    html = page.content.decode()
    html_lang, *texts = REFERRAL_TEXTS[language]
    assert page.status_code == 200
    assert f'<html lang="{html_lang}">' in html
    for text in texts:
        assert text in html
    assert page["Content-Language"] == language


def test_the_visitor_switches_language_and_keeps_it_through_errors_and_thanks(client, alice_account):
    link = _link(alice_account, "en")
    url = reverse("loyalty_public:referral", args=[link.token])
    page = client.get(url + "?lang=tr")
    assert "Öneriyi gönder" in page.content.decode()
    assert f'href="{url}?lang=zh-hant"' in page.content.decode()

    bad = client.post(url, {"lang": "tr", "company_name": "", "domain": "x", "contact_email": "nope"})
    html = bad.content.decode()
    assert bad.status_code == 422
    assert "Lütfen aşağıda işaretlenen alanları kontrol edin." in html
    assert "Öneriyi gönder" in html

    done = client.post(
        url,
        {"lang": "tr", "company_name": "Zeta", "domain": "zeta.example", "contact_email": "cto@zeta.example"},
    )
    assert done.status_code == 302 and done["Location"].endswith("?lang=tr")
    thanks = client.get(done["Location"])
    assert "Tanıştırdığınız için teşekkürler!" in thanks.content.decode()
    assert Referral.objects.filter(domain="zeta.example").count() == 1


def test_the_browsers_language_is_used_for_a_link_without_a_contact(client, alice_account):
    link = services.member_link_get(account=alice_account, kind=LinkKind.REFERRAL)
    page = client.get(
        reverse("loyalty_public:referral", args=[link.token]), HTTP_ACCEPT_LANGUAGE="zh-Hant-TW,zh;q=0.8"
    )
    assert "送出推薦" in page.content.decode()


def test_the_rewards_page_and_its_refusals_in_turkish(client, alice_account):
    link = _link(alice_account, "tr", kind=LinkKind.REWARDS)
    give(alice_account, 50)
    cheap = RewardFactory(name="Sticker pack", cost=40, stock=None)
    url = reverse("loyalty_public:rewards", args=[link.token])
    page = client.get(url)
    html = page.content.decode()
    assert '<html lang="tr">' in html
    for text in ("Merhaba Ayşe Yılmaz", "Harcanabilir puan", "Bu ödülü talep et", "Bronz"):
        assert text in html
    asked = client.post(url, {"lang": "tr", "reward": cheap.pk})
    assert asked.status_code == 302
    after = client.get(asked["Location"]).content.decode()
    assert "Teşekkürler! Talebiniz ekibimize ulaştı" in after
    assert "Onay bekliyor" in after
    again = client.post(url, {"lang": "tr", "reward": cheap.pk})  # 10 points left: not enough
    assert again.status_code == 422
    assert "Yeterli puan yok" in again.content.decode()


def test_the_points_held_keep_the_sites_language_on_the_ledger(client, alice_account):
    link = _link(alice_account, "zh-hant", kind=LinkKind.REWARDS)
    give(alice_account, 50)
    reward = RewardFactory(name="Mug", cost=40, stock=None)
    client.post(reverse("loyalty_public:rewards", args=[link.token]), {"reward": reward.pk})
    assert alice_account.points_entries.filter(kind="redeem").get().reason == "Held for Mug"
