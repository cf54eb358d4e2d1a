"""Why a file was refused, in words the customer or an admin can act on."""

from __future__ import annotations

from testimonials.errors import ApplicationError


class MediaRejected(ApplicationError):
    """The file itself is the problem (hostile, broken, too big, wrong kind): retrying will not help.

    `reason` is a sentence for people; `code` is stable for code and tests (e.g. "too_many_pixels").
    """

    def __init__(self, reason: str, *, code: str, field: str | None = None):
        super().__init__(reason, field=field, code=code)
        self.reason = reason


class MediaTimeout(Exception):
    """A media tool ran past its time limit. Possibly load, possibly a hostile file: retry a bounded number of times."""
