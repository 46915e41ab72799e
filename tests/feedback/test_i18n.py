"""Every customer-facing text in English, Turkish and Traditional Chinese: the contact's language
chooses (email and pages), and the respondent can switch on the page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from feedback.emails import build_message
from feedback.models import Response
from tests.factories import AccountFactory, ContactFactory

from . import factories as f


def _invitation(alice, language, kind="nps"):
    contact = ContactFactory(account=AccountFactory(owner=alice), name="Ayşe Yılmaz", language=language)
    return f.invitation(contact=contact, campaign_obj=f.campaign(by=alice, kind=kind))


@pytest.mark.parametrize(
    ("language", "html_lang", "question", "follow_up", "button", "low"),
    [
        (
            "tr",
            "tr",
            "Bizi bir arkadaşınıza veya iş arkadaşınıza önerme olasılığınız nedir?",
            "Puanınızın ana nedeni nedir? Neyi daha iyi yapmalıyız?",
            "Yanıtımı gönder",
            "Hiç olası değil",
        ),
        (
            "zh-hant",
            "zh-Hant",
            "您有多大可能向朋友或同事推薦我們？",
            "您給這個分數的主要原因是什麼？我們應該在哪些方面改進？",
            "送出我的回覆",
            "完全不可能",
        ),
        (
            "en",
            "en",
            "How likely is it that you would recommend us to a friend or colleague?",
            "What is the main reason for your score? What should we do better?",
            "Send my answer",
            "Not at all likely",
        ),
    ],
)
def test_the_page_speaks_the_contacts_language(
    client, alice, language, html_lang, question, follow_up, button, low
):
    invitation = _invitation(alice, language)
    page = client.get(reverse("feedback_public:answer", args=[invitation.token]) + "?score=3")
    html = page.content.decode()
    assert f'<html lang="{html_lang}">' in html
    for text in (question, follow_up, button, low):
        assert text in html
    assert page["Content-Language"] == language


def test_the_respondent_can_switch_language_and_the_answer_keeps_it(client, alice):
    invitation = _invitation(alice, "tr")
    url = reverse("feedback_public:answer", args=[invitation.token])
    page = client.get(url + "?score=9")
    assert f'href="{url}?lang=zh-hant&amp;score=9"' in page.content.decode()  # the switcher keeps the score
    switched = client.get(url, {"lang": "zh-hant", "score": "9"})
    assert "您有多大可能向朋友或同事推薦我們？" in switched.content.decode()
    done = client.post(url, {"score": "9", "lang": "zh-hant"})
    assert done["Location"].endswith("?lang=zh-hant")
    assert "謝謝您！" in client.get(done["Location"]).content.decode()
    assert Response.objects.get().language == "zh-hant"


def test_errors_are_in_the_respondents_language(client, alice):
    invitation = _invitation(alice, "tr", kind="csat")
    page = client.post(
        reverse("feedback_public:answer", args=[invitation.token]), {"score": "9", "lang": "tr"}
    )
    assert page.status_code == 422
    assert "1 ile 5 arasında bir puan seçin." in page.content.decode()


@pytest.mark.parametrize(
    ("language", "subject", "greeting", "label"),
    [
        ("tr", "Nasıldık? Söylemek için tek tıklama yeterli", "Merhaba Ayşe,", "Çok memnunum"),
        ("zh-hant", "我們表現如何？點一下告訴我們", "Ayşe 您好：", "非常滿意"),
    ],
)
def test_the_email_is_in_the_contacts_language(alice, language, subject, greeting, label):
    invitation = _invitation(alice, language, kind="csat")
    message = build_message(invitation, invitation.campaign.survey)
    assert message.subject == subject
    assert greeting in message.body and label in message.body
    html = message.alternatives[0][0]
    assert greeting in html and f'<html lang="{language}">' in html
    assert message.extra_headers["Content-Language"] == language


def test_problem_pages_and_unsubscribe_are_translated(client, db):
    assert "Bu bağlantı çalışmıyor" in client.get("/s/unknown-link-xxxxxxxxxxxx/?lang=tr").content.decode()
    assert "此連結無法使用" in client.get("/s/unknown-link-xxxxxxxxxxxx/?lang=zh-hant").content.decode()


def test_a_survey_reworded_per_language(client, alice):
    invitation = _invitation(alice, "tr")
    survey = invitation.campaign.survey
    survey.question, survey.question_tr = "Would you recommend Acme?", "Acme'yi önerir misiniz?"
    survey.save()
    html = client.get(reverse("feedback_public:answer", args=[invitation.token])).content.decode()
    assert "Acme&#x27;yi önerir misiniz?" in html
    html = client.get(
        reverse("feedback_public:answer", args=[invitation.token]), {"lang": "zh-hant"}
    ).content.decode()
    assert "Would you recommend Acme?" in html  # no Chinese wording: English, not empty


def test_every_built_in_text_is_translated():
    """Each customer-facing text of the built-in kinds has a Turkish and a Chinese translation."""
    from django.utils import translation

    from feedback import texts

    strings = [
        *texts.QUESTION.values(),
        *texts.SUBJECT.values(),
        *texts.REMINDER_SUBJECT.values(),
        *texts.LOW_LABEL.values(),
        *texts.HIGH_LABEL.values(),
        *(label for labels in texts.POINT_LABELS.values() for label in labels.values()),
        *(text for bands in texts.FOLLOW_UP.values() for text in bands.values()),
    ]
    for language in ("tr", "zh-hant"):
        with translation.override("en"):
            english = [str(s) for s in strings]
        with translation.override(language):
            translated = [str(s) for s in strings]
        untranslated = [e for e, t in zip(english, translated, strict=True) if e == t]
        assert not untranslated, (language, untranslated)
