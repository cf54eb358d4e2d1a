"""What a customer may send, described once per field.

The form builder (forms.py), the submission service (submission.py), exports and the API read
this list; invitations and imports prefill and lock these same fields. A field's `mode` names the
CollectionForm setting that turns it off or makes it optional or required; `None` means always asked.
A field's `prefill` says what a signed link that vouches for the customer (an invitation) may do with
it: fill it in for them to change, or fill it in and lock it (`KnownCustomer`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from testimonials.models import CollectionForm, FieldMode


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
    prefill: Prefill = Prefill.NO

    @property
    def one(self) -> str:
        """The noun without its article: "Please send just one photo."""
        article, _, rest = self.noun.partition(" ")
        return rest if article in ("a", "an") else self.noun


FIELDS: tuple[CustomerField, ...] = (
    CustomerField("rating", "rating_mode", Kind.RATING, "Your rating", "a star rating",
                  required="Please choose a star rating."),
    CustomerField("text", "text_mode", Kind.LONG_TEXT, "Your testimonial", "your testimonial",
                  required="Please write a few words."),
    CustomerField("author_name", None, Kind.SHORT_TEXT, "Your name", "your name", max_length=120,
                  required="Please tell us your name.", prefill=Prefill.EDITABLE),
    CustomerField("author_email", "email_mode", Kind.EMAIL, "Your email", "your email", max_length=254,
                  required="Please add your email.", private=True, prefill=Prefill.LOCKED),
    CustomerField("author_title", "title_mode", Kind.SHORT_TEXT, "Your job title", "your job title", max_length=120,
                  required="Please add your job title."),
    CustomerField("author_company", "company_mode", Kind.SHORT_TEXT, "Your company", "your company", max_length=120,
                  required="Please add your company."),
    CustomerField("author_url", "link_mode", Kind.URL, "A link (your site or profile)", "a link", max_length=200,
                  required="Please add a link."),
    CustomerField("avatar", "avatar_mode", Kind.MEDIA, "Your picture", "a picture of yourself",
                  required="Please add a picture of yourself."),
    CustomerField("photo", "photo_mode", Kind.MEDIA, "A photo", "a photo", required="Please add a photo."),
    CustomerField("video", "video_mode", Kind.MEDIA, "A short video", "a video", required="Please add a video."),
)  # fmt: skip

BY_NAME: dict[str, CustomerField] = {field.name: field for field in FIELDS}
MEDIA_FIELDS: tuple[CustomerField, ...] = tuple(field for field in FIELDS if field.kind == Kind.MEDIA)
# The fields stored on the testimonial itself, in the order exports and the API list them.
TESTIMONIAL_FIELDS: tuple[CustomerField, ...] = tuple(field for field in FIELDS if field.kind != Kind.MEDIA)


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
    return FieldMode.REQUIRED if field.mode is None else getattr(form, field.mode)


def asked(form: CollectionForm, known: KnownCustomer | None = None) -> list[CustomerField]:
    """The fields this form asks for, in page order. A locked value is always shown (read-only)."""
    locked = known.locked() if known is not None else {}
    return [field for field in FIELDS if mode_of(form, field) != FieldMode.OFF or field.name in locked]
