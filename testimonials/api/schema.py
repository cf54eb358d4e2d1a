"""OpenAPI generation (drf-spectacular): every operation documents its problem-details errors, and the
API key is a bearer scheme. The schema is generated from the real views at /api/schema/."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from testimonials.api.problems import PROBLEM_CONTENT_TYPE

PUBLIC_ID_PATTERN = r"^[A-Za-z0-9_-]{1,16}$"


class PublicIdConverter:
    """`<pid:...>` in API paths: a public id's characters only, so a NUL byte or a slash never reaches a query."""

    regex = "[A-Za-z0-9_-]{1,16}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


SLUG_PATTERN = r"^[-a-zA-Z0-9_]{1,60}$"


class ProblemOutput(serializers.Serializer):
    """An error (RFC 9457 problem details)."""

    type = serializers.CharField(help_text="urn:vouch:problem:<code>, e.g. urn:vouch:problem:invalid")
    title = serializers.CharField(help_text="The HTTP status phrase.")
    status = serializers.IntegerField()
    detail = serializers.CharField(help_text="What went wrong, for a person to read.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Invalid input only: messages per field.",
    )


ERRORS = {
    "400": "The input is not valid (see `errors`), or a business rule refused it.",
    "401": "No API key, or an unknown or revoked one.",
    "403": "The key's role may not do this (viewers read; editors moderate; owners manage webhooks).",
    "404": "No such resource in the key's brand.",
    "415": "The body is not JSON (or multipart, where the operation takes a file).",
    "429": "Too many calls; wait for `Retry-After` seconds.",
}


class VouchAutoSchema(AutoSchema):
    def map_parsers(self):
        # Bodies are documented as JSON (form posts are accepted too, for curl -d); an upload documents multipart.
        parsers = super().map_parsers()
        return ["application/json"] if "application/json" in parsers else parsers

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, description in ERRORS.items():
            if code not in responses:
                response = self._get_response_for_code(ProblemOutput, code, [PROBLEM_CONTENT_TYPE], direction)
                response["description"] = description
                responses[code] = response
        return responses


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "testimonials.api.auth.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "vk_<prefix>_<secret>",
            "description": "An API key (admin: API keys, or `manage.py api_key create`). It acts for one brand "
            "with its creator's role.",
        }


def forbid_unknown_fields(result, generator, request, public):
    """Request bodies list every field they take: an unknown one (a typo, "ratting") is refused, not ignored
    (StrictInput), and the schema says so."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    return result
