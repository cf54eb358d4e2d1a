"""One error shape for the whole API: problem details (RFC 9457), `application/problem+json`.

    {"type": "urn:vouch:problem:invalid", "title": "Bad Request", "status": 400,
     "detail": "Some fields are not valid.", "errors": {"rating": ["Ensure this value is less than or equal to 5."]}}

`errors` appears only for invalid input, one list of messages per field ("non_field_errors" for the
request as a whole). Business refusals from services (ApplicationError) come out the same way.
"""

from __future__ import annotations

from http import HTTPStatus

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from testimonials import errors
from testimonials.outages import is_infrastructure_error

PROBLEM_CONTENT_TYPE = "application/problem+json"


def _problem(status: int, code: str, detail: str, field_errors: dict | None = None) -> dict:
    body = {
        "type": f"urn:vouch:problem:{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if field_errors:
        body["errors"] = field_errors
    return body


def _field_errors(detail) -> dict[str, list[str]]:
    """DRF's nested error detail as {field: [messages]}; nested fields are joined with dots."""
    flat: dict[str, list[str]] = {}

    def walk(value, prefix: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{prefix}.{key}" if prefix else str(key))
        elif isinstance(value, list):
            if all(not isinstance(v, dict | list) for v in value):
                flat.setdefault(prefix or "non_field_errors", []).extend(str(v) for v in value)
            else:
                for index, inner in enumerate(value):
                    walk(inner, f"{prefix}.{index}" if prefix else str(index))
        else:
            flat.setdefault(prefix or "non_field_errors", []).append(str(value))

    walk(detail, "")
    return flat


def _from_application_error(exc: errors.ApplicationError) -> exceptions.APIException:
    if isinstance(exc, errors.PermissionDenied):
        return exceptions.PermissionDenied(exc.message)
    if isinstance(exc, errors.NotFound):
        return exceptions.NotFound(exc.message)
    if exc.field:
        return exceptions.ValidationError({exc.field: [exc.message]}, code=exc.code)
    return exceptions.ValidationError({"non_field_errors": [exc.message]}, code=exc.code)


def problem_exception_handler(exc, context):
    """DRF's handler (headers, rollback), with every error body in the problem shape."""
    if is_infrastructure_error(exc):
        # The database or the queue is down for a moment (a restart, a failover): a client should
        # retry, not file a bug. The transaction was rolled back; the outage is logged once per interval.
        body = _problem(503, "unavailable", "Vouch cannot reach its database right now. Try again in a minute.")
        return Response(body, status=503, headers={"Retry-After": "30"}, content_type=PROBLEM_CONTENT_TYPE)
    if isinstance(exc, errors.ApplicationError):
        code = exc.code
        exc = _from_application_error(exc)
    else:
        code = None
    if isinstance(exc, DjangoValidationError):
        # A model's full_clean() in a service: the same 400 as a serializer's.
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API error: a bug, which Django answers with a 500 and logs
    if isinstance(exc, exceptions.ValidationError):
        body = _problem(
            response.status_code, code or "invalid", "Some fields are not valid.", _field_errors(exc.detail)
        )
        messages = body["errors"]
        if list(messages) == ["non_field_errors"] and len(messages["non_field_errors"]) == 1:
            body["detail"] = messages["non_field_errors"][0]
    else:
        detail = (
            exc.detail
            if isinstance(exc.detail, str)
            else "; ".join(_field_errors(exc.detail).get("non_field_errors", []))
        )
        problem_code = code or (exc.get_codes() if isinstance(exc.get_codes(), str) else "error")
        body = _problem(response.status_code, problem_code, str(detail) or HTTPStatus(response.status_code).phrase)
    return Response(
        body, status=response.status_code, headers=dict(response.headers), content_type=PROBLEM_CONTENT_TYPE
    )


@csrf_exempt  # the API takes no cookies' word for anything; a POST to a wrong URL is a 404 like a GET
def api_not_found(request, exception=None):
    """Unknown URLs under /api/ answer in the same shape (a path no route matches, e.g. an id with a slash)."""
    body = _problem(404, "not_found", "There is no such resource.")
    return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE)
