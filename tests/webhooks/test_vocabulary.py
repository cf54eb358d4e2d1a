"""The webhook event vocabulary is declared once (webhooks/events.py); what copies it must not drift."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from testimonials.api.serializers import TestimonialOutput
from testimonials.lifecycle.models import EventType
from testimonials.webhooks import events, payloads
from testimonials.webhooks.models import WebhookEndpoint
from tests.factories import TestimonialFactory

pytestmark = pytest.mark.django_db


def test_it_sends_the_testimonial_with_the_same_fields_as_the_api(brand_a):
    item = TestimonialFactory(brand=brand_a)
    assert list(payloads.testimonial_payload(item)) == list(TestimonialOutput.Meta.fields)
    assert set(payloads.testimonial_payload(item)) == set(TestimonialOutput(item).data)


def test_it_offers_only_event_types_whose_lifecycle_events_exist():
    names = [e.name for e in events.EVENT_TYPES]
    assert names[:5] == [events.RECEIVED, events.APPROVED, events.REJECTED, events.PUBLISHED, events.ERASED]
    for event_type in events.EVENT_TYPES:
        assert event_type.sources <= set(EventType.values)
    # invitation.submitted and conversion.recorded appear by themselves once the lifecycle declares them.
    pairs = ((events.INVITATION_SUBMITTED, "invitation.submitted"), (events.CONVERSION_RECORDED, "conversion.recorded"))
    for name, source in pairs:
        assert (name in events.BY_NAME) == (source in EventType.values)


def test_the_schema_admin_and_api_read_the_one_list(tmp_path):
    out = tmp_path / "schema.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(out))
    schema = json.loads(out.read_text())
    enums = [c for name, c in schema["components"]["schemas"].items() if set(c.get("enum", [])) & {events.APPROVED}]
    assert enums and all(c["enum"] == list(events.BY_NAME) for c in enums)
    from testimonials.webhooks.admin import EndpointForm

    assert EndpointForm.base_fields["events"].choices == events.CHOICES
    assert WebhookEndpoint.Kind.values == ["standard", "slack"]
