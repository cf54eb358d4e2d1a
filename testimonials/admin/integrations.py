"""REST API keys: owners create them (the key is shown once), see when each was last used, revoke them."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse

from testimonials.admin.scoping import OWNER_ROLES, BrandScopedAdmin, ScopedModelForm
from testimonials.errors import ApplicationError
from testimonials.models import ApiKey
from testimonials.services.api_keys import api_key_create, api_key_revoke

NEW_KEY_SESSION = "vouch_new_api_key"


class ApiKeyForm(ScopedModelForm):
    class Meta:
        model = ApiKey
        fields = ["brand", "name"]


@admin.register(ApiKey)
class ApiKeyAdmin(BrandScopedAdmin):
    view_roles = OWNER_ROLES
    edit_roles = OWNER_ROLES
    form = ApiKeyForm
    list_display = ["name", "brand", "shown_prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    actions = ["revoke_selected"]

    @admin.display(description="Key")
    def shown_prefix(self, key: ApiKey) -> str:
        return f"vk_{key.prefix}_…"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("brand", "created_by")

    def get_readonly_fields(self, request, obj=None):
        # A key is never edited: its secret is gone once shown; revoke and create another.
        return ["brand", "name", "created_by", "last_used_at", "revoked_at"] if obj else []

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead, so "last used" stays visible

    def save_model(self, request, obj, form, change):
        if change:
            return
        try:
            key, raw = api_key_create(brand=form.cleaned_data["brand"], actor=request.user, name=obj.name)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        obj.pk, obj.prefix, obj.created_by, obj.created_at = key.pk, key.prefix, key.created_by, key.created_at
        # The raw key waits in the server-side session (only its id travels in the cookie) until the
        # key's page shows it once; never in a message, whose default storage is a readable cookie.
        request.session[NEW_KEY_SESSION] = {"id": key.pk, "raw": raw}

    def response_add(self, request, obj, post_url_continue=None):
        if request.session.get(NEW_KEY_SESSION, {}).get("id") != obj.pk:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, "API key created. Copy it now: it is shown on this page once.", messages.WARNING)
        return HttpResponseRedirect(reverse("admin:testimonials_apikey_change", args=[obj.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        pending = request.session.get(NEW_KEY_SESSION)
        if pending and str(pending.get("id")) == str(object_id):
            extra_context["new_api_key"] = request.session.pop(NEW_KEY_SESSION)["raw"]  # shown once
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Revoke selected keys")
    def revoke_selected(self, request, queryset):
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(key=key, actor=request.user)
        self.message_user(request, "Revoked. Calls with those keys now get 401.", messages.SUCCESS)
