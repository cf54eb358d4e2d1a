"""The customer's pages speak the form's language, or the visitor's; Arabic runs right to left; every
shipped language is complete and compiled."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from testimonials.models import LANGUAGE_CHOICES, FormQuestion, Widget
from testimonials.widgets.render import widget_render
from tests.collection.collect_support import _fresh_rate_limits, form_url, valid_post  # noqa: F401
from tests.factories import TestimonialFactory, WidgetFactory

LOCALE = Path(settings.BASE_DIR) / "locale"


@pytest.mark.django_db
def test_it_speaks_the_visitors_language_and_says_it_varies(client, form_a):
    response = client.get(form_url(form_a), HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9,en;q=0.5")
    page = response.content.decode()
    assert '<html lang="es" dir="ltr">' in page
    assert "Enviar mi testimonio" in page and "Tu valoración" in page
    assert response.headers["Content-Language"] == "es"
    assert "Accept-Language" in response.headers["Vary"]


@pytest.mark.django_db
def test_a_form_with_its_own_language_ignores_the_browser(client, form_a):
    form_a.language = "fr"
    form_a.save()
    response = client.get(form_url(form_a), HTTP_ACCEPT_LANGUAGE="de")
    assert "Envoyer mon témoignage" in response.content.decode()
    assert "Accept-Language" not in response.headers.get("Vary", "")


@pytest.mark.django_db
def test_arabic_runs_right_to_left_and_customer_text_finds_its_own_direction(client, form_a):
    FormQuestion.objects.create(form=form_a, label="ما الذي جربته قبلنا؟")
    page = client.get(form_url(form_a), HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert '<html lang="ar" dir="rtl">' in page
    assert "أرسل شهادتي" in page
    assert '<label for="id_text" dir="auto">' in page and 'dir="auto"' in page.split('id="id_text"')[0][-300:]


@pytest.mark.django_db
def test_the_validation_messages_are_translated_too(client, form_a):
    response = client.post(form_url(form_a), valid_post(form_a, author_name=""), HTTP_ACCEPT_LANGUAGE="de")
    assert "Bitte nenne uns deinen Namen." in response.content.decode()


@pytest.mark.django_db
def test_the_thank_you_page_says_what_happens_next_in_the_visitors_language(client, form_a):
    form_a.brand.auto_approve = False
    form_a.brand.save()
    url = reverse("collect-thanks", args=[form_a.brand.slug, form_a.slug])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="pt").content.decode()
    assert "O que acontece agora" in page and "Brand A lê cada testemunho" in page


@pytest.mark.django_db
def test_the_widget_chrome_is_published_in_the_widgets_language(brand_a):
    TestimonialFactory(brand=brand_a, author_name="سارة أحمد", text="قهوة رائعة وخدمة سريعة.", rating=5)
    document = widget_render(WidgetFactory(brand=brand_a, layout=Widget.Layout.CAROUSEL, language="ar")).document
    assert '<html lang="ar" dir="rtl"' in document
    assert "الشهادة التالية" in document  # "Next testimonial"
    assert '<blockquote dir="auto">' in document and '<strong class="name" dir="auto">' in document
    japanese = widget_render(WidgetFactory(brand=brand_a, layout=Widget.Layout.BADGE, language="ja")).document
    assert "1 件のレビュー" in japanese


def test_every_shipped_language_is_declared_once_complete_and_compiled():
    assert [code for code, _ in settings.LANGUAGES] == [code for code, _ in LANGUAGE_CHOICES]
    for code, _ in settings.LANGUAGES:
        po = LOCALE / code / "LC_MESSAGES" / "django.po"
        mo = po.with_suffix(".mo")
        assert po.is_file() and mo.is_file(), code
        assert mo.stat().st_mtime >= po.stat().st_mtime - 1, f"{code}: run manage.py compilemessages"
        if code == "en":
            continue
        text = po.read_text()
        untranslated = text.count('msgstr ""\n\n') + text.count('msgstr[0] ""\n')
        assert untranslated == 0, f"{code}: {untranslated} strings without a translation"
