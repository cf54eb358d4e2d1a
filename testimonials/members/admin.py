"""Owners invite people to their brand's team and see, and revoke, pending invitations."""

from __future__ import annotations

from django.contrib import admin, messages

from testimonials.admin.scoping import OWNER_ROLES, BrandFilter, BrandScopedAdmin, ScopedModelForm
from testimonials.errors import ApplicationError
from testimonials.members.models import MemberInvitation
from testimonials.members.services import member_invitation_revoke, member_invite


class MemberInvitationForm(ScopedModelForm):
    class Meta:
        model = MemberInvitation
        fields = ["brand", "email", "role"]


@admin.register(MemberInvitation)
class MemberInvitationAdmin(BrandScopedAdmin):
    view_roles = OWNER_ROLES
    edit_roles = OWNER_ROLES
    form = MemberInvitationForm
    list_display = ["email", "brand", "role", "invited_by", "created_at", "expires_at", "shown_status"]
    list_filter = [BrandFilter]
    actions = ["revoke_selected"]

    @admin.display(description="Status")
    def shown_status(self, invitation: MemberInvitation) -> str:
        return invitation.status

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("brand", "invited_by")

    def get_readonly_fields(self, request, obj=None):
        return ["brand", "email", "role", "invited_by", "expires_at", "accepted_at", "revoked_at"] if obj else []

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the list keeps who was asked

    def save_model(self, request, obj, form, change):
        if change:
            return
        try:
            invitation = member_invite(
                brand=form.cleaned_data["brand"], email=obj.email, role=obj.role, actor=request.user
            )
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        obj.pk, obj.expires_at, obj.created_at = invitation.pk, invitation.expires_at, invitation.created_at
        # The same words whether or not the address has an account: no account oracle.
        self.message_user(request, f"Invitation sent to {invitation.email}. They join once they accept it.")

    @admin.action(description="Revoke selected invitations")
    def revoke_selected(self, request, queryset):
        for invitation in queryset:
            member_invitation_revoke(invitation=invitation, actor=request.user)
        self.message_user(request, "Revoked: those links no longer work.", messages.SUCCESS)
