"""Reading a brand's customer list: encoding and delimiter detection, columns mapped by header, one
customer per row with the reason when a row cannot be used. Streams: memory stays flat whatever the size."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

# What a column can be mapped to, with the label the mapping form shows.
COLUMNS: dict[str, str] = {
    "email": "Email (required)",
    "name": "Name",
    "first_name": "First name",
    "last_name": "Last name",
    "order_id": "Order id",
    "order_date": "Order date",
    "product": "Product",
    "locale": "Locale (language)",
}
# Headers shops and spreadsheets use for each, compared lower case with punctuation as spaces.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": ("email", "e mail", "email address", "e mail address", "mail", "customer email", "emailaddress"),
    "name": ("name", "full name", "customer", "customer name", "client", "client name", "contact", "contact name"),
    "first_name": ("first name", "firstname", "given name", "first"),
    "last_name": ("last name", "lastname", "surname", "family name", "last"),
    "order_id": (
        "order id", "order", "order number", "order no", "order nr", "order ref", "order reference", "orderid",
    ),
    "order_date": (
        "order date", "date", "purchase date", "ordered at", "ordered on", "order created at", "created at",
        "fulfilled at", "fulfillment date", "delivery date", "delivered at",
    ),
    "product": ("product", "product name", "item", "item name", "product title", "title"),
    "locale": ("locale", "language", "lang", "language code"),
}  # fmt: skip
HEAD_BYTES = 64 * 1024
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$")


class CsvProblem(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Shape:
    encoding: str
    delimiter: str
    headers: list[str]


def normalise_header(header: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", header.lower()).split())


def guess_mapping(headers: list[str]) -> dict[str, str]:
    """Column for each field, from the headers' names; a header maps to one field at most."""
    normalised = {normalise_header(h): h for h in reversed(headers)}
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for column, names in SYNONYMS.items():
        for name in names:
            header = normalised.get(name)
            if header is not None and header not in used:
                mapping[column] = header
                used.add(header)
                break
    return mapping


def _encoding(head: bytes) -> str:
    """UTF-8 (with or without a BOM) when the start decodes as UTF-8, else Windows-1252 (Excel's)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the sample
            return "cp1252"
    return "utf-8"


def shape_of(raw: BinaryIO) -> Shape:
    """Encoding, delimiter and header row of a CSV file (read from its start; the file is rewound)."""
    head = raw.read(HEAD_BYTES)
    raw.seek(0)
    if not head.strip():
        raise CsvProblem("The file is empty.")
    if b"\x00" in head:
        raise CsvProblem("This is not a CSV file (it contains binary data). Export the sheet as CSV.")
    encoding = _encoding(head)
    sample = head.decode(encoding, errors="replace")
    try:
        delimiter = csv.Sniffer().sniff(sample.split("\n", 20)[0] if "\n" in sample else sample, ",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    headers = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
    headers = [h.strip() for h in headers]
    if not any(headers):
        raise CsvProblem("The first row must name the columns (Email, Name, ...).")
    if len(set(headers)) != len(headers):
        raise CsvProblem("Two columns have the same name in the first row: give each its own.")
    return Shape(encoding=encoding, delimiter=delimiter, headers=headers)


def rows(raw: BinaryIO, shape: Shape) -> Iterator[tuple[int, list[str]]]:
    """(row number as a spreadsheet shows it, cells) for every data row; the header is row 1."""
    text = io.TextIOWrapper(raw, encoding=shape.encoding, errors="replace", newline="")
    reader = csv.reader(text, delimiter=shape.delimiter)
    next(reader, None)
    for index, cells in enumerate(reader):
        yield index + 2, cells
    text.detach()


def count_rows(raw: BinaryIO, shape: Shape) -> int:
    return sum(1 for _ in rows(raw, shape))


@dataclass(frozen=True)
class Cells:
    """One row's values by field, read through the mapping."""

    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "")


def read_cells(cells: list[str], shape: Shape, mapping: dict[str, str]) -> Cells:
    index = {header: i for i, header in enumerate(shape.headers)}
    values = {}
    for column, header in mapping.items():
        i = index.get(header)
        if i is not None and i < len(cells):
            values[column] = cells[i].strip()
    return Cells(values)


def is_blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def parse_date(value: str) -> date | None:
    """An ISO date (2024-05-31, or the date part of an ISO timestamp); None when empty; CsvProblem otherwise."""
    if not value:
        return None
    found = _ISO_DATE.match(value.strip())
    if found:
        try:
            return date(int(found[1]), int(found[2]), int(found[3]))
        except ValueError:
            pass
    raise CsvProblem(f"Write the order date as YYYY-MM-DD (like 2024-05-31), not {value[:40]!r}.")


def parse_locale(value: str) -> str:
    if not value:
        return ""
    if not _LOCALE.match(value) or len(value) > 16:
        raise CsvProblem(f"{value[:20]!r} is not a language code (like en, de or pt-BR).")
    return value.replace("_", "-")
