"""A brand's full export round-trips into a fresh brand: same settings, forms, tags, widgets, testimonials
(private fields, consent, decisions, flags, history) and public renditions, under new public ids."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from testimonials.errors import ApplicationError, PermissionDenied
from testimonials.imports.portability import brand_export, brand_export_data, brand_restore
from testimonials.models import (
    AuditEvent,
    Brand,
    BrandTopic,
    ContentFingerprint,
    FormQuestion,
    MediaAsset,
    Membership,
    Testimonial,
    Widget,
    WidgetPick,
)
from testimonials.services.decisions import testimonial_approve, testimonial_reject
from tests.collection.collect_support import jpeg_bytes
from tests.factories import CollectionFormFactory, TagFactory, TestimonialFactory, UserFactory, WidgetFactory

pytestmark = pytest.mark.django_db
State = Testimonial.State


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", is_superuser=True)


@pytest.fixture
def full_brand(alice, brand_a, form_a):
    """Brand A with a bit of everything an export must carry."""
    brand_a.blocklist = ["refund"]
    brand_a.auto_approve = True
    brand_a.save()
    product = CollectionFormFactory(brand=brand_a, slug="product", title="Product reviews")
    FormQuestion.objects.create(form=product, label="What did you buy?", kind="choice", choices="Beans\nGrinder")
    praise, video = TagFactory(brand=brand_a, name="Praise", slug="praise"), TagFactory(brand=brand_a, slug="video")
    loved = TestimonialFactory(
        brand=brand_a, form=form_a, state=State.PENDING_REVIEW, author_name="Ada", author_email="ada@example.com",
        rating=5, text="Lovely shop.", answers=[{"prompt": "Why?", "answer": "Kind staff"}], featured=True,
        flags=[{"code": "link", "reason": "Contains a link"}], sentiment_score=0.7, sentiment_label="positive",
        sentiment_reason="Positive: “Lovely shop.”; 5 stars agree.",
        topics=[{"code": "latte_art", "polarity": "positive", "quote": "Lovely rosetta.", "terms": ["rosetta"]}],
    )  # fmt: skip
    testimonial_approve(testimonial=loved, actor=alice)
    loved.tags.set([praise, video])
    spam = TestimonialFactory(brand=brand_a, form=None, state=State.PENDING_REVIEW, author_name="Spammer", rating=1)
    testimonial_reject(testimonial=spam, actor=alice, reason="Spam")
    TestimonialFactory(brand=brand_a, form=form_a, state=State.RECEIVED, author_name="Waiting")
    TestimonialFactory(
        brand=brand_a, source="import", source_platform="Trustpilot", source_url="https://www.trustpilot.com/r/1",
        import_key="k" * 64, author_name="Imported", form=None,
    )  # fmt: skip
    path = default_storage.save("r/test-folder/card.jpg", ContentFile(jpeg_bytes()))
    MediaAsset.objects.create(
        testimonial=loved, kind="photo", status="ready", width=64, height=48, content_type="image/jpeg",
        derivatives={"card.jpg": {"path": path, "width": 64, "height": 48, "bytes": 100}},
    )  # fmt: skip
    ContentFingerprint.objects.create(testimonial=loved, brand=brand_a, band=12345)
    widget = WidgetFactory(
        brand=brand_a, name="Wall", selection="manual", filter_form=form_a, accent_color="#112233",
        filter_topic="latte_art",
    )  # fmt: skip
    widget.filter_tags.set([praise])
    BrandTopic.objects.create(brand=brand_a, name="Latte art", code="latte_art", terms=["rosetta", "latte art"])
    WidgetPick.objects.create(widget=widget, testimonial=loved, position=1)
    return brand_a


def _comparable(document: dict) -> dict:
    """An export with what legitimately differs between two brands removed: ids, slugs, the time of export."""
    document = json.loads(json.dumps(document))
    ids = {t["public_id"]: f"t{i}" for i, t in enumerate(document["testimonials"])}
    document.pop("exported_at")
    document["brand"].pop("slug")
    document["brand"].pop("name")
    for item in document["testimonials"]:
        item["public_id"] = ids[item["public_id"]]
        item.pop("updated_at")
        for asset in item["media"]:
            asset.pop("public_id")
            asset.pop("updated_at")
            for info in asset["derivatives"].values():
                info.pop("file")
    for widget in document["widgets"]:
        widget.pop("public_id")
        widget.pop("updated_at")
        widget.pop("created_at")
        for pick in widget["picks"]:
            pick["testimonial"] = ids[pick["testimonial"]]
    for form in document["forms"]:
        form.pop("updated_at")
        form.pop("created_at")
    return document


def test_it_round_trips_a_brand_into_a_fresh_one(
    full_brand, alice, admin_user, fake_broker, django_capture_on_commit_callbacks
):
    out = io.BytesIO()
    counts = brand_export(brand=full_brand, actor=alice, out=out)
    assert counts == {"testimonials": 4, "files": 1, "missing_files": 0}
    out.seek(0)
    with django_capture_on_commit_callbacks(execute=True):
        copy = brand_restore(
            archive_file=out, actor=admin_user, slug="brand-a-copy", name="Brand A (copy)", owner=alice
        )
    before, _ = brand_export_data(brand=full_brand)
    after, files = brand_export_data(brand=copy)
    assert _comparable(after) == _comparable(before)
    assert after["topics"] == [{"name": "Latte art", "code": "latte_art", "terms": ["rosetta", "latte art"]}]
    assert copy.name == "Brand A (copy)" and Membership.objects.get(brand=copy).user == alice
    # New public ids, the same content: the rendition is a copy in storage, readable as before.
    assert not set(Testimonial.objects.filter(brand=copy).values_list("public_id", flat=True)) & set(
        Testimonial.objects.filter(brand=full_brand).values_list("public_id", flat=True)
    )
    [stored] = files.values()
    assert default_storage.open(stored).read() == jpeg_bytes() and not stored.startswith("r/test-folder/")
    loved = Testimonial.objects.get(brand=copy, author_name="Ada")
    assert loved.author_email == "ada@example.com" and loved.state == State.APPROVED
    assert [e.action for e in AuditEvent.objects.filter(testimonial=loved)] == ["approve"]
    assert AuditEvent.objects.get(testimonial=loved).actor == alice
    # Widgets publish and what was waiting is moderated again in the new brand.
    waiting = Testimonial.objects.get(brand=copy, author_name="Waiting")
    assert waiting.id in fake_broker.sent["testimonial_process_task"]
    assert Widget.objects.get(brand=copy).picks.get() == loved
    assert Widget.objects.get(brand=copy).publish_requested_at is not None


def test_it_exports_only_for_owners_and_restores_only_for_superusers(full_brand, bob, alice):
    with pytest.raises(PermissionDenied):
        brand_export(brand=full_brand, actor=bob, out=io.BytesIO())
    out = io.BytesIO()
    brand_export(brand=full_brand, actor=alice, out=out)
    out.seek(0)
    with pytest.raises(PermissionDenied):
        brand_restore(archive_file=out, actor=alice, slug="mine")
    assert not Brand.objects.filter(slug="mine").exists()


def _zip(entries: dict[str, bytes]) -> io.BytesIO:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    out.seek(0)
    return out


def test_it_refuses_archives_that_are_not_exports_and_keeps_nothing(full_brand, alice, admin_user):
    for archive, message in [
        (io.BytesIO(b"not a zip"), "not a zip"),
        (_zip({"other.json": b"{}"}), "no brand.json"),
        (_zip({"brand.json": b"{"}), "not valid JSON"),
        (_zip({"brand.json": json.dumps({"format": "else"}).encode()}), "not a Vouch brand export"),
    ]:
        with pytest.raises(ApplicationError, match=message):
            brand_restore(archive_file=archive, actor=admin_user, slug="restored")
    out = io.BytesIO()
    brand_export(brand=full_brand, actor=alice, out=out)
    out.seek(0)
    with pytest.raises(ApplicationError, match="exists already"):
        brand_restore(archive_file=out, actor=admin_user, slug="brand-a")
    assert list(Brand.objects.values_list("slug", flat=True)) == ["brand-a"]


def test_it_refuses_an_archive_whose_rendition_is_a_web_page(full_brand, alice, admin_user):
    out = io.BytesIO()
    brand_export(brand=full_brand, actor=alice, out=out)
    out.seek(0)
    with zipfile.ZipFile(out) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    rendition = next(name for name in entries if name.startswith("media/"))
    entries[rendition] = b"<html><script>alert(1)</script></html>"
    files_before = _stored_files()
    with pytest.raises(ApplicationError, match="web page"):
        brand_restore(archive_file=_zip(entries), actor=admin_user, slug="restored")
    assert not Brand.objects.filter(slug="restored").exists() and _stored_files() == files_before


def _stored_files() -> set[str]:
    found = set()

    def walk(folder):
        dirs, files = default_storage.listdir(folder)
        found.update(f"{folder}/{name}" for name in files)
        for sub in dirs:
            walk(f"{folder}/{sub}")

    if default_storage.exists("r"):
        walk("r")
    return found


def test_it_exports_and_restores_from_the_command_line(full_brand, admin_user, tmp_path, capsys):
    out = tmp_path / "brand-a.zip"
    call_command("brand_data", "export", brand="brand-a", as_user="alice", out=str(out))
    call_command("brand_data", "restore", file=str(out), slug="brand-a-2", as_user="root", owner="alice")
    printed = capsys.readouterr().out
    assert "Exported 4 testimonials and 1 files." in printed and "Restored into brand 'brand-a-2'" in printed
    assert Testimonial.objects.filter(brand__slug="brand-a-2").count() == 4


def test_it_redacts_the_public_text_of_a_restored_archive_once(full_brand, alice, admin_user):
    """Widgets read the stored public text as it is: a restored file's is redacted when it is written."""
    out = io.BytesIO()
    brand_export(brand=full_brand, actor=alice, out=out)
    out.seek(0)
    with zipfile.ZipFile(out) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    document = json.loads(entries["brand.json"])
    published = next(row for row in document["testimonials"] if row["state"] == "approved")
    published["public_text"] = "Call me on +1 415 555 0134 or mail ada@example.com"
    entries["brand.json"] = json.dumps(document).encode()
    copy = brand_restore(archive_file=_zip(entries), actor=admin_user, slug="restored")
    shown = Testimonial.objects.get(brand=copy, text=published["text"]).public_text
    assert "555" not in shown and "ada@example.com" not in shown and "[email removed]" in shown
