"""GDPR: erasing a customer removes their invitations everywhere (rows, history, messages, report lines,
outbox files, audit lines) and keeps only a hash of the address on the suppression list; export includes them."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction

from testimonials.errors import PermissionDenied
from testimonials.invitations import mailbox
from testimonials.invitations.addresses import address_hash
from testimonials.invitations.importing import import_job_confirm, import_job_run, import_job_start
from testimonials.invitations.models import Delivery, ImportIssue, Recipient, RecipientEvent, Suppression
from testimonials.invitations.sending import invitations_send
from testimonials.invitations.services import Customer, recipients_add
from testimonials.invitations.upkeep import invitations_tick
from testimonials.models import AuditEvent, Testimonial
from testimonials.privacy.services import customer_erase, customer_export
from tests.factories import CampaignFactory, TestimonialFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada_everywhere(campaign_a, alice, settings, fake_broker):
    """Ada invited twice (two campaigns), sent a message through the outbox folder, listed twice in a file."""
    settings.EMAIL_BACKEND = "testimonials.invitations.mailbox.OutboxFileBackend"
    second = CampaignFactory(brand=campaign_a.brand, form=campaign_a.form, name="Autumn")
    with transaction.atomic():
        for campaign in (campaign_a, second):
            recipients_add(campaign=campaign, customers=[Customer(email="Ada@example.com", name="Ada")], source="api")
    invitations_tick()
    invitations_send()
    job = import_job_start(
        campaign=campaign_a,
        upload=SimpleUploadedFile("c.csv", b"email,name\nada@example.com,Ada\n"),
        actor=alice,
    )
    import_job_confirm(job=job, mapping=job.mapping, actor=alice)
    import_job_run(job_id=job.id)
    TestimonialFactory(brand=campaign_a.brand, author_email="ada@example.com", source="invite", is_verified=True)
    assert len(mailbox.newest_files(10)) == 2 and ImportIssue.objects.count() == 1
    return campaign_a


def test_erasing_a_customer_removes_their_invitations_everywhere(ada_everywhere, alice, campaign_b):
    bystander = Recipient.objects.create(
        campaign=campaign_b,
        brand=campaign_b.brand,
        name="Ada elsewhere",
        email="ada@example.com",
        email_key="ada@example.com",
    )
    assert customer_erase(brand=ada_everywhere.brand, email="ADA@example.com ", actor=alice) == 1
    assert not Recipient.objects.filter(brand=ada_everywhere.brand).exists()
    assert not RecipientEvent.objects.exclude(recipient=bystander).exists()
    assert not Delivery.objects.exists()
    assert not ImportIssue.objects.exists()
    assert mailbox.newest_files(10) == []
    assert not Testimonial.objects.exists()
    assert not AuditEvent.objects.filter(action__in=["invitation.sent"]).exists()
    assert AuditEvent.objects.filter(action="invitation.erased").count() == 2  # the erasure itself, by id only
    [kept] = Suppression.objects.filter(brand=ada_everywhere.brand)
    assert kept.email_hash == address_hash("ada@example.com") and kept.reason == Suppression.Reason.ERASED
    for row in AuditEvent.objects.values("subject", "note", "reasons"):
        assert "ada" not in str(row).lower()
    Recipient.objects.get(pk=bystander.pk)  # another brand's list is that brand's business


def test_an_erased_customer_is_never_invited_again(ada_everywhere, alice):
    customer_erase(brand=ada_everywhere.brand, email="ada@example.com", actor=alice)
    with transaction.atomic():
        result = recipients_add(
            campaign=ada_everywhere, customers=[Customer(email="ada@example.com", name="Ada")], source="api"
        )
    assert result.added == [] and result.issues[0].kind == "suppressed"


def test_export_includes_every_invitation_with_its_history(ada_everywhere, alice):
    data = customer_export(brand=ada_everywhere.brand, email="ada@example.com", actor=alice)
    assert len(data["invitations"]) == 2
    first = next(i for i in data["invitations"] if i["campaign"] == ada_everywhere.name)
    assert first["email"] == "Ada@example.com" and first["status"] == "sent"
    assert [h["status"] for h in first["history"]] == ["queued", "sent"]
    assert first["messages"][0]["state"] == "sent"


def test_only_editors_erase(ada_everywhere, victor):
    with pytest.raises(PermissionDenied):
        customer_erase(brand=ada_everywhere.brand, email="ada@example.com", actor=victor)
    assert Recipient.objects.count() == 2


def test_the_command_erases_invitations_too(ada_everywhere, alice):
    call_command(
        "customer_data", "erase", "--brand", "brand-a", "--email", "ada@example.com", "--as-user", "alice", "--yes"
    )
    assert not Recipient.objects.exists()
