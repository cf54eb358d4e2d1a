"""Reading an uploaded export into reviews, one at a time, with every problem said in words. Pure: no database.

CSV is streamed (constant memory whatever the file size); JSON is parsed whole (files are capped by
VOUCH_IMPORT_MAX_BYTES). Each review is checked against the customer fields' declaration
(collection/fields.py): lengths, an email that is an email, links that are https.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from testimonials.collection.fields import BY_NAME
from testimonials.imports.presets import Preset, normalise

TEXT_MAX = 20_000  # the pipeline caps what it analyses; a review longer than this is not a review
_WORD_STARS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_GOOGLE_ORIGINAL = re.compile(r"\(Translated by Google\).*?\(Original\)\s*", re.DOTALL | re.IGNORECASE)
_csv_field_limit_set = False


class FileProblem(ValueError):
    """The file as a whole cannot be read with this preset (wrong format, no usable column)."""


@dataclass
class ImportedReview:
    number: int  # 1 is the first review in the file
    author_name: str = ""
    author_email: str = ""
    author_title: str = ""
    author_company: str = ""
    author_url: str = ""
    rating: int | None = None
    text: str = ""
    written_at: datetime | None = None
    platform: str = ""
    source_url: str = ""
    external_id: str = ""
    media: list[tuple[str, str]] = field(default_factory=list)  # (kind, url)
    problem: str = ""  # why this row cannot be imported; empty when it can
    notes: list[str] = field(default_factory=list)  # what was left out, for the row's report

    def key(self) -> str:
        """Identifies the review within a brand, so the same file uploaded twice imports it once."""
        if self.external_id:
            basis = f"{self.platform}|id|{self.external_id}"
        else:
            when = self.written_at.isoformat() if self.written_at else ""
            basis = f"{self.platform}|{self.author_name.casefold()}|{when}|{self.rating}|{' '.join(self.text.split())}"
        return hashlib.sha256(basis.encode()).hexdigest()


# --------------------------------------------------------------------------- values


def parse_rating(value) -> int | None:
    """1 to 5 stars from "5", 5, "5.0", "FIVE" (Google), "★★★★☆"; None when empty; ValueError otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError("not a rating")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip().lower()
        if text in _WORD_STARS:
            return _WORD_STARS[text]
        if text and set(text) <= {"★", "☆"}:
            number = float(text.count("★"))
        else:
            text = text.removesuffix("stars").removesuffix("star").strip().replace(",", ".")
            number = float(text)  # ValueError for words
    if number != int(number) or not 1 <= number <= 5:
        raise ValueError("not a whole number of stars from 1 to 5")
    return int(number)


def parse_when(value) -> datetime:
    """An aware datetime from ISO 8601, "2024-05-01 10:00:00 UTC", a date, or a Unix time; ValueError otherwise.

    Day/month orders are not guessed: 03/04/2024 is refused, 13/04/2024 and 2024/04/13 are read.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value) / (1000 if value > 10**11 else 1), tz=UTC)
    text = str(value).strip()
    if re.fullmatch(r"\d{9,13}", text):
        return parse_when(int(text))
    text = re.sub(r"\s*(UTC|GMT|Z)$", "+00:00", text, flags=re.IGNORECASE)
    slashed = re.fullmatch(r"(\d{1,4})[/.](\d{1,2})[/.](\d{1,4})(.*)", text)
    if slashed:
        a, b, c, rest = slashed.groups()
        if len(a) == 4:
            year, month, day = int(a), int(b), int(c)
        elif int(a) > 12 >= int(b):
            day, month, year = int(a), int(b), int(c)
        elif int(b) > 12 >= int(a):
            month, day, year = int(a), int(b), int(c)
        else:
            raise ValueError("ambiguous day and month")
        text = f"{year:04d}-{month:02d}-{day:02d}{rest}"
    moment = parse_datetime(text.replace(" ", "T", 1) if re.match(r"\d{4}-\d\d-\d\d \d", text) else text)
    if moment is None:
        day_only = parse_date(text)
        if day_only is None:
            raise ValueError("not a date")
        moment = datetime(day_only.year, day_only.month, day_only.day)
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return moment


_email = EmailValidator()
_https = URLValidator(schemes=["https"])


def _link(value: str) -> str:
    try:
        _https(value)
    except ValidationError:
        return ""
    return value


# --------------------------------------------------------------------------- files


def _text_stream(raw: IO[bytes]) -> io.TextIOBase:
    """UTF-8 (with or without a BOM), else Windows-1252 (what Excel writes), decoded as the file streams in."""
    head = raw.read(65536)
    raw.seek(0)
    try:
        head.decode("utf-8-sig")
        encoding = "utf-8-sig"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the 64 KB boundary is still UTF-8.
        encoding = "utf-8-sig" if exc.start >= len(head) - 3 else "cp1252"
    return io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")


def _csv_rows(raw: IO[bytes]) -> Iterator[dict[str, str]]:
    global _csv_field_limit_set
    if not _csv_field_limit_set:
        csv.field_size_limit(4 * TEXT_MAX)  # a cell longer than this stops the reader with a clear error
        _csv_field_limit_set = True
    text = _text_stream(raw)
    sample = text.read(16384)
    text.seek(0)
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(text, dialect)
    try:
        header = next(reader)
    except StopIteration as exc:
        text.detach()
        raise FileProblem("The file is empty.") from exc
    names = [normalise(name) for name in header]
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # blank lines at the end of spreadsheets
            yield dict(zip(names, row, strict=False))
    finally:
        try:
            text.detach()  # leave the caller's file open: closing the wrapper would close it
        except ValueError:
            pass  # the caller closed it already


def _dig(document, path: str):
    value = document
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _json_rows(raw: IO[bytes], preset: Preset) -> Iterator[dict]:
    try:
        document = json.loads(codecs.decode(raw.read(), "utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise FileProblem(f"This is not a JSON file ({str(exc)[:120]}).") from exc
    items = document
    if isinstance(document, dict):
        items = next((document[k] for k in preset.items_at if isinstance(document.get(k), list)), None)
    if not isinstance(items, list):
        where = " or ".join(f'"{k}"' for k in preset.items_at) or "the top level"
        raise FileProblem(f"No list of reviews found (looked at {where}).")
    for item in items:
        yield item if isinstance(item, dict) else {}


def _cell(row: dict, preset: Preset, target: str):
    for alias in preset.columns.get(target, ()):
        if preset.format == "json":
            value = _dig(row, alias)
            if value is None and isinstance(row, dict):
                # Plain JSON keys may be spelled like the CSV headers ("Review Title", "review_title").
                value = next((v for k, v in row.items() if normalise(k) == normalise(alias)), None)
        else:
            value = row.get(normalise(alias))
        if value not in (None, ""):
            return value
    return None


def _string(value) -> str:
    if value is None:
        return ""
    return str(value).replace("\x00", "").strip()


def read_reviews(raw: IO[bytes], preset: Preset) -> Iterator[ImportedReview]:
    """Every review of the file, in order; rows that cannot be imported carry their `problem`.

    Raises FileProblem when the file as a whole does not fit the preset.
    """
    rows = _json_rows(raw, preset) if preset.format == "json" else _csv_rows(raw)
    checked_columns = False
    for number, row in enumerate(rows, start=1):
        if not checked_columns and preset.format == "csv":
            _check_columns(row, preset)
            checked_columns = True
        yield _review(number, row, preset)


def _check_columns(row: dict, preset: Preset) -> None:
    """The file must have an author column this preset reads, and a rating or a text column."""
    names = set(row)

    def has(target: str) -> bool:
        return any(normalise(alias) in names for alias in preset.columns.get(target, ()))

    if not has("author_name") or not (has("rating") or has("text")):
        wanted = [*preset.columns["author_name"][:2], *preset.columns["rating"][:1], *preset.columns["text"][:1]]
        raise FileProblem(
            f"None of this file's columns are ones the {preset.label} preset reads for the author and the review "
            f"(it reads e.g. {', '.join(wanted)}). Is it the right preset?"
        )


def _review(number: int, row: dict, preset: Preset) -> ImportedReview:
    review = ImportedReview(number=number)
    get = lambda target: _cell(row, preset, target)  # noqa: E731
    review.platform = _string(get("platform"))[:40] or preset.platform
    review.external_id = _string(get("external_id"))[:200]
    for name in ("author_name", "author_title", "author_company"):
        value = " ".join(_string(get(name)).split())
        limit = BY_NAME[name].max_length
        if len(value) > limit:
            review.problem = f"The {BY_NAME[name].noun.removeprefix('your ')} is longer than {limit} characters."
            return review
        setattr(review, name, value)
    email = _string(get("author_email"))
    if email:
        try:
            _email(email)
            review.author_email = email[: BY_NAME["author_email"].max_length]
        except ValidationError:
            review.notes.append("The email is not an email address; left out.")
    review.author_url = _link(_string(get("author_url"))[:200])
    review.source_url = _link(_string(get("source_url"))[:500])
    title, text = _string(get("title")), _string(get("text"))
    if preset.code == "google":
        text = _GOOGLE_ORIGINAL.sub("", text).strip()  # the customer's own words, not Google's translation
    if title and title.rstrip(".!…") not in text:
        text = f"{title}\n\n{text}".strip()
    if len(text) > TEXT_MAX:
        review.problem = f"The text is longer than {TEXT_MAX} characters."
        return review
    review.text = text
    try:
        review.rating = parse_rating(get("rating"))
    except (ValueError, TypeError, OverflowError):
        review.problem = f"The rating {_string(get('rating'))[:20]!r} is not a whole number of stars from 1 to 5."
        return review
    raw_date = get("date")
    if raw_date not in (None, ""):
        try:
            review.written_at = parse_when(raw_date)
        except (ValueError, TypeError, OverflowError, OSError) as exc:
            shown = _string(raw_date)[:40]
            if "ambiguous" in str(exc):
                review.problem = f"The date {shown!r} could be read two ways (day or month first): use 2024-05-31."
            else:
                review.problem = f"The date {shown!r} is not a date (use 2024-05-31 or ISO 8601)."
            return review
        if review.written_at > timezone.now() + timedelta(days=1):
            review.problem = "The date is in the future."
            return review
    for kind, target in (("avatar", "avatar_url"), ("photo", "photo_url"), ("video", "video_url")):
        urls = [u.strip() for u in re.split(r"[,\s]+", _string(get(target))) if u.strip()]
        if urls:
            review.media.append((kind, urls[0]))
    if not review.author_name:
        review.problem = "No author name."
    elif review.rating is None and not review.text:
        review.problem = "Neither a rating nor a text."
    return review


def count_reviews(raw: IO[bytes], preset: Preset) -> int:
    """How many rows the file has (for the progress bar), reading it once without keeping it."""
    if preset.format == "json":
        return sum(1 for _ in _json_rows(raw, preset))
    return sum(1 for _ in _csv_rows(raw))
