"""The public collection form: one Django form built from a CollectionForm's settings.

It checks what a person typed (types, lengths, required fields, what a file really is) so the
page can answer next to each field; the submission service stays the authority on the rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.core.files import File

from testimonials.collection.abuse import HONEYPOT_FIELD
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

NAME_MAX = 120
ANSWER_MAX = 1000
REFERRAL_MAX = 16
# Fields shown with a hint under their label (templates/testimonials/collect/form.html).
HINTED_FIELDS = {"text", "author_email", "author_url"}
MEDIA_LABELS = {"avatar": "Your picture", "photo": "A photo", "video": "A short video"}


@dataclass
class AcceptedMedia:
    """A file that passed the content check: a fresh multipart file or a kept upload session."""

    kind: str
    content_type: str
    original_name: str
    file: File | None = None
    session: UploadSession | None = None


def _https_only(value: str) -> None:
    if value and not value.lower().startswith("https://"):
        raise ValidationError("Please use a link that starts with https://.")


class TestimonialForm(forms.Form):
    """Built per CollectionForm: fields it does not ask for are absent, required ones required."""

    __test__ = False

    token = forms.CharField(widget=forms.HiddenInput, required=False)
    ref = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    author_name = forms.CharField(
        label="Your name",
        max_length=NAME_MAX,
        error_messages={"required": "Please tell us your name.", "max_length": "Please keep your name shorter."},
    )

    def __init__(self, *args, collection_form: CollectionForm, upload_refusals: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.collection_form = cf = collection_form
        self.upload_refusals = upload_refusals or {}
        self.accepted_media: dict[str, AcceptedMedia] = {}
        fields = self.fields

        def required(mode: str) -> bool:
            return mode == FieldMode.REQUIRED

        if cf.rating_mode != FieldMode.OFF:
            fields["rating"] = forms.TypedChoiceField(
                label="Your rating",
                choices=[(str(n), f"{n} star{'s' if n > 1 else ''}") for n in range(1, 6)],
                coerce=int,
                required=required(cf.rating_mode),
                empty_value=None,
                widget=forms.RadioSelect,
                error_messages={
                    "required": "Please choose a star rating.",
                    "invalid_choice": "Please choose between 1 and 5 stars.",
                },
            )
        if cf.text_mode != FieldMode.OFF:
            fields["text"] = forms.CharField(
                label="Your testimonial",
                required=required(cf.text_mode),
                min_length=cf.text_min_length or None,
                max_length=cf.text_max_length,
                widget=forms.Textarea(attrs={"rows": 6}),
                error_messages={
                    "required": "Please write a few words.",
                    "min_length": f"Please write at least {cf.text_min_length} characters.",
                    "max_length": f"Please keep it under {cf.text_max_length} characters.",
                },
            )
        for index, prompt in enumerate(cf.prompts or []):
            fields[f"answer_{index}"] = forms.CharField(
                label=str(prompt),
                required=False,
                max_length=ANSWER_MAX,
                widget=forms.Textarea(attrs={"rows": 3}),
                error_messages={"max_length": f"Please keep this answer under {ANSWER_MAX} characters."},
            )
        text_fields = {
            "email_mode": ("author_email", forms.EmailField, "Your email", "Please add your email."),
            "title_mode": ("author_title", forms.CharField, "Your job title", "Please add your job title."),
            "company_mode": ("author_company", forms.CharField, "Your company", "Please add your company."),
        }
        for mode_name, (name, field_class, label, missing) in text_fields.items():
            mode = getattr(cf, mode_name)
            if mode != FieldMode.OFF:
                fields[name] = field_class(
                    label=label,
                    required=required(mode),
                    max_length=NAME_MAX if name != "author_email" else 254,
                    error_messages={
                        "required": missing,
                        "invalid": "Please enter an email address like name@example.com.",
                        "max_length": "Please keep this shorter.",
                    },
                )
        if cf.link_mode != FieldMode.OFF:
            fields["author_url"] = forms.URLField(
                label="A link (your site or profile)",
                required=required(cf.link_mode),
                max_length=200,
                assume_scheme="https",
                validators=[_https_only],
                error_messages={"required": "Please add a link.", "invalid": "Please enter a web address."},
            )
        for kind in MEDIA_KINDS:
            mode = getattr(cf, f"{kind}_mode")
            if mode == FieldMode.OFF:
                continue
            accept = "image/jpeg,image/png,image/webp" if kind != "video" else "video/mp4,video/quicktime,video/webm"
            fields[kind] = forms.FileField(
                label=MEDIA_LABELS[kind],
                required=False,  # may arrive as a kept or resumable upload instead; checked in clean()
                widget=forms.ClearableFileInput(attrs={"accept": accept}),
                error_messages={"invalid": "Please choose a file.", "empty": "The file is empty."},
            )
            fields[f"{kind}_upload"] = forms.CharField(widget=forms.HiddenInput, required=False, max_length=60)
        fields["consent_given"] = forms.BooleanField(
            label=cf.consent_text,
            required=True,
            error_messages={"required": "Please agree to share your testimonial before sending it."},
        )
        if cf.marketing_consent_text:
            fields["marketing_consent"] = forms.BooleanField(label=cf.marketing_consent_text, required=False)
        fields[HONEYPOT_FIELD] = forms.CharField(required=False, label="Leave this empty")
        # Page order, so the error summary lists problems top to bottom.
        self.order_fields(["rating", "text", *[f"answer_{i}" for i in range(len(cf.prompts or []))], "author_name"])

    # ------------------------------------------------------------------ cleaning

    def clean_ref(self) -> str:
        ref = self.cleaned_data.get("ref", "")
        return ref if ref.replace("-", "").replace("_", "").isalnum() and len(ref) <= REFERRAL_MAX else ""

    def clean(self):
        cleaned = super().clean()
        refused_everything = self.upload_refusals.get("__all__")
        if refused_everything:
            self.add_error(None, refused_everything)
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
        elif getattr(self.collection_form, f"{kind}_mode") == FieldMode.REQUIRED:
            self.add_error(kind, f"Please add {MEDIA_LABELS[kind].lower()}.")

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
        prompts = self.collection_form.prompts or []
        out = []
        for index, prompt in enumerate(prompts):
            answer = (self.cleaned_data.get(f"answer_{index}") or "").strip()
            if answer:
                out.append({"prompt": str(prompt), "answer": answer})
        return out
