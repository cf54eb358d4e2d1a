"""The holdout setting: who may change it, and how the static loader learns it (the widget's pointer)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from testimonials.analytics.models import WidgetHoldout
from testimonials.analytics.services import widget_holdout_set
from testimonials.errors import PermissionDenied
from testimonials.lifecycle.models import AuditEvent
from testimonials.widgets import files
from testimonials.widgets.services import widget_publish


def test_it_publishes_the_holdout_share_in_the_widget_pointer(widget_a, alice, cards):
    widget_holdout_set(widget=widget_a, percent=5, actor=alice)
    assert AuditEvent.objects.filter(widget=widget_a, note="Holdout set to 5% of visitors.").exists()
    widget_a.publish_requested_at = timezone.now()
    widget_a.save()
    widget_publish(widget_id=widget_a.id)
    assert files.read_pointer(widget_a.public_id)["holdout"] == 5


def test_it_refuses_a_holdout_above_half(widget_a, alice):
    with pytest.raises(ValidationError):
        widget_holdout_set(widget=widget_a, percent=60, actor=alice)
    assert not WidgetHoldout.objects.exists()


def test_it_lets_only_the_brands_editors_set_a_holdout(widget_a, charlie):
    with pytest.raises(PermissionDenied):
        widget_holdout_set(widget=widget_a, percent=5, actor=charlie)
    assert not WidgetHoldout.objects.exists()
