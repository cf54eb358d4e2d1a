"""The one family of business errors. Views turn them into clear messages."""


class ApplicationError(Exception):
    """A business rule said no. `message` is written for the person who caused it."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


class NotFound(ApplicationError):
    def __init__(self, message: str = "Not found."):
        super().__init__(message, code="not_found")


class PermissionDenied(ApplicationError):
    def __init__(self, message: str = "You do not have permission to do that."):
        super().__init__(message, code="permission_denied")


class InvalidTransition(ApplicationError):
    def __init__(self, message: str):
        super().__init__(message, code="invalid_transition")
