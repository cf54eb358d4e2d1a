"""Imports of each preset from a fixture file: original date, platform and link kept, badged "Imported from
X", never verified, moderated by the same pipeline, a report per row, nothing twice on re-upload."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from testimonials.errors import ApplicationError, PermissionDenied
from testimonials.imports import presets, reader, services
from testimonials.imports.models import ReviewImport, ReviewImportRow
from testimonials.models import AuditEvent, MediaAsset, Testimonial
from testimonials.processing import pipeline
from testimonials.widgets.render import _badge_label, item_data

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parent.parent / "data" / "imports"
State = Testimonial.State


def _upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (DATA / name).read_bytes())


@pytest.fixture
def run(alice, brand_a, fake_broker, django_capture_on_commit_callbacks):
    """Upload a fixture with a preset and run the job as the worker would; the job, reloaded."""

    def run_import(name: str | SimpleUploadedFile, preset: str, **options) -> ReviewImport:
        upload = _upload(name) if isinstance(name, str) else name
        with django_capture_on_commit_callbacks(execute=True):
            job = services.import_job_create(brand=brand_a, actor=alice, preset=preset, upload=upload, **options)
        assert fake_broker.sent["import_job_run_task"][-1] == job.id
        with django_capture_on_commit_callbacks(execute=True):
            assert services.import_job_run(job_id=job.id) == "done"
        return ReviewImport.objects.get(id=job.id)

    return run_import


def _report(job: ReviewImport) -> list[tuple[int, str, str]]:
    return list(job.rows.order_by("number").values_list("number", "status", "message"))


def test_it_imports_the_plain_csv_template_with_a_report_per_row(run, brand_a, fake_broker):
    job = run("plain.csv", "csv")
    assert (job.total_rows, job.created_count, job.duplicate_count, job.error_count) == (7, 2, 1, 4)
    assert job.percent == 100 and not job.file  # the file (personal data) is gone once imported
    report = _report(job)
    assert [status for _, status, _ in report] == [
        "created",
        "created",
        "error",
        "error",
        "error",
        "duplicate",
        "error",
    ]
    assert "seven" in report[2][2] and report[3][2] == "No author name." and "Neither" in report[4][2]
    assert "earlier in the file" in report[5][2] and "two ways" in report[6][2]
    assert "email" in report[1][2]  # Grace's bad email was left out, and the row says so
    ada = Testimonial.objects.get(author_name="Ada Lovelace")
    assert ada.source == "import" and ada.source_platform == "Capterra" and not ada.is_verified
    assert ada.source_url == "https://www.capterra.com/reviews/123"
    assert ada.source_created_at == datetime(2021, 3, 4, tzinfo=UTC)
    assert ada.text.startswith("Brilliant\n\nThe engine team") and ada.state == State.RECEIVED
    assert ada.author_email == "ada@example.com" and ada.form is None
    grace = Testimonial.objects.get(author_name="Grace Hopper")
    assert grace.author_email == "" and grace.author_url == ""  # not an email; not https
    # The same pipeline as every testimonial: processing enqueued, a `received` event recorded.
    assert fake_broker.sent["testimonial_process_task"] == [ada.id]  # one message claims the batch
    assert AuditEvent.objects.filter(action="received", testimonial__in=[ada, grace]).count() == 2


def test_it_imports_nothing_twice_when_the_same_file_comes_again(run):
    run("plain.csv", "csv")
    again = run("plain.csv", "csv")
    assert (again.created_count, again.duplicate_count) == (0, 3)
    assert Testimonial.objects.count() == 2
    assert ReviewImportRow.objects.filter(job=again, status="duplicate").exclude(testimonial=None).count() == 3


@pytest.mark.parametrize(
    "name, preset, platform, expected",
    [
        ("google_reviews.json", "google", "Google", {"Jean Dupont": (5, "Service excellent, très sympathique.")}),
        ("trustpilot.csv", "trustpilot", "Trustpilot", {"Olivia Brown": (5, "Fast and friendly\n\nOrdered on Monday")}),
        ("judgeme.csv", "judgeme", "Judge.me", {"Lucas Martin": (5, "Love it\n\nThe linen shirt fits")}),
        ("senja.csv", "senja", "Twitter", {"Priya Patel": (5, "Senja made collecting love easy")}),
        ("testimonial_to.csv", "testimonial_to", "Testimonial.to", {"Mia Wong": (5, "Testimonial.to export")}),
    ],
)
def test_it_imports_each_platforms_export(run, name, preset, platform, expected):
    job = run(name, preset)
    assert job.error_count == 0 and job.created_count == job.total_rows
    for author, (rating, text) in expected.items():
        item = Testimonial.objects.get(author_name=author)
        assert item.rating == rating and item.text.startswith(text)
        assert item.source_platform == platform and not item.is_verified and item.source_created_at is not None


def test_it_keeps_each_platforms_details(run):
    run("google_reviews.json", "google")
    jean = Testimonial.objects.get(author_name="Jean Dupont")
    assert jean.source_created_at == datetime(2023, 6, 1, 12, 30, 45, 123000, tzinfo=UTC)
    assert Testimonial.objects.get(author_name="Rating Only").text == ""
    run("trustpilot.csv", "trustpilot")
    olivia = Testimonial.objects.get(author_name="Olivia Brown")
    assert olivia.source_url == "https://www.trustpilot.com/reviews/5f1a"
    assert olivia.source_created_at == datetime(2023, 2, 3, 14, 5, tzinfo=UTC)
    run("senja.csv", "senja")
    priya = Testimonial.objects.get(author_name="Priya Patel")
    assert (priya.author_title, priya.author_company) == ("Founder", "Acme Labs")
    assert Testimonial.objects.get(author_name="Tom Baker").source_platform == "Senja"


def test_it_says_media_listed_by_url_were_not_fetched(run):
    job = run("judgeme.csv", "judgeme")
    assert "not fetched" in _report(job)[0][2] and not MediaAsset.objects.exists()


def test_it_refuses_to_fetch_media_unless_the_operator_allows_it(alice, brand_a):
    with pytest.raises(ApplicationError) as refused:
        services.import_job_create(
            brand=brand_a, actor=alice, preset="judgeme", upload=_upload("judgeme.csv"), fetch_media=True
        )
    assert refused.value.field == "fetch_media" and not ReviewImport.objects.exists()


def test_it_fetches_media_by_url_through_the_ssrf_guard_when_allowed(run, settings, monkeypatch):
    from tests.collection.collect_support import jpeg_bytes
    from tests.receiver import Receiver

    settings.VOUCH_IMPORT_FETCH_MEDIA = True
    settings.VOUCH_OUTBOUND_ALLOW_LOOPBACK = True
    with Receiver() as server:
        server.files["/a.jpg"] = (jpeg_bytes(), "image/jpeg")
        server.files["/page.jpg"] = (b"<html>not a photo</html>", "image/jpeg")
        csv_text = (
            "name,rating,text,photo_url,avatar_url\n"
            f"Ada,5,Lovely shop and kind staff.,{server.url('/a.jpg')},{server.url('/page.jpg')}\n"
            "Bob,4,Nice.,https://10.0.0.1/x.jpg,\n"
        )
        job = run(SimpleUploadedFile("media.csv", csv_text.encode()), "csv", fetch_media=True)
    ada = Testimonial.objects.get(author_name="Ada")
    asset = MediaAsset.objects.get(testimonial=ada)
    assert asset.kind == "photo" and asset.content_type == "image/jpeg" and asset.original
    report = _report(job)
    assert "avatar was not imported" in report[0][2] and "web page" in report[0][2]
    assert "private" in report[1][2] and not MediaAsset.objects.filter(testimonial__author_name="Bob").exists()


def test_it_refuses_a_file_that_does_not_fit_its_preset(alice, brand_a):
    with pytest.raises(ApplicationError, match="None of this file's columns"):
        services.import_job_create(brand=brand_a, actor=alice, preset="trustpilot", upload=_upload("senja.csv"))
    with pytest.raises(ApplicationError, match="not a JSON file"):
        services.import_job_create(brand=brand_a, actor=alice, preset="google", upload=_upload("plain.csv"))
    assert not ReviewImport.objects.exists()


def test_it_refuses_a_file_over_the_size_limit_and_an_empty_one(alice, brand_a, settings):
    settings.VOUCH_IMPORT_MAX_BYTES = 100
    with pytest.raises(ApplicationError, match="larger than"):
        services.import_job_create(brand=brand_a, actor=alice, preset="csv", upload=_upload("plain.csv"))
    with pytest.raises(ApplicationError, match="empty"):
        services.import_job_create(brand=brand_a, actor=alice, preset="csv", upload=SimpleUploadedFile("e.csv", b""))


def test_it_lets_only_editors_and_owners_import(victor, charlie, brand_a):
    for person in (victor, charlie):
        with pytest.raises(PermissionDenied):
            services.import_job_create(brand=brand_a, actor=person, preset="csv", upload=_upload("plain.csv"))


def test_it_moderates_imports_like_everything_else_and_badges_them(run, brand_a, fake_broker):
    brand_a.auto_approve = True
    brand_a.save()
    run("trustpilot.csv", "trustpilot")
    pipeline.testimonials_process(limit=50)
    olivia = Testimonial.objects.get(author_name="Olivia Brown")
    assert olivia.state == State.APPROVED and olivia.sentiment_label
    data = item_data(olivia)
    assert data["badges"] == ["imported"] and data["imported_from"] == "Trustpilot"
    assert data["date"] == "2023-02-03"  # the original date, not the day of the import
    assert _badge_label("imported", data) == "Imported from Trustpilot"


def test_it_resumes_from_its_checkpoint_after_its_worker_died(alice, brand_a, fake_broker, monkeypatch):
    monkeypatch.setattr(services, "CHUNK", 2)
    job = services.import_job_create(brand=brand_a, actor=alice, preset="csv", upload=_upload("plain.csv"))
    real = services._import_chunk
    calls = []

    def dies_on_the_second_chunk(job, chunk):
        calls.append(len(chunk))
        if len(calls) == 2:
            raise SystemExit("worker killed")
        real(job, chunk)

    monkeypatch.setattr(services, "_import_chunk", dies_on_the_second_chunk)
    with pytest.raises(SystemExit):
        services.import_job_run(job_id=job.id)
    job.refresh_from_db()
    assert job.status == ReviewImport.Status.RUNNING and job.processed_rows == 2
    monkeypatch.setattr(services, "_import_chunk", real)
    assert services.import_job_run(job_id=job.id) == "skipped"  # its heartbeat is fresh: still someone's
    ReviewImport.objects.filter(id=job.id).update(heartbeat_at=timezone.now() - timedelta(minutes=10))
    assert services.imports_resume_stalled() == [job.id]
    assert services.import_job_run(job_id=job.id) == "done"
    job.refresh_from_db()
    assert job.attempts == 2 and (job.created_count, job.duplicate_count, job.error_count) == (2, 1, 4)
    assert list(job.rows.values_list("number", flat=True)) == list(range(1, 8))  # each row reported once


def test_it_erases_an_imported_review_with_its_report_row(run, alice):
    from testimonials.privacy.services import testimonial_erase

    job = run("trustpilot.csv", "trustpilot")
    olivia = Testimonial.objects.get(author_name="Olivia Brown")
    testimonial_erase(testimonial=olivia, actor=alice)
    assert not ReviewImportRow.objects.filter(testimonial_id=olivia.id).exists()
    assert job.rows.count() == 2


# --------------------------------------------------------------------------- reading values


@pytest.mark.parametrize(
    "value, stars",
    [("5", 5), (4, 4), ("3.0", 3), ("FIVE", 5), ("two", 2), ("★★★★☆", 4), ("4 stars", 4), ("", None), (None, None)],
)
def test_it_reads_ratings_as_platforms_write_them(value, stars):
    assert reader.parse_rating(value) == stars


@pytest.mark.parametrize("value", ["4.5", "0", "6", "seven", True, "-1"])
def test_it_refuses_ratings_that_are_not_one_to_five_stars(value):
    with pytest.raises(ValueError):
        reader.parse_rating(value)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2024-05-31", datetime(2024, 5, 31, tzinfo=UTC)),
        ("2024-05-31T10:20:30Z", datetime(2024, 5, 31, 10, 20, 30, tzinfo=UTC)),
        ("2022-08-09 10:20:30 UTC", datetime(2022, 8, 9, 10, 20, 30, tzinfo=UTC)),
        ("31/05/2024", datetime(2024, 5, 31, tzinfo=UTC)),
        ("05/31/2024", datetime(2024, 5, 31, tzinfo=UTC)),
        ("1717150830", datetime(2024, 5, 31, 10, 20, 30, tzinfo=UTC)),
    ],
)
def test_it_reads_dates_without_guessing_day_and_month(value, expected):
    assert reader.parse_when(value) == expected


@pytest.mark.parametrize("value", ["03/04/2024", "yesterday", "2024-13-01"])
def test_it_refuses_dates_it_would_have_to_guess(value):
    with pytest.raises(ValueError):
        reader.parse_when(value)


def test_it_reads_windows_1252_and_semicolons():
    raw = "name;rating;text\nZoë Müller;5;Très bien, merci.\n".encode("cp1252")
    [review] = list(reader.read_reviews(io.BytesIO(raw), presets.BY_CODE["csv"]))
    assert (review.author_name, review.rating, review.text) == ("Zoë Müller", 5, "Très bien, merci.")


def test_it_drops_nul_bytes_from_what_it_reads():
    raw = b"name,rating,text\nA\x00da,5,Fi\x00ne\n"
    [review] = list(reader.read_reviews(io.BytesIO(raw), presets.BY_CODE["csv"]))
    assert review.author_name == "Ada" and review.text == "Fine"


def test_it_documents_every_preset_in_the_docs():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "integrations.md").read_text()
    for preset in presets.PRESETS:
        assert f"`{preset.code}`" in docs, preset.code


# --------------------------------------------------------------------------- the API


def test_it_imports_through_the_api_and_reports_progress(client, alice, brand_a, fake_broker):
    from testimonials.services.api_keys import api_key_create

    _, key = api_key_create(brand=brand_a, actor=alice, name="Migration")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    response = client.post(reverse("api-import-list"), {"preset": "csv", "file": _upload("plain.csv")}, **auth)
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    assert response.json()["status"] == "pending"
    services.import_job_run(job_id=ReviewImport.objects.get(public_id=job_id).id)
    detail = client.get(reverse("api-import-detail", args=[job_id]), **auth).json()
    assert detail["status"] == "done" and detail["percent"] == 100 and detail["created_count"] == 2
    rows = client.get(reverse("api-import-rows", args=[job_id]), {"page_size": 3}, **auth).json()
    assert [r["number"] for r in rows["results"]] == [1, 2, 3] and rows["next"]
    assert rows["results"][0]["testimonial"] == Testimonial.objects.get(author_name="Ada Lovelace").public_id
    bad = client.post(reverse("api-import-list"), {"preset": "google", "file": _upload("plain.csv")}, **auth)
    assert bad.status_code == 400 and "file" in bad.json()["errors"]


def test_it_gives_charlie_404_for_brand_as_imports(charlie_client, brand_a):
    job = ReviewImport.objects.create(brand=brand_a, preset="csv")
    assert charlie_client.get(reverse("api-import-detail", args=[job.public_id])).status_code == 404
    response = charlie_client.post(
        reverse("api-import-list"), {"brand": "brand-a", "preset": "csv", "file": _upload("plain.csv")}
    )
    assert response.status_code == 404 and ReviewImport.objects.count() == 1


def test_it_keeps_the_imports_written_date_in_the_future_out(alice, brand_a):
    later = (timezone.now() + timedelta(days=30)).date().isoformat()
    raw = f"name,rating,text,date\nAda,5,Hello there,{later}\n".encode()
    [review] = list(reader.read_reviews(io.BytesIO(raw), presets.BY_CODE["csv"]))
    assert review.problem == "The date is in the future."
