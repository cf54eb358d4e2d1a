"""The public collection form: one Django form built from a CollectionForm's settings.

It checks what a person typed (types, lengths, required fields, what a file really is) so the
page can answer next to each field; the submission service stays the authority on the rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.core.files import File
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from testimonials.collection.abuse import HONEYPOT_FIELD
from testimonials.collection.fields import BY_NAME, NO, YES, CustomerField, Kind, KnownCustomer, asked, mode_of
from testimonials.collection.submission import MediaUpload, SubmissionData
from testimonials.collection.uploads import (
    EXPECT,
    MEDIA_KINDS,
    UploadNotFound,
    UploadSession,
    upload_session_from_file,
    upload_session_get,
)
from testimonials.media.errors import MediaRejected
from testimonials.media.sniff import sniff
from testimonials.models import CollectionForm, FieldMode

REFERRAL_MAX = 16
# Fields shown with a hint under their label (templates/testimonials/collect/form.html).
HINTED_FIELDS = {"text", "author_email", "author_url"}


@dataclass
class AcceptedMedia:
    """A file that passed the content check: a fresh multipart file or a kept upload session."""

    kind: str
    content_type: str
    original_name: str
    file: File | None = None
    session: UploadSession | None = None


class _Counted(forms.CharField):
    """Text whose input carries no maxlength: browsers silently cut pasted text at it. The page counts
    with data-maxlength instead (collect.js), and the server says how much is over."""

    def __init__(self, *, max_length: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.limit = max_length
        self.widget.attrs["dir"] = "auto"  # Arabic or Hebrew typed here runs right to left
        if max_length:
            self.widget.attrs["data-maxlength"] = str(max_length)

    def validate(self, value):
        super().validate(value)
        if self.limit and value and len(value) > self.limit:
            count = len(value)
            raise ValidationError(
                ngettext(
                    "Please keep it under %(limit)d characters: it has %(count)d, %(over)d too many.",
                    "Please keep it under %(limit)d characters: it has %(count)d, %(over)d too many.",
                    count - self.limit,
                )
                % {"limit": self.limit, "count": count, "over": count - self.limit},
                code="max_length",
            )


def _rating(spec: CustomerField, cf: CollectionForm, required: bool) -> forms.Field:
    return forms.TypedChoiceField(
        label=spec.label,
        choices=[(str(n), ngettext("%(n)d star", "%(n)d stars", n) % {"n": n}) for n in range(1, 6)],
        coerce=int,
        required=required,
        empty_value=None,
        widget=forms.RadioSelect,
        error_messages={"required": spec.required, "invalid_choice": _("Please choose between 1 and 5 stars.")},
    )


def _long_text(spec: CustomerField, cf: CollectionForm, required: bool) -> forms.Field:
    if spec.question is not None:
        return _Counted(
            label=spec.label,
            required=required,
            max_length=spec.max_length,
            widget=forms.Textarea(attrs={"rows": 3}),
            error_messages={"required": spec.required},
        )
    return _Counted(
        label=spec.label,
        required=required,
        min_length=cf.text_min_length or None,
        max_length=cf.text_max_length,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={
            "required": spec.required,
            "min_length": _("Please write at least %(limit)d characters.") % {"limit": cf.text_min_length},
        },
    )


def _short_text(spec: CustomerField, cf: CollectionForm, required: bool) -> forms.Field:
    if spec.kind == Kind.EMAIL:
        return forms.EmailField(
            label=spec.label,
            required=required,
            max_length=spec.max_length,
            error_messages={
                "required": spec.required,
                "invalid": _("Please enter an email address like name@example.com."),
                "max_length": _("Please keep this shorter."),
            },
        )
    return _Counted(
        label=spec.label,
        required=required,
        max_length=spec.max_length,
        error_messages={"required": spec.required},
    )


def _url(spec: CustomerField, cf: CollectionForm, required: bool) -> forms.Field:
    return forms.URLField(
        label=spec.label,
        required=required,
        max_length=spec.max_length,
        assume_scheme="https",
        validators=[_https_only],
        error_messages={"required": spec.required, "invalid": _("Please enter a web address.")},
    )


def _choice(spec: CustomerField, cf: CollectionForm, required: bool) -> forms.Field:
    return forms.ChoiceField(
        label=spec.label,
        required=required,
        choices=[(choice, choice) for choice in spec.choices],
        widget=forms.RadioSelect,
        error_messages={"required": spec.required, "invalid_choice": _("Please pick one of the choices.")},
    )


def _yes_no(spec: CustomerField, cf: CollectionForm, required: bool) -> forms.Field:
    return forms.ChoiceField(
        label=spec.label,
        required=required,
        choices=[(YES, _("Yes")), (NO, _("No"))],
        widget=forms.RadioSelect,
        error_messages={"required": spec.required, "invalid_choice": _("Please answer yes or no.")},
    )


_FIELD_BUILDERS = {
    Kind.RATING: _rating,
    Kind.LONG_TEXT: _long_text,
    Kind.SHORT_TEXT: _short_text,
    Kind.EMAIL: _short_text,
    Kind.URL: _url,
    Kind.CHOICE: _choice,
    Kind.YES_NO: _yes_no,
}


def _https_only(value: str) -> None:
    if value and not value.lower().startswith("https://"):
        raise ValidationError(_("Please use a link that starts with https://."))


class TestimonialForm(forms.Form):
    """Built per CollectionForm: fields it does not ask for are absent, required ones required."""

    __test__ = False

    token = forms.CharField(widget=forms.HiddenInput, required=False)
    ref = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    author_name = _Counted(
        label=BY_NAME["author_name"].label,
        max_length=BY_NAME["author_name"].max_length,
        error_messages={"required": BY_NAME["author_name"].required},
    )

    def __init__(
        self,
        *args,
        collection_form: CollectionForm,
        upload_refusals: dict | None = None,
        known: KnownCustomer | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.collection_form = cf = collection_form
        self.upload_refusals = upload_refusals or {}
        self.accepted_media: dict[str, AcceptedMedia] = {}
        self.known = known
        specs = asked(cf, known)
        # The brand's own questions (fields.questions), asked right under the testimonial.
        self.questions = [spec for spec in specs if spec.question is not None]
        for spec in specs:
            if spec.name == "author_name":
                continue  # declared on the class: every form asks for it
            required = mode_of(cf, spec) == FieldMode.REQUIRED
            if spec.kind == Kind.MEDIA:
                self._add_media_field(spec)
            else:
                self.fields[spec.name] = _FIELD_BUILDERS[spec.kind](spec, cf, required)
        self.fields["consent_given"] = forms.BooleanField(
            label=cf.consent_text,
            required=True,
            error_messages={"required": _("Please agree to share your testimonial before sending it.")},
        )
        if cf.marketing_consent_text:
            self.fields["marketing_consent"] = forms.BooleanField(label=cf.marketing_consent_text, required=False)
        self.fields[HONEYPOT_FIELD] = forms.CharField(required=False, label="Leave this empty")
        # Page order, so the error summary lists problems top to bottom.
        self.order_fields(["rating", "text", *[spec.name for spec in self.questions], "author_name"])
        if known is not None:
            self._fill_in(known)

    def _fill_in(self, known: KnownCustomer) -> None:
        """What a signed link knows: prefilled, and locked where fields.py says so. A disabled field
        takes its value from here, never from what was posted, so a locked value cannot be changed."""
        for name, value in known.prefilled().items():
            if name in self.fields:
                self.fields[name].initial = value
        for name in known.locked():
            if name in self.fields:
                field = self.fields[name]
                field.disabled = True
                field.required = True
                field.widget.attrs.update({"readonly": True, "aria-readonly": "true"})

    def _add_media_field(self, spec: CustomerField) -> None:
        accept = "video/mp4,video/quicktime,video/webm" if spec.name == "video" else "image/jpeg,image/png,image/webp"
        self.fields[spec.name] = forms.FileField(
            label=spec.label,
            required=False,  # may arrive as a kept or resumable upload instead; checked in clean()
            widget=forms.ClearableFileInput(attrs={"accept": accept}),
            error_messages={"invalid": _("Please choose a file."), "empty": _("The file is empty.")},
        )
        self.fields[f"{spec.name}_upload"] = forms.CharField(widget=forms.HiddenInput, required=False, max_length=60)

    # ------------------------------------------------------------------ cleaning

    def clean_ref(self) -> str:
        ref = self.cleaned_data.get("ref", "")
        return ref if ref.replace("-", "").replace("_", "").isalnum() and len(ref) <= REFERRAL_MAX else ""

    def clean(self):
        cleaned = super().clean()
        refused_everything = self.upload_refusals.get("__all__")
        if refused_everything:
            self.add_error(None, refused_everything)
        # A photo or video this form does not take (the brand switched it off while the page was open):
        # say so rather than drop the customer's file unseen. Files under other names are skipped.
        for kind in MEDIA_KINDS:
            if kind in self.upload_refusals and kind not in self.fields:
                self.add_error(None, f"This form does not take {BY_NAME[kind].noun} any more; please remove it.")
        for kind in MEDIA_KINDS:
            if kind not in self.fields:
                continue
            self._clean_media(kind, cleaned)
        return cleaned

    def _clean_media(self, kind: str, cleaned: dict) -> None:
        refusal = self.upload_refusals.get(kind)
        upload = cleaned.get(kind)
        upload_id = cleaned.get(f"{kind}_upload") or ""
        if refusal:
            self.add_error(kind, refusal)
            return
        if upload:
            try:
                found = sniff(upload, expect=EXPECT[kind])
            except MediaRejected as exc:
                self.add_error(kind, exc.reason)
                return
            self.accepted_media[kind] = AcceptedMedia(kind, found.content_type, upload.name or "", file=upload)
        elif upload_id:
            try:
                session = upload_session_get(upload_id, form_id=self.collection_form.id, kind=kind)
            except UploadNotFound as exc:
                self.add_error(kind, exc.message)
                return
            if not session.complete:
                self.add_error(kind, "Your file has not finished uploading yet. Please wait a moment.")
                return
            self.accepted_media[kind] = AcceptedMedia(
                kind, session.content_type, session.original_name, session=session
            )
        elif mode_of(self.collection_form, BY_NAME[kind]) == FieldMode.REQUIRED:
            self.add_error(kind, BY_NAME[kind].required)

    def keep_accepted_files(self) -> None:
        """After an error, keep accepted multipart files as sessions: the page shows them as attached."""
        for kind, media in self.accepted_media.items():
            if media.file is not None:
                session = upload_session_from_file(
                    form_id=self.collection_form.id,
                    kind=kind,
                    file=media.file,
                    content_type=media.content_type,
                    original_name=media.original_name,
                )
                media.session, media.file = session, None
                # A bound form's data is immutable: re-bind the hidden field through a copy.
                self.data = self.data.copy()
                self.data[f"{kind}_upload"] = session.id

    def describe_fields(self) -> None:
        """Point each input at its message and hint, so a screen reader reads them with the field."""
        errors = self.errors if self.is_bound else {}
        for name, field in self.fields.items():
            ids = [f"{name}-error"] if name in errors else []
            if name in HINTED_FIELDS:
                ids.append(f"{name}-hint")
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)

    def kept_media(self) -> dict[str, AcceptedMedia]:
        return {kind: m for kind, m in self.accepted_media.items() if m.session is not None}

    def submission_data(self, *, submission_key: str, media: list[MediaUpload], flags: list[dict]) -> SubmissionData:
        """What the submission service takes, from a valid form."""
        cleaned = self.cleaned_data
        return SubmissionData(
            known=self.known,
            author_name=cleaned["author_name"],
            text=cleaned.get("text") or "",
            rating=cleaned.get("rating"),
            author_email=cleaned.get("author_email") or "",
            author_title=cleaned.get("author_title") or "",
            author_company=cleaned.get("author_company") or "",
            author_url=cleaned.get("author_url") or "",
            answers=self.answers(),
            consent_given=bool(cleaned.get("consent_given")),
            marketing_consent=bool(cleaned.get("marketing_consent")),
            submission_key=submission_key,
            referred_by=cleaned.get("ref") or "",
            media=media,
            flags=flags,
        )

    def answers(self) -> list[dict]:
        """Each answered question: its id (for the service's checks), its wording and the answer."""
        out = []
        for spec in self.questions:
            answer = (self.cleaned_data.get(spec.name) or "").strip()
            if answer:
                out.append({"question": spec.question, "prompt": str(spec.label), "answer": answer})
        return out
