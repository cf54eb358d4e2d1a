"""Imports in the admin: upload with a preset, a progress bar while it runs, the report per row; and the
brand's full export as a download, for its owners."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from testimonials.imports import services
from testimonials.imports.models import ReviewImport
from tests.admin.conftest import login
from tests.factories import TestimonialFactory

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parent.parent / "data" / "imports"


def _upload(name="trustpilot.csv"):
    return SimpleUploadedFile(name, (DATA / name).read_bytes())


def test_it_imports_from_the_admin_with_a_progress_bar_and_a_report(bob, brand_a, fake_broker):
    client = login(bob)
    response = client.post(
        reverse("admin:testimonials_reviewimport_add"),
        {"brand": brand_a.id, "preset": "csv", "upload": _upload("plain.csv")},
    )
    job = ReviewImport.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{job.id}/change/")
    waiting = client.get(response["Location"])
    assert waiting["Refresh"] == "2" and "<progress" in waiting.content.decode()
    services.import_job_run(job_id=job.id)
    done = client.get(response["Location"])
    assert "Refresh" not in done and "100%" in done.content.decode() and "No author name." in done.content.decode()
    report = client.get(reverse("admin:testimonials_reviewimport_report", args=[job.id])).content.decode()
    assert report.splitlines()[0] == "row,status,message,testimonial" and len(report.splitlines()) == 8


def test_it_shows_why_a_file_does_not_fit_next_to_it(alice, brand_a):
    response = login(alice).post(
        reverse("admin:testimonials_reviewimport_add"), {"brand": brand_a.id, "preset": "google", "upload": _upload()}
    )
    assert response.status_code == 200 and "not a JSON file" in response.content.decode()
    assert not ReviewImport.objects.exists()


def test_it_keeps_imports_to_the_brands_members(charlie, victor, brand_a):
    job = ReviewImport.objects.create(brand=brand_a, preset="csv")
    assert login(charlie).get(reverse("admin:testimonials_reviewimport_change", args=[job.id])).status_code in (
        302,
        404,
    )
    assert login(charlie).get(reverse("admin:testimonials_reviewimport_report", args=[job.id])).status_code == 404
    response = login(victor).post(
        reverse("admin:testimonials_reviewimport_add"), {"brand": brand_a.id, "preset": "csv", "upload": _upload()}
    )
    assert response.status_code == 403 and ReviewImport.objects.count() == 1


def test_it_downloads_a_brands_full_export_for_its_owner(alice, bob, brand_a):
    TestimonialFactory(brand=brand_a, author_name="Ada")
    url = reverse("admin:testimonials_brand_changelist")
    response = login(alice).post(url, {"action": "download_full_export", "_selected_action": [brand_a.id]})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        document = json.loads(archive.read("brand.json"))
    assert [t["author_name"] for t in document["testimonials"]] == ["Ada"]
    refused = login(bob).post(url, {"action": "download_full_export", "_selected_action": [brand_a.id]})
    assert refused.status_code != 200 or refused.get("Content-Type") != "application/zip"
