"""POST /api/v1/invitations/: a shop invites its customers as orders are fulfilled.

    curl -X POST -H "Authorization: Bearer vk_..." -H "Content-Type: application/json" \
         -d '{"campaign": "CAMPAIGN_ID", "customers": [{"email": "ada@example.com", "name": "Ada",
              "order_id": "1042", "order_date": "2024-05-31", "product": "Espresso beans"}]}' \
         https://vouch.example.com/api/v1/invitations/

Idempotent per campaign and address: posting the same customer again adds nothing and says so.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound as DrfNotFound
from rest_framework.exceptions import PermissionDenied as DrfPermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from testimonials import errors
from testimonials.api.auth import api_brands
from testimonials.api.serializers import StrictInput
from testimonials.invitations.selectors import campaign_get_in_brands
from testimonials.invitations.services import Customer, invitations_add

MAX_CUSTOMERS = 1000


class CustomerInput(StrictInput):
    # Addresses are checked by the service, so a bad one is reported for its item, not as a 400.
    email = serializers.CharField(max_length=320, allow_blank=True, trim_whitespace=True)
    name = serializers.CharField(max_length=120, allow_blank=True, required=False, default="")
    order_id = serializers.CharField(max_length=64, allow_blank=True, required=False, default="")
    order_date = serializers.DateField(required=False, allow_null=True, default=None)
    product = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    locale = serializers.RegexField(
        r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$", max_length=16, allow_blank=True, required=False, default=""
    )


class InvitationsInput(StrictInput):
    campaign = serializers.CharField(max_length=16)
    customers = serializers.ListField(child=CustomerInput(), min_length=1, max_length=MAX_CUSTOMERS)


class InvitedItemOutput(serializers.Serializer):
    item = serializers.IntegerField(help_text="Its position in `customers`, from 1.")
    email = serializers.CharField()
    status = serializers.ChoiceField(choices=["queued", "refused"])
    invitation = serializers.CharField(required=False, help_text="The invitation's id (queued only).")
    problem = serializers.CharField(required=False, help_text="Why not (refused only): duplicate, suppressed, ...")
    message = serializers.CharField(required=False, allow_blank=True)


class InvitationsOutput(serializers.Serializer):
    campaign = serializers.CharField()
    added = serializers.IntegerField()
    customers = InvitedItemOutput(many=True)


class InvitationCreateApi(APIView):
    @extend_schema(
        operation_id="invitations_create",
        request=InvitationsInput,
        responses={201: InvitationsOutput, 200: InvitationsOutput},
        tags=["invitations"],
        description="Invite customers to a campaign (201 when some were added, 200 when none were). Idempotent per "
        "campaign and address: posting the same customer again adds nothing and says so per item.",
    )
    def post(self, request):
        data = InvitationsInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            campaign = campaign_get_in_brands(brands=api_brands(request), public_id=data.validated_data["campaign"])
            customers = [
                Customer(**item, row_number=index + 1) for index, item in enumerate(data.validated_data["customers"])
            ]
            result = invitations_add(campaign=campaign, customers=customers, actor=request.user)
        except errors.NotFound as exc:
            raise DrfNotFound(exc.message) from exc
        except errors.PermissionDenied as exc:
            raise DrfPermissionDenied(exc.message) from exc
        added = {r.row_number: r for r in result.added}
        problems = {issue.row_number: issue for issue in result.issues}
        items = []
        for index, customer in enumerate(customers, start=1):
            if index in added:
                items.append(
                    {"item": index, "email": customer.email, "status": "queued", "invitation": added[index].public_id}
                )
            else:
                issue = problems.get(index)
                items.append(
                    {"item": index, "email": customer.email, "status": "refused",
                     "problem": issue.kind if issue else "duplicate", "message": issue.message if issue else ""}
                )  # fmt: skip
        code = status.HTTP_201_CREATED if result.added else status.HTTP_200_OK
        return Response({"campaign": campaign.public_id, "added": len(result.added), "customers": items}, status=code)
