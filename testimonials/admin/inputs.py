"""Form fields that let brands type lists the way they think of them: one item per line, never JSON."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile

from testimonials.media.errors import MediaRejected
from testimonials.media.images import make_image_renditions
from testimonials.security import origins_from_lines


class LinesField(forms.Field):
    """A list of strings typed one per line; empty lines are dropped, repeats kept once."""

    widget = forms.Textarea(attrs={"rows": 4, "cols": 60, "spellcheck": "false"})

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(str(v) for v in value)
        return value or ""

    def to_python(self, value) -> list[str]:
        if isinstance(value, list | tuple):
            return [str(v) for v in value]
        seen: list[str] = []
        for line in (value or "").splitlines():
            if line.strip() and line.strip() not in seen:
                seen.append(line.strip())
        return seen

    def has_changed(self, initial, data) -> bool:
        return self.to_python(initial) != self.to_python(data)


class OriginsField(LinesField):
    """Sites that may show a widget or form, one per line, as people type them ("shop.example.com",
    "127.0.0.2:8080"), stored as the origins browsers compare. A line that is not a site is refused
    with the reason, never silently ignored."""

    def to_python(self, value) -> list[str]:
        if isinstance(value, list | tuple):
            value = "\n".join(str(v) for v in value)
        origins, problems = origins_from_lines(value or "")
        if problems:
            raise ValidationError(problems)
        return origins


class CleanLogoMixin:
    """A logo upload is re-encoded from its pixels (WebP, transparency kept, no metadata) before it is
    stored and served: an uploaded file is never served as it came (a PNG can hide HTML)."""

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if not isinstance(logo, UploadedFile):
            return logo  # unchanged, or cleared
        try:
            logo.seek(0)
            result = make_image_renditions(logo, kind="logo")
        except MediaRejected as refused:
            raise ValidationError(refused.reason) from None
        webp = next(r for r in result.renditions if r.format == "webp")
        return ContentFile(webp.content, name="logo.webp")
