"""The collection page: every field rule, kept input, consent, branding, embedding and tenancy."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from testimonials.models import FieldMode, FormQuestion, MediaAsset, Testimonial
from tests.collection.collect_support import _fresh_rate_limits, form_url, jpeg_bytes, valid_post  # noqa: F401
from tests.factories import CollectionFormFactory

pytestmark = pytest.mark.django_db


def _post(client, form, **overrides):
    return client.post(form_url(form), valid_post(form, **overrides))


# --------------------------------------------------------------------------- the page


def test_it_shows_the_form_with_the_brands_name_colour_and_questions(client, form_a):
    form_a.brand.accent_color = "#0a7d3b"
    form_a.brand.save()
    FormQuestion.objects.create(form=form_a, label="What did you try before us?")
    response = client.get(form_url(form_a))
    html = response.content.decode()
    assert response.status_code == 200
    assert "How did we do?" in html
    assert "Brand A" in html
    assert "--accent: #0a7d3b" in html
    assert "What did you try before us?" in html
    assert 'name="token"' in html
    assert 'type="radio" name="rating"' in html


def test_it_sets_no_cookies_so_it_works_inside_a_brands_iframe(client, form_a):
    response = client.get(form_url(form_a))
    assert response.cookies == {}
    response = _post(client, form_a)
    assert response.status_code == 303
    assert response.cookies == {}


def test_it_lets_only_the_brands_allowed_domains_frame_it(client, form_a):
    response = client.get(form_url(form_a))
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors https://shop-a.example.com;" in csp
    assert "X-Frame-Options" not in response.headers
    assert "script-src 'self'" in csp


def test_it_refuses_framing_everywhere_when_the_brand_allows_no_domain(client, form_a):
    form_a.brand.allowed_domains = ["javascript:alert(1)", "https://x.example.com; script-src *"]
    form_a.brand.save()
    csp = client.get(form_url(form_a)).headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src *" not in csp


def test_it_answers_404_for_a_form_of_brand_b_under_brand_as_slug(client, form_a, form_b):
    form_b.slug = "only-b"
    form_b.save()
    response = client.get(reverse("collect-form", kwargs={"brand_slug": "brand-a", "form_slug": "only-b"}))
    assert response.status_code == 404
    response = client.post(
        reverse("collect-form", kwargs={"brand_slug": "brand-a", "form_slug": "only-b"}), valid_post(form_b)
    )
    assert response.status_code == 404
    assert not Testimonial.objects.exists()


def test_it_refuses_a_token_from_another_brands_form(client, form_a, form_b):
    response = client.post(form_url(form_a), valid_post(form_b))
    assert response.status_code == 400
    assert not Testimonial.objects.exists()
    assert "another form" in response.content.decode()


def test_it_answers_404_for_a_switched_off_form(client, form_a):
    form_a.is_active = False
    form_a.save()
    assert client.get(form_url(form_a)).status_code == 404


def test_it_leaks_nothing_private_about_other_testimonials(client, form_a):
    Testimonial.objects.create(
        brand=form_a.brand, form=form_a, author_name="Secret Person", author_email="secret@example.com"
    )
    html = client.get(form_url(form_a)).content.decode()
    assert "secret@example.com" not in html
    assert "Secret Person" not in html


# --------------------------------------------------------------------------- a good submission


def test_it_stores_a_submission_as_received_and_shows_the_thank_you_page(
    client, form_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = _post(client, form_a)
    item = Testimonial.objects.get()
    assert response.status_code == 303
    assert response["Location"].startswith(reverse("collect-thanks", args=["brand-a", "feedback"]))
    assert item.state == Testimonial.State.RECEIVED
    assert (item.brand, item.form, item.rating, item.author_name) == (form_a.brand, form_a, 5, "Maya Lopez")
    assert item.text == "The onboarding call saved us a week of work."
    assert len(callbacks) == 1  # processing is queued after commit
    thanks = client.get(response["Location"])
    assert form_a.thank_you_message in thanks.content.decode()


def test_it_stores_the_consent_text_it_showed_with_the_time(client, form_a):
    form_a.consent_text = "You may quote me on your website."
    form_a.save()
    _post(client, form_a)
    item = Testimonial.objects.get()
    assert item.consent_given and item.consent_text == "You may quote me on your website."
    assert item.consented_at is not None
    form_a.consent_text = "Changed later."
    form_a.save()
    item.refresh_from_db()
    assert item.consent_text == "You may quote me on your website."


def test_it_asks_marketing_consent_separately_and_only_when_the_form_has_a_text(client, form_a):
    assert "marketing_consent" not in client.get(form_url(form_a)).content.decode()
    _post(client, form_a, marketing_consent="on")
    assert Testimonial.objects.get().marketing_consent is False
    form_a.marketing_consent_text = "Send me news now and then."
    form_a.save()
    assert "Send me news now and then." in client.get(form_url(form_a)).content.decode()
    _post(client, form_a, marketing_consent="on")
    assert Testimonial.objects.order_by("-id").first().marketing_consent is True


def test_it_stores_answers_to_the_forms_questions(client, form_a):
    first = FormQuestion.objects.create(form=form_a, label="What did you try before us?")
    second = FormQuestion.objects.create(form=form_a, label="Who would you recommend us to?", position=1)
    _post(client, form_a, **{f"answer_{first.id}": "Spreadsheets.", f"answer_{second.id}": ""})
    assert Testimonial.objects.get().answers == [{"prompt": "What did you try before us?", "answer": "Spreadsheets."}]


def test_it_keeps_the_referral_code_of_whoever_shared_the_link(client, form_a):
    page = client.get(form_url(form_a) + "?vouch_ref=abc123").content.decode()
    assert 'value="abc123"' in page
    _post(client, form_a, ref="abc123")
    assert Testimonial.objects.get().referred_by == "abc123"


def test_it_ignores_a_referral_code_that_is_not_a_code(client, form_a):
    _post(client, form_a, ref="<script>x</script>")
    assert Testimonial.objects.get().referred_by == ""


def test_it_marks_submissions_to_a_form_with_an_incentive(client, form_a):
    form_a.incentive = "10% off your next order"
    form_a.save()
    assert "10% off your next order" in client.get(form_url(form_a)).content.decode()
    _post(client, form_a)
    assert Testimonial.objects.get().is_incentivised


# --------------------------------------------------------------------------- field rules


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"author_name": ""}, "author_name", "Please tell us your name."),
        ({"author_name": "x" * 121}, "author_name", "Please keep it under 120 characters: it has 121, 1 too many."),
        ({"consent_given": None}, "consent_given", "Please agree to share"),
        ({"rating": None}, "rating", "Please choose a star rating."),
        ({"rating": "6"}, "rating", "Please choose between 1 and 5 stars."),
        ({"rating": "0"}, "rating", "Please choose between 1 and 5 stars."),
        ({"rating": "five"}, "rating", "Please choose between 1 and 5 stars."),
        ({"text": ""}, "text", "Please write a few words."),
        ({"text": "short"}, "text", "Please write at least 10 characters."),
        ({"text": "y" * 2001}, "text", "Please keep it under 2000 characters: it has 2001, 1 too many."),
        ({"author_email": "not-an-email"}, "author_email", "Please enter an email address"),
    ],
)
def test_it_explains_each_broken_rule_next_to_its_field(client, form_a, overrides, field, message):
    response = _post(client, form_a, **overrides)
    html = response.content.decode()
    assert response.status_code == 400
    assert f'id="{field}-error"' in html
    assert message in html
    assert not Testimonial.objects.exists()


def test_it_keeps_everything_typed_when_it_shows_an_error(client, form_a):
    question = FormQuestion.objects.create(form=form_a, label="What did you try before us?")
    response = _post(
        client,
        form_a,
        text="tiny",
        rating="4",
        author_name="Jo <b>Bold</b>",
        author_company="Acme & Sons",
        **{f"answer_{question.id}": "A notebook"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "\ntiny</textarea>" in html
    assert 'value="4" id="id_rating_3" checked' in html
    assert 'value="Jo &lt;b&gt;Bold&lt;/b&gt;"' in html
    assert 'value="Acme &amp; Sons"' in html
    assert "\nA notebook</textarea>" in html
    assert 'name="consent_given" id="id_consent_given" value="on" checked' in html
    assert "<b>Bold</b>" not in html


def test_it_keeps_the_same_page_token_after_an_error_so_a_resend_is_still_one_testimonial(client, form_a):
    data = valid_post(form_a, text="tiny")
    response = client.post(form_url(form_a), data)
    assert f'value="{data["token"]}"' in response.content.decode()


def test_it_accepts_an_empty_optional_field_and_refuses_an_empty_required_one(client, form_a):
    form_a.company_mode = FieldMode.REQUIRED
    form_a.title_mode = FieldMode.OPTIONAL
    form_a.save()
    response = _post(client, form_a, author_title="")
    assert response.status_code == 400
    assert "Please add your company." in response.content.decode()
    response = _post(client, form_a, author_title="", author_company="Acme")
    assert response.status_code == 303


def test_it_does_not_ask_for_fields_the_form_switched_off(client, form_a):
    form_a.rating_mode = FieldMode.OFF
    form_a.email_mode = FieldMode.OFF
    form_a.photo_mode = FieldMode.OFF
    form_a.save()
    html = client.get(form_url(form_a)).content.decode()
    assert 'name="rating"' not in html
    assert 'name="author_email"' not in html
    assert 'name="photo"' not in html
    # Values sent anyway for switched-off fields are ignored, not stored.
    response = _post(client, form_a, rating="1", author_email="sneaky@example.com")
    assert response.status_code == 303
    item = Testimonial.objects.get()
    assert item.rating is None and item.author_email == ""


def test_it_accepts_only_https_links(client, form_a):
    form_a.link_mode = FieldMode.OPTIONAL
    form_a.save()
    for bad in ("javascript:alert(1)", "http://example.com", "ftp://example.com/x"):
        response = _post(client, form_a, author_url=bad)
        assert response.status_code == 400, bad
        assert 'id="author_url-error"' in response.content.decode()
    assert _post(client, form_a, author_url="https://maya.example.com").status_code == 303
    assert Testimonial.objects.get().author_url == "https://maya.example.com"


def test_it_adds_https_to_a_bare_domain(client, form_a):
    form_a.link_mode = FieldMode.OPTIONAL
    form_a.save()
    _post(client, form_a, author_url="maya.example.com")
    assert Testimonial.objects.get().author_url == "https://maya.example.com"


def test_it_stores_a_photo_privately_under_a_server_chosen_name(client, form_a, settings):
    photo = SimpleUploadedFile("../../x.jpg.php", jpeg_bytes(), content_type="application/x-php")
    response = client.post(form_url(form_a), {**valid_post(form_a), "photo": photo})
    assert response.status_code == 303
    asset = MediaAsset.objects.get()
    assert asset.kind == MediaAsset.Kind.PHOTO
    assert asset.content_type == "image/jpeg"
    assert asset.original.name.endswith(".jpg") and ".php" not in asset.original.name
    assert asset.original_name == "x.jpg.php"
    assert (settings.PRIVATE_MEDIA_ROOT / asset.original.name).exists()
    assert not any(settings.MEDIA_ROOT.rglob("*")) if settings.MEDIA_ROOT.exists() else True


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("photo.jpg", b"<html><script>alert(1)</script></html>", "web page"),
        ("photo.jpg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "SVG"),
        ("photo.jpg", b"GIF89a" + b"\x00" * 40, "GIF"),
        ("photo.png", b"just some text, not a picture", "could not recognise"),
    ],
)
def test_it_checks_a_photo_by_content_not_by_name(client, form_a, name, content, message):
    upload = SimpleUploadedFile(name, content, content_type="image/jpeg")
    response = client.post(form_url(form_a), {**valid_post(form_a), "photo": upload})
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert 'id="photo-error"' in html
    assert not Testimonial.objects.exists() and not MediaAsset.objects.exists()


def test_it_refuses_a_video_in_the_photo_field(client, form_a):
    from tests.collection.collect_support import WEBM_HEAD

    upload = SimpleUploadedFile("me.jpg", WEBM_HEAD + b"\x00" * 100, content_type="image/jpeg")
    response = client.post(form_url(form_a), {**valid_post(form_a), "photo": upload})
    assert response.status_code == 400
    assert "please send a photo here" in response.content.decode()


def test_it_requires_a_photo_when_the_form_does(client, form_a):
    form_a.photo_mode = FieldMode.REQUIRED
    form_a.save()
    response = _post(client, form_a)
    assert response.status_code == 400
    assert "Please add a photo." in response.content.decode()


def test_it_keeps_an_accepted_photo_when_another_field_has_an_error(client, form_a):
    photo = SimpleUploadedFile("latte.jpg", jpeg_bytes(), content_type="image/jpeg")
    first = client.post(form_url(form_a), {**valid_post(form_a, author_name=""), "photo": photo})
    html = first.content.decode()
    assert first.status_code == 400
    assert "Attached: latte.jpg" in html
    kept_id = html.split('name="photo_upload" value="', 1)[1].split('"', 1)[0]
    second = client.post(form_url(form_a), valid_post(form_a, photo_upload=kept_id))
    assert second.status_code == 303
    asset = MediaAsset.objects.get()
    assert asset.original_name == "latte.jpg" and asset.content_type == "image/jpeg"


# --------------------------------------------------------------------------- thank-you page


def test_it_offers_share_links_carrying_the_reviewers_referral_code(client, form_a):
    form_a.brand.website = "https://brand-a.example.com/?utm=1"
    form_a.brand.save()
    response = _post(client, form_a)
    item = Testimonial.objects.get()
    html = client.get(response["Location"]).content.decode()
    assert f"https://brand-a.example.com/?utm=1&amp;vouch_ref={item.referral_code}" in html
    assert "x.com/intent/post" in html and "linkedin.com/sharing" in html and "facebook.com/sharer" in html
    assert "maya@example.com" not in html and "Maya" not in html


def test_it_shows_no_share_links_for_a_code_of_another_form(client, form_a, form_b):
    form_a.brand.website = "https://brand-a.example.com"
    form_a.brand.save()
    _post(client, form_b)
    code = Testimonial.objects.get().referral_code
    html = client.get(reverse("collect-thanks", args=["brand-a", "feedback"]) + f"?r={code}").content.decode()
    assert code not in html
    assert form_a.thank_you_message in html


def test_it_lets_the_thank_you_page_be_framed_only_by_the_brand(client, form_a):
    response = client.get(reverse("collect-thanks", args=["brand-a", "feedback"]))
    assert "frame-ancestors https://shop-a.example.com;" in response.headers["Content-Security-Policy"]


def test_it_renders_the_form_when_every_optional_field_is_on(client, brand_a):
    form = CollectionFormFactory(
        brand=brand_a,
        link_mode=FieldMode.OPTIONAL,
        avatar_mode=FieldMode.REQUIRED,
        video_mode=FieldMode.REQUIRED,
        marketing_consent_text="News please",
    )
    FormQuestion.objects.create(form=form, label="One?")
    two = FormQuestion.objects.create(form=form, label="Two?", kind="yes_no", required=True)
    html = client.get(form_url(form)).content.decode()
    for name in ("author_url", "avatar", "photo", "video", "video_upload", "marketing_consent", f"answer_{two.id}"):
        assert f'name="{name}"' in html, name


def test_it_treats_a_signed_in_member_of_another_brand_like_any_customer(charlie_client, form_a, form_b):
    page = charlie_client.get(form_url(form_a)).content.decode()
    assert "Brand B" not in page and "charlie" not in page
    response = charlie_client.post(form_url(form_a), valid_post(form_a))
    assert response.status_code == 303
    assert Testimonial.objects.get().brand == form_a.brand
