"""Vouch's data: tenants (brands), what they collect, what customers send, and what is shown.

Only data and small invariants live here (choices, constraints, querysets). Every write goes
through a service (`testimonials.services` and each domain's own), every non-trivial read through
`testimonials.selectors`. One Django app, one migration history: the models of every package are
imported at the bottom so that Django registers them.
"""

from testimonials.models.base import (
    HEX_COLOUR,
    TimeStamped,
    https_only,
    new_public_id,
    new_referral_code,
    valid_origins,
)
from testimonials.models.brands import ApiKey, Brand, Membership, Tag
from testimonials.models.collection import LANGUAGE_CHOICES, CollectionForm, FieldMode, FormQuestion, QuestionKind
from testimonials.models.testimonials import (
    NEEDS_HUMAN_STATES,
    WIDGET_STATES,
    ContentFingerprint,
    MediaAsset,
    Testimonial,
    TestimonialQuerySet,
    TestimonialState,
    testimonial_flagged_expression,
)
from testimonials.models.widgets import Widget, WidgetPick

# Each package's own models (they import the core ones above, never the reverse).
from testimonials.lifecycle.models import AuditEvent, EventType, OutboxEntry, OutboxReceipt  # isort: skip
from testimonials.insights.models import BrandTopic, TopicReread  # isort: skip
from testimonials.invitations import models as invitation_models  # noqa: F401  isort: skip
from testimonials.widgets.models import WidgetBlockedOrigin  # isort: skip
from testimonials.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint  # isort: skip
from testimonials.imports.models import ReviewImport, ReviewImportRow  # isort: skip
from testimonials.analytics import models as analytics_models  # noqa: F401  isort: skip
from testimonials.influence import models as influence_models  # noqa: F401  isort: skip
from testimonials.members.models import MemberInvitation  # isort: skip

__all__ = [
    "HEX_COLOUR", "LANGUAGE_CHOICES", "NEEDS_HUMAN_STATES", "WIDGET_STATES", "ApiKey", "AuditEvent", "Brand",
    "BrandTopic", "CollectionForm", "ContentFingerprint", "EventType", "FieldMode", "FormQuestion", "MediaAsset",
    "MemberInvitation", "Membership", "OutboxEntry", "OutboxReceipt", "QuestionKind", "ReviewImport",
    "ReviewImportRow", "Tag",
    "Testimonial", "TestimonialQuerySet", "TestimonialState", "TimeStamped", "TopicReread", "WebhookAttempt",
    "WebhookDelivery", "WebhookEndpoint", "Widget", "WidgetBlockedOrigin", "WidgetPick", "https_only",
    "new_public_id", "new_referral_code", "testimonial_flagged_expression", "valid_origins",
]  # fmt: skip
