"""A customer's testimonial arriving: stored as received, processed after commit."""

from __future__ import annotations

import dataclasses
import mimetypes
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone

from testimonials import queue
from testimonials.collection.fields import BY_NAME, FIELDS, NO, YES, Kind, KnownCustomer, mode_of, questions
from testimonials.collection.uploads import clean_file_name
from testimonials.errors import ApplicationError
from testimonials.lifecycle.events import record
from testimonials.lifecycle.tasks import lifecycle_dispatch_task
from testimonials.models import CollectionForm, EventType, FieldMode, MediaAsset, Testimonial
from testimonials.processing.tasks import testimonial_process_task
from testimonials.renditions.tasks import media_process_task


@dataclass
class MediaUpload:
    """A file the customer sent, already checked by content (kind, detected type)."""

    kind: str  # MediaAsset.Kind
    file: File
    original_name: str = ""
    content_type: str = ""


@dataclass
class SubmissionData:
    author_name: str
    text: str = ""
    rating: int | None = None
    author_email: str = ""
    author_title: str = ""
    author_company: str = ""
    author_url: str = ""
    answers: list[dict] = field(default_factory=list)
    consent_given: bool = False
    marketing_consent: bool = False
    submission_key: str | None = None
    referred_by: str = ""
    source: str = Testimonial.Source.FORM
    # Collected on the brand's own site (the API): the consent the customer gave there, word for word and
    # when. Required for that source; a form's page records its own consent text at submit time.
    consent_text: str = ""
    consented_at: datetime | None = None
    media: list[MediaUpload] = field(default_factory=list)
    # Set at submit time, e.g. {"code": "captcha_unavailable", ..., "action": "hold"}: kept for the moderator.
    flags: list[dict] = field(default_factory=list)
    # A customer a signed link vouches for (an invitation): locked fields, and one testimonial per link.
    known: KnownCustomer | None = None


def _check_against_form(form: CollectionForm, data: SubmissionData) -> None:
    """The form's rules (fields.py): what it asks for, requires and refuses; ApplicationError names the field."""
    if not form.is_active:
        raise ApplicationError("This form is no longer accepting testimonials.")
    if not data.author_name.strip():
        raise ApplicationError(BY_NAME["author_name"].required, field="author_name")
    if not data.consent_given:
        raise ApplicationError("Please agree to share your testimonial before sending it.", field="consent_given")
    if data.source == Testimonial.Source.API:
        if not data.consent_text.strip():
            raise ApplicationError("Send the exact consent text the customer agreed to.", field="consent_text")
        if data.consented_at is None:
            raise ApplicationError("Send when the customer agreed (consented_at).", field="consented_at")
    locked = data.known.locked() if data.known is not None else {}
    for name, value in locked.items():
        if str(getattr(data, name) or "").strip().lower() != value.strip().lower():
            message = f"{BY_NAME[name].label} comes from your invitation and cannot be changed."
            raise ApplicationError(message, field=name)
    kinds = [m.kind for m in data.media]
    for spec in FIELDS:
        mode = mode_of(form, spec)
        if spec.kind == Kind.MEDIA:
            sent = kinds.count(spec.name)
            if mode == FieldMode.REQUIRED and not sent:
                raise ApplicationError(spec.required, field=spec.name)
            if mode == FieldMode.OFF and sent:
                raise ApplicationError(f"This form does not accept {spec.noun}.", field=spec.name)
            if sent > 1:
                raise ApplicationError(f"Please send just one {spec.one}.", field=spec.name)
            continue
        value = getattr(data, spec.name)
        empty = value is None or (isinstance(value, str) and not value.strip())
        if mode == FieldMode.REQUIRED and empty:
            raise ApplicationError(spec.required, field=spec.name)
        if mode == FieldMode.OFF and not empty and spec.name not in locked:
            raise ApplicationError(f"This form does not ask for {spec.noun}.", field=spec.name)
        if spec.max_length and isinstance(value, str) and len(value.strip()) > spec.max_length:
            raise ApplicationError(f"Please keep {spec.noun} under {spec.max_length} characters.", field=spec.name)
    _check_answers(form, data.answers)
    text = data.text.strip()
    if text and len(text) < form.text_min_length:
        raise ApplicationError(f"Please write at least {form.text_min_length} characters.", field="text")
    if len(text) > form.text_max_length:
        raise ApplicationError(f"Please keep it under {form.text_max_length} characters.", field="text")


def _check_answers(form: CollectionForm, answers: list[dict]) -> None:
    """The brand's own questions: required ones answered, choices among the choices, lengths kept.

    An answer to a question the brand removed while the page was open is kept as it was written.
    """
    given = {a.get("question"): str(a.get("answer") or "").strip() for a in answers if isinstance(a, dict)}
    for spec in questions(form):
        answer = given.get(spec.question, "")
        if not answer:
            if mode_of(form, spec) == FieldMode.REQUIRED:
                raise ApplicationError(str(spec.required), field=spec.name)
            continue
        if spec.kind == Kind.CHOICE and answer not in spec.choices:
            raise ApplicationError("Please pick one of the choices.", field=spec.name)
        if spec.kind == Kind.YES_NO and answer not in (YES, NO):
            raise ApplicationError("Please answer yes or no.", field=spec.name)
        if spec.max_length and len(answer) > spec.max_length:
            raise ApplicationError(f"Please keep this answer under {spec.max_length} characters.", field=spec.name)


def _stored_answers(answers: list[dict]) -> list[dict]:
    """What the testimonial keeps of each answer: the question as it was worded, and the answer."""
    return [
        {"prompt": str(a.get("prompt") or ""), "answer": str(a.get("answer") or "").strip()}
        for a in answers
        if isinstance(a, dict) and str(a.get("answer") or "").strip()
    ]


def testimonial_submit(*, form: CollectionForm, data: SubmissionData) -> Testimonial:
    """Store a submission as received and queue its processing after commit.

    Idempotent on `data.submission_key`: the same key returns the row stored the first time.
    Raises ApplicationError (with `.field`) when the submission breaks one of the form's rules.
    A known customer's (`data.known`) key replaces the page's: one testimonial per invitation.
    """
    if data.known is not None:
        data = dataclasses.replace(data, submission_key=data.known.key)
    # No lookup of the key first (nearly always absent): its unique constraint answers a repeat, below.
    try:
        _check_against_form(form, data)
    except ApplicationError:
        # A repeat of a submission accepted before the form changed (switched off, a field now required).
        existing = _stored_with_key(data.submission_key)
        if existing is None:
            raise
        return existing
    item = _build(form, data)
    # Validation and file copies happen before the transaction: on SQLite a write transaction locks
    # the whole database, so it must hold only the inserts (a 200 MB video copy would stall everyone).
    originals = _save_originals(data.media)
    try:
        with transaction.atomic():
            _store(item, data, originals)
    except IntegrityError:
        _delete_originals(originals)
        # A repeat (a second click, a retry after a lost answer, two identical submits racing): the
        # unique key let exactly one through, and the savepoint undid this one's insert.
        existing = _stored_with_key(data.submission_key)
        if existing is None:
            if not CollectionForm.objects.filter(pk=form.pk, is_active=True).exists():
                # Deleted moments ago, while a web process still served its remembered copy (spool.form_fresh).
                raise ApplicationError("This form is no longer accepting testimonials.") from None
            raise
        return existing
    except BaseException:
        _delete_originals(originals)
        raise
    return item


def _stored_with_key(submission_key: str | None) -> Testimonial | None:
    return Testimonial.objects.filter(submission_key=submission_key).first() if submission_key else None


def _server_chosen_name(content_type: str) -> str:
    # Never the customer's file name: it could be "x.jpg.php" or a path.
    return secrets.token_hex(16) + (mimetypes.guess_extension(content_type or "") or ".bin")


def _save_originals(media: list[MediaUpload]) -> list[str]:
    """Copy each upload into private storage under a server-chosen name; returns the stored names."""
    field = MediaAsset._meta.get_field("original")
    names: list[str] = []
    try:
        for upload in media:
            name = field.generate_filename(None, _server_chosen_name(upload.content_type))
            try:
                names.append(field.storage.save(name, File(upload.file, name=name), max_length=field.max_length))
            except BaseException:
                names.append(name)  # a full disk leaves the file it could not finish: it goes too
                raise
    except BaseException:
        _delete_originals(names)
        raise
    return names


def _delete_originals(names: list[str]) -> None:
    storage = MediaAsset._meta.get_field("original").storage
    for name in names:
        storage.delete(name)


def _build(form: CollectionForm, data: SubmissionData) -> Testimonial:
    """The validated, unsaved row. Raises ApplicationError naming the field."""
    now = timezone.now()
    item = Testimonial(
        brand=form.brand,
        form=form,
        # Only a signed link vouches for who sent it: the verified badge comes from nowhere else.
        source=Testimonial.Source.INVITE if data.known is not None else data.source,
        is_verified=data.known is not None,
        author_name=data.author_name.strip(),
        author_email=data.author_email.strip(),
        author_title=data.author_title.strip(),
        author_company=data.author_company.strip(),
        author_url=data.author_url.strip(),
        rating=data.rating,
        text=data.text.strip(),
        answers=_stored_answers(data.answers),
        consent_given=True,
        consent_text=data.consent_text.strip() or form.consent_text,
        consented_at=data.consented_at or now,
        marketing_consent=data.marketing_consent and bool(form.marketing_consent_text),
        is_incentivised=bool(form.incentive),
        submission_key=data.submission_key,
        referred_by=data.referred_by[:16],
        flags=list(data.flags),
        state=Testimonial.State.RECEIVED,
        state_changed_at=now,
    )
    try:
        # Check constraints are left to the database: Django validates each with a query of its own
        # (three per submission, the largest cost of a submit), and the rules above already cover them.
        # Brand and form were just loaded: no need to query that they exist.
        item.full_clean(
            exclude=["submission_key", "referral_code", "public_id", "brand", "form"], validate_constraints=False
        )
    except ValidationError as exc:
        field_name, messages = next(iter(exc.message_dict.items()))
        raise ApplicationError(messages[0], field=field_name) from exc
    return item


def _store(item: Testimonial, data: SubmissionData, originals: list[str]) -> Testimonial:
    item.save()
    how = {
        Testimonial.Source.API: "Sent through the API.",
        Testimonial.Source.INVITE: "Submitted through an invitation link.",
    }.get(item.source, "Submitted through the form.")
    record(event=EventType.RECEIVED, testimonial=item, to_state=item.state, reasons=[how])
    assets = [
        MediaAsset.objects.create(
            testimonial=item,
            kind=upload.kind,
            original=stored_name,
            original_name=clean_file_name(upload.original_name),
            content_type=upload.content_type,
            size_bytes=upload.file.size or 0,
        )
        for upload, stored_name in zip(data.media, originals, strict=True)
    ]
    item_id, asset_ids = item.id, [a.id for a in assets]
    # Sent once the row is committed, never raising for the broker: a broker error cannot become a
    # 500 that invites a second submit, and the sweeper enqueues whatever was not sent.
    # One message, not two: the lifecycle's hand-off of "received" rides with the processing task, which
    # dispatches it first. If the message is lost, the sweeper re-enqueues the row and re-dispatches the entry.
    queue.send_on_commit(testimonial_process_task, item_id, carry=(lifecycle_dispatch_task, "lifecycle_entry_ids"))
    for asset_id in asset_ids:
        queue.send_on_commit(media_process_task, asset_id)
    return item
