"""Invitations in the admin: campaigns and their preview, the CSV upload (mapping, progress, per-row report),
recipients with history, the outbox page, the suppression list, the funnel on the dashboard; charlie gets 404
on every page of brand A and changes nothing; viewers look but do not change."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from testimonials.invitations.addresses import address_hash
from testimonials.invitations.models import Campaign, Delivery, ImportJob, Recipient, Suppression
from testimonials.invitations.sending import invitations_send
from testimonials.invitations.services import Customer, recipients_add
from testimonials.invitations.upkeep import invitations_tick
from tests.admin.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailed(campaign_a, settings, fake_broker):
    """Ada and Grace invited, Ada's message written to the outbox folder."""
    settings.EMAIL_BACKEND = "testimonials.invitations.mailbox.OutboxFileBackend"
    with transaction.atomic():
        recipients_add(
            campaign=campaign_a,
            customers=[
                Customer(email="ada@example.com", name="Ada"),
                Customer(email="grace@example.com", name="Grace"),
            ],
            source="api",
        )
    invitations_tick()
    invitations_send()
    return campaign_a


def _pages(campaign: Campaign) -> list[str]:
    ada = Recipient.objects.get(email="ada@example.com")
    job = ImportJob.objects.create(brand=campaign.brand, campaign=campaign, headers=["email", "name"], status="done")
    return [
        reverse("admin:testimonials_campaign_change", args=[campaign.pk]),
        reverse("admin:testimonials_campaign_preview", args=[campaign.pk]),
        reverse("admin:testimonials_recipient_change", args=[ada.pk]),
        reverse("admin:testimonials_importjob_change", args=[job.pk]),
        reverse("admin:testimonials_importjob_report", args=[job.pk]),
        reverse("admin:testimonials_importjob_mapping", args=[job.pk]),
        reverse("admin:testimonials_delivery_change", args=[Delivery.objects.get(recipient=ada).pk]),
    ]


def test_alice_sees_every_page_of_her_campaign(mailed, alice_client):
    for url in _pages(mailed):
        response = alice_client.get(url)
        assert response.status_code in (200, 302), url


def test_charlie_gets_404_on_every_page_of_brand_a_and_changes_nothing(mailed, charlie, brand_b):
    client = login(charlie)
    for url in _pages(mailed):
        response = client.get(url, follow=True)
        if url.endswith("/change/"):
            # The admin's own pages answer "does not exist" and go home, like every other brand-scoped admin.
            assert response.redirect_chain[-1][0] == "/admin/", url
        else:
            assert response.status_code == 404, url
        assert "ada@example.com" not in response.content.decode(), url
    before = list(Campaign.objects.values_list("id", "name", "body"))
    response = client.post(
        reverse("admin:testimonials_campaign_change", args=[mailed.pk]),
        {"brand": mailed.brand_id, "form": mailed.form_id, "name": "Hacked", "subject": "x", "body": "x",
         "delay_days": 0, "delay_from": "added", "reminder_days": "[]"},
    )  # fmt: skip
    assert response.status_code in (302, 404)
    assert list(Campaign.objects.values_list("id", "name", "body")) == before
    listing = client.get(reverse("admin:testimonials_recipient_changelist")).content.decode()
    assert "ada@example.com" not in listing
    assert "ada@example.com" not in client.get(reverse("admin:testimonials_campaign_outbox")).content.decode()


def test_a_campaign_is_created_through_the_service_and_gating_is_refused(alice_client, form_a, brand_a):
    url = reverse("admin:testimonials_campaign_add")
    data = {"brand": brand_a.pk, "form": form_a.pk, "name": "Summer", "subject": "How was {product}?",
            "body": "If you were happy, review us here: {link}", "delay_days": 3, "delay_from": "order_date",
            "reminder_days": "[5, 12]", "is_active": "on"}  # fmt: skip
    response = alice_client.post(url, data)
    assert response.status_code == 200 and "review gating" in response.content.decode()
    data["reminder_days"] = "[1, 2, 3]"
    data["body"] = "Tell us about {product}: {link}"
    assert "Remind at most 2 times" in alice_client.post(url, data).content.decode()
    data["reminder_days"] = "[5, 12]"
    assert alice_client.post(url, data).status_code == 302
    campaign = Campaign.objects.get(name="Summer")
    assert campaign.reminder_days == [5, 12] and campaign.created_by.username == "alice"


def test_the_preview_shows_headers_html_and_text(mailed, alice_client):
    html = alice_client.get(
        reverse("admin:testimonials_campaign_preview", args=[mailed.pk]) + "?step=1"
    ).content.decode()
    assert "List-Unsubscribe-Post" in html and "Reminder: Brand A would like" in html
    assert 'sandbox=""' in html and "srcdoc=" in html
    assert "Ada Lovelace" in html


def test_the_change_page_draws_the_funnel(mailed, alice_client):
    html = alice_client.get(reverse("admin:testimonials_campaign_change", args=[mailed.pk])).content.decode()
    assert '<svg class="vouch-chart"' in html and "Funnel of Spring orders" in html
    assert "Sent (100%)" in html


def test_the_upload_maps_columns_imports_and_reports(
    alice_client, campaign_a, fake_broker, django_capture_on_commit_callbacks
):
    csv_bytes = b"E-mail,Customer name,Order #\nada@example.com,Ada,1\nbroken,Bob,2\nada@example.com,Ada,3\n"
    response = alice_client.post(
        reverse("admin:testimonials_importjob_add"),
        {"campaign": campaign_a.pk, "file": SimpleUploadedFile("list.csv", csv_bytes, "text/csv")},
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{job.pk}/mapping/")
    page = alice_client.get(response["Location"]).content.decode()
    assert "broken" in page and 'value="E-mail" selected' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            response["Location"], {"email": "E-mail", "name": "Customer name", "order_id": "Order #"}
        )
    assert response.status_code == 302
    assert fake_broker.sent["import_job_run_task"] == [job.id]
    running = alice_client.get(reverse("admin:testimonials_importjob_change", args=[job.pk])).content.decode()
    assert 'http-equiv="refresh"' in running and "<progress" in running
    from testimonials.invitations.importing import import_job_run

    import_job_run(job_id=job.id)
    done = alice_client.get(reverse("admin:testimonials_importjob_change", args=[job.pk])).content.decode()
    assert 'http-equiv="refresh"' not in done and 'value="100"' in done
    assert "is not an email address" in done and "appears earlier" in done
    report = alice_client.get(reverse("admin:testimonials_importjob_report", args=[job.pk])).content.decode()
    assert report.splitlines()[0] == "row,problem,message,value" and len(report.splitlines()) == 3


def test_a_viewer_cannot_upload(victor, campaign_a):
    client = login(victor)
    response = client.post(
        reverse("admin:testimonials_importjob_add"),
        {"campaign": campaign_a.pk, "file": SimpleUploadedFile("l.csv", b"email,name\na@example.com,A\n")},
    )
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_recipients_list_and_history(mailed, alice_client):
    listing = alice_client.get(reverse("admin:testimonials_recipient_changelist") + f"?campaign={mailed.pk}")
    assert "ada@example.com" in listing.content.decode() and "Sent" in listing.content.decode()
    ada = Recipient.objects.get(email="ada@example.com")
    page = alice_client.get(reverse("admin:testimonials_recipient_change", args=[ada.pk])).content.decode()
    assert "Added through the API" in page and "Invitation sent" in page
    assert Delivery.objects.get(recipient=ada).message_id.strip("<>").split("@")[0] in page


def test_the_outbox_shows_what_would_have_been_sent(mailed, alice_client):
    page = alice_client.get(reverse("admin:testimonials_campaign_outbox")).content.decode()
    assert "instead of sending them" in page and "Brand A would like to hear" in page
    name = page.split("/outbox/", 1)[1].split("/", 1)[0]
    message = alice_client.get(reverse("admin:testimonials_campaign_outbox_message", args=[name])).content.decode()
    assert "List-Unsubscribe" in message and "srcdoc=" in message
    assert (
        alice_client.get(reverse("admin:testimonials_campaign_outbox_message", args=["..%2Fsecret.eml"])).status_code
        == 404
    )


def test_unsubscribe_and_erase_actions(mailed, alice_client):
    ada = Recipient.objects.get(email="ada@example.com")
    url = reverse("admin:testimonials_recipient_changelist")
    alice_client.post(url, {"action": "unsubscribe_selected", "_selected_action": [ada.pk]})
    ada.refresh_from_db()
    assert ada.status == "unsubscribed"
    alice_client.post(url, {"action": "erase_selected", "_selected_action": [ada.pk]})
    assert not Recipient.objects.filter(email="ada@example.com").exists()
    assert Suppression.objects.filter(email_hash=address_hash("ada@example.com")).exists()


def test_the_suppression_list_keeps_hashes_and_finds_an_address(alice_client, brand_a):
    response = alice_client.post(
        reverse("admin:testimonials_suppression_add"), {"brand": brand_a.pk, "email": "Nope@Example.com"}
    )
    assert response.status_code == 302
    entry = Suppression.objects.get()
    assert entry.email_hash == address_hash("nope@example.com") and entry.reason == "manual"
    found = alice_client.get(
        reverse("admin:testimonials_suppression_changelist") + "?q=nope@example.com"
    ).content.decode()
    assert entry.email_hash[:16] in found
    Suppression.objects.create(brand=brand_a, email_hash="f" * 64, reason="unsubscribed")
    unsubscribed = Suppression.objects.get(reason="unsubscribed")
    assert (
        alice_client.post(
            reverse("admin:testimonials_suppression_delete", args=[unsubscribed.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert Suppression.objects.filter(pk=unsubscribed.pk).exists()


def test_the_dashboard_shows_the_invitations_funnel(mailed, alice_client, charlie):
    page = alice_client.get("/admin/testimonials/testimonial/dashboard/").content.decode()
    assert "Invitations funnel" in page and "Spring orders" in page
    assert "Invitations funnel" not in login(charlie).get("/admin/testimonials/testimonial/dashboard/").content.decode()


def test_resend_action_only_for_interrupted_messages(mailed, alice_client):
    Delivery.objects.filter(recipient__email="grace@example.com").update(state=Delivery.State.INTERRUPTED)
    url = reverse("admin:testimonials_delivery_changelist")
    ids = list(Delivery.objects.values_list("pk", flat=True))
    alice_client.post(url, {"action": "resend_selected", "_selected_action": ids})
    assert sorted(Delivery.objects.values_list("state", "resent")) == [("prepared", True), ("sent", False)]
