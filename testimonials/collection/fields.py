"""What a customer may send, described once per field.

The form builder (forms.py), the submission service (submission.py), exports and the API read
this list; invitations and imports prefill and lock these same fields. A field's `mode` names the
CollectionForm setting that turns it off or makes it optional or required; `None` means always asked.

A brand's own questions (FormQuestion rows) are described the same way by `questions()`: typed,
ordered and optionally required, and asked right after the testimonial's text.

A field's `prefill` says what a signed link that vouches for the customer (an invitation) may do with
it: fill it in for them to change, or fill it in and lock it (`KnownCustomer`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from testimonials.models import CollectionForm, FieldMode, FormQuestion, QuestionKind


class Prefill(StrEnum):
    """What a signed link that knows the customer may do with a field."""

    NO = ""  # never filled in from a link
    EDITABLE = "editable"  # filled in; the customer may change it (a name spelled the shop's way)
    LOCKED = "locked"  # filled in and read-only: the address the invitation went to is the proof of who they are


class Kind(StrEnum):
    RATING = "rating"
    LONG_TEXT = "long_text"
    SHORT_TEXT = "short_text"
    EMAIL = "email"
    URL = "url"
    MEDIA = "media"  # a file: the name is the media kind (avatar, photo, video)
    CHOICE = "choice"  # one of the question's choices
    YES_NO = "yes_no"  # "Yes" or "No"


@dataclass(frozen=True)
class CustomerField:
    name: str  # the attribute of SubmissionData and Testimonial; for media, the MediaAsset kind
    mode: str | None
    kind: Kind
    label: str  # what the customer reads next to it
    noun: str  # how messages name it: "Please add {noun}."
    max_length: int | None = None  # characters (the testimonial's own limit is the form's)
    required: str = ""  # the message when it is required and missing
    private: bool = False  # never displayed or published (the email)
    preset: str | None = None  # the mode of a field no form setting governs (a question's own)
    choices: tuple[str, ...] = ()  # a choice question's choices, in order
    question: int | None = None  # the FormQuestion a custom question comes from
    prefill: Prefill = Prefill.NO

    @property
    def one(self) -> str:
        """The noun without its article: "Please send just one photo."""
        article, _, rest = self.noun.partition(" ")
        return rest if article in ("a", "an") else self.noun


FIELDS: tuple[CustomerField, ...] = (
    CustomerField("rating", "rating_mode", Kind.RATING, _("Your rating"), "a star rating",
                  required=_("Please choose a star rating.")),
    CustomerField("text", "text_mode", Kind.LONG_TEXT, _("Your testimonial"), "your testimonial",
                  required=_("Please write a few words.")),
    CustomerField("author_name", None, Kind.SHORT_TEXT, _("Your name"), "your name", max_length=120,
                  required=_("Please tell us your name."), prefill=Prefill.EDITABLE),
    CustomerField("author_email", "email_mode", Kind.EMAIL, _("Your email"), "your email", max_length=254,
                  required=_("Please add your email."), private=True, prefill=Prefill.LOCKED),
    CustomerField("author_title", "title_mode", Kind.SHORT_TEXT, _("Your job title"), "your job title", max_length=120,
                  required=_("Please add your job title.")),
    CustomerField("author_company", "company_mode", Kind.SHORT_TEXT, _("Your company"), "your company", max_length=120,
                  required=_("Please add your company.")),
    CustomerField("author_url", "link_mode", Kind.URL, _("A link (your site or profile)"), "a link", max_length=200,
                  required=_("Please add a link.")),
    CustomerField("avatar", "avatar_mode", Kind.MEDIA, _("Your picture"), "a picture of yourself",
                  required=_("Please add a picture of yourself.")),
    CustomerField("photo", "photo_mode", Kind.MEDIA, _("A photo"), "a photo", required=_("Please add a photo.")),
    CustomerField("video", "video_mode", Kind.MEDIA, _("A short video"), "a video", required=_("Please add a video.")),
)  # fmt: skip

BY_NAME: dict[str, CustomerField] = {field.name: field for field in FIELDS}
MEDIA_FIELDS: tuple[CustomerField, ...] = tuple(field for field in FIELDS if field.kind == Kind.MEDIA)
# The fields stored on the testimonial itself, in the order exports and the API list them.
TESTIMONIAL_FIELDS: tuple[CustomerField, ...] = tuple(field for field in FIELDS if field.kind != Kind.MEDIA)


# Characters in an answer to a brand's own question.
ANSWER_MAX = 1000
QUESTION_KINDS = {
    QuestionKind.SHORT_TEXT: Kind.SHORT_TEXT,
    QuestionKind.LONG_TEXT: Kind.LONG_TEXT,
    QuestionKind.CHOICE: Kind.CHOICE,
    QuestionKind.YES_NO: Kind.YES_NO,
}
YES, NO = "Yes", "No"  # stored in English, shown translated


@dataclass(frozen=True)
class KnownCustomer:
    """A customer a signed link vouches for (an invitation): what it fills in, and the key that makes
    their testimonial one of a kind (a second submission through the same link stores nothing new).

    Only fields whose declaration allows it are filled in; values for any other field are ignored.
    A testimonial sent this way is marked as coming from an invitation and verified.
    """

    key: str
    values: dict[str, str]

    def prefilled(self) -> dict[str, str]:
        return {name: value for name, value in self.values.items() if _prefill(name) != Prefill.NO and value}

    def locked(self) -> dict[str, str]:
        return {name: value for name, value in self.prefilled().items() if _prefill(name) == Prefill.LOCKED}


def _prefill(name: str) -> Prefill:
    field = BY_NAME.get(name)
    return field.prefill if field is not None else Prefill.NO


def mode_of(form: CollectionForm, field: CustomerField) -> str:
    """Off, optional or required, for this form."""
    if field.mode is None:
        return field.preset or FieldMode.REQUIRED
    return getattr(form, field.mode)


def question_field(question: FormQuestion) -> CustomerField:
    """A brand's question as a customer field; its name is stable while the brand reorders questions."""
    return CustomerField(
        name=f"answer_{question.id}",
        mode=None,
        kind=QUESTION_KINDS[question.kind],
        label=question.label,
        noun=f"an answer to “{question.label}”",
        max_length=ANSWER_MAX if question.kind in (QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT) else None,
        required=_("Please answer this question."),
        preset=FieldMode.REQUIRED if question.required else FieldMode.OPTIONAL,
        choices=tuple(question.choice_list) if question.kind == QuestionKind.CHOICE else (),
        question=question.id,
    )


def questions(form: CollectionForm) -> list[CustomerField]:
    """The form's own questions, in the brand's order (one query, or none when prefetched)."""
    return [question_field(q) for q in form.questions.all()]


def asked(form: CollectionForm, known: KnownCustomer | None = None) -> list[CustomerField]:
    """The fields this form asks for, in page order: the brand's questions come right after the text.
    A locked value is always shown (read-only)."""
    locked = known.locked() if known is not None else {}
    fields = [field for field in FIELDS if mode_of(form, field) != FieldMode.OFF or field.name in locked]
    after = next((i + 1 for i, f in enumerate(fields) if f.name == "text"), 1 if fields[0].name == "rating" else 0)
    return [*fields[:after], *questions(form), *fields[after:]]
