"""Each vocabulary is declared once; everything else derives from it. These tests fail when a copy drifts."""

from __future__ import annotations

import dataclasses
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from testimonials.admin.dashboard import STATE_COLOURS
from testimonials.admin.filters import FlagFilter
from testimonials.admin.testimonials import DECIDABLE
from testimonials.collection.fields import FIELDS, Kind
from testimonials.collection.submission import SubmissionData
from testimonials.lifecycle.models import TESTIMONIAL_EVENTS, EventType
from testimonials.lifecycle.subscribers import subscribers
from testimonials.models import CollectionForm, FieldMode, Testimonial
from testimonials.moderation import flags, rules
from testimonials.services.decisions import DECISIONS

APP = Path(__file__).resolve().parent.parent / "testimonials"
State = Testimonial.State
HEX = re.compile(r"^#[0-9a-f]{6}$")


# --------------------------------------------------------------------------- states


def test_it_builds_the_state_constraint_from_the_state_vocabulary():
    [constraint] = [c for c in Testimonial._meta.constraints if c.name == "testimonial_state_valid"]
    assert constraint.condition.children == [("state__in", State.values)]


@pytest.mark.django_db
def test_the_migrations_hold_exactly_what_the_models_declare():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, verbosity=1)
    except SystemExit:
        pytest.fail(f"models and migrations differ (run makemigrations):\n{out.getvalue()}")


def test_every_state_has_a_label_and_a_dashboard_colour():
    assert set(STATE_COLOURS) == set(State.values)
    assert all(label for _, label in State.choices)
    assert all(HEX.match(colour) for colour in STATE_COLOURS.values())


def test_the_admin_offers_each_decision_only_where_the_transitions_allow_it():
    assert set(DECIDABLE) == set(DECISIONS)
    for verb, decision in DECISIONS.items():
        assert DECIDABLE[verb] == decision.sources
        assert decision.sources <= Testimonial.states_that_can_move_to(decision.target)
        assert decision.target in State.values


def test_the_moderation_policy_decides_only_into_testimonial_states():
    outcomes = {
        rules.decide([], auto_approve=True).state,
        rules.decide([], auto_approve=False).state,
        rules.decide([rules.Flag("spam_phrase", "spam", rules.REJECT)], auto_approve=True).state,
    }
    assert outcomes == {State.APPROVED, State.PENDING_REVIEW, State.REJECTED}


# --------------------------------------------------------------------------- flags


def _codes_used_in_code() -> set[str]:
    """Every flag code written in the app's source: Flag("code", ...) and {"code": "..."} dictionaries."""
    found = set()
    for path in APP.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        text = path.read_text()
        found |= set(re.findall(r"\bFlag\(\s*\"([a-z_]+)\"", text))
        found |= set(re.findall(r"\"code\":\s*\"([a-z_]+)\"", text))
    return found


def test_every_flag_code_used_anywhere_is_declared_with_a_label_meaning_and_colour():
    used = _codes_used_in_code()
    assert "profanity" in used and "duplicate" in used  # the scan sees the rules
    assert used <= set(flags.FLAGS), f"declare these in moderation/flags.py: {sorted(used - set(flags.FLAGS))}"
    for code, flag in flags.FLAGS.items():
        assert flag.code == code and flag.label and flag.meaning and HEX.match(flag.colour), code


def test_the_captcha_flag_is_declared_as_set_at_submission_and_kept_by_the_pipeline():
    assert flags.FLAGS[flags.CAPTCHA_UNAVAILABLE].set_by == flags.SetBy.SUBMISSION
    assert flags.CAPTCHA_UNAVAILABLE not in rules.CODES
    assert rules.CODES == flags.PIPELINE_CODES
    assert rules.RATING_CODES == {"rating_mismatch"}


def test_the_admin_filters_and_labels_every_declared_flag():
    lookups = dict(FlagFilter(None, {}, Testimonial, None).lookups(None, None))
    for code, flag in flags.FLAGS.items():
        assert lookups[code] == flag.label == flags.label(code)


# --------------------------------------------------------------------------- lifecycle events


def test_every_event_type_has_a_label_and_every_subscriber_follows_declared_events():
    assert all(label for _, label in EventType.choices)
    assert TESTIMONIAL_EVENTS <= set(EventType)
    names = {s.name for s in subscribers()}
    assert {"widgets", "privacy", "invitations"} <= names
    for subscriber in subscribers():
        assert subscriber.events <= set(EventType.values), subscriber.name


# --------------------------------------------------------------------------- customer fields


def test_every_form_setting_has_a_customer_field_and_every_field_a_home():
    modes = {f.name for f in CollectionForm._meta.get_fields() if f.name.endswith("_mode")}
    assert modes == {spec.mode for spec in FIELDS if spec.mode}
    for name in modes:
        assert set(dict(CollectionForm._meta.get_field(name).choices)) == set(FieldMode.values)
    submission_fields = {f.name for f in dataclasses.fields(SubmissionData)}
    for spec in FIELDS:
        assert spec.label and spec.noun and spec.required, spec.name
        if spec.kind != Kind.MEDIA:
            assert spec.name in submission_fields
            Testimonial._meta.get_field(spec.name)  # raises if the testimonial has no such column


# --------------------------------------------------------------------------- invitations


def test_every_invitation_status_has_a_colour_transitions_and_a_funnel_stage():
    from testimonials.invitations.admin import STATUS_COLOURS
    from testimonials.invitations.models import RECIPIENT_TRANSITIONS, Recipient, RecipientStatus
    from testimonials.invitations.selectors import STAGES

    statuses = set(RecipientStatus.values)
    assert set(STATUS_COLOURS) == statuses and all(HEX.match(c) for c in STATUS_COLOURS.values())
    assert set(RECIPIENT_TRANSITIONS) == statuses
    assert set(STAGES) == statuses
    [constraint] = [c for c in Recipient._meta.constraints if c.name == "recipient_status_valid"]
    assert constraint.condition.children == [("status__in", RecipientStatus.values)]


def test_every_invitation_event_the_code_records_is_declared():
    used = set()
    for path in (APP / "invitations").rglob("*.py"):
        used |= set(re.findall(r"EventType\.(INVITATION_[A-Z_]+)", path.read_text()))
    declared = {e.name for e in EventType if e.value.startswith("invitation.")}
    assert used and used <= declared
    assert EventType.INVITATION_SUBMITTED.value == "invitation.submitted"  # webhooks subscribe to this name


def test_the_invitation_link_fills_in_only_fields_declared_for_it():
    from testimonials.collection.fields import BY_NAME, KnownCustomer, Prefill

    assert BY_NAME["author_email"].prefill == Prefill.LOCKED
    assert BY_NAME["author_name"].prefill == Prefill.EDITABLE
    known = KnownCustomer(key="k", values={"author_email": "a@example.com", "author_name": "A", "text": "forged"})
    assert known.prefilled() == {"author_email": "a@example.com", "author_name": "A"}
    assert known.locked() == {"author_email": "a@example.com"}
