"""The moderation queue, the testimonial page, bulk and per-row decisions, exports and the dashboard.

Testimonials are never changed by saving a form here: the page is read-only and every decision
goes through testimonials.services.moderation, which checks the role, writes a ModerationEvent and
republishes the brand's widgets.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timesince import timesince

from testimonials.admin import dashboard, display, exports
from testimonials.admin.actions import REASON_MAX_LENGTH, REJECT_REASONS, DecisionActionsMixin
from testimonials.admin.filters import (
    FeaturedFilter,
    FlagFilter,
    FormFilter,
    MediaFilter,
    QueueFilter,
    RatingFilter,
    SentimentFilter,
    TagFilter,
    TopicFilter,
    is_queue,
)
from testimonials.admin.scoping import BrandFilter, BrandScopedAdmin, ReadOnlyMixin, roles_for, scope
from testimonials.errors import ApplicationError
from testimonials.influence import admin_views as influence_admin
from testimonials.insights.selectors import (
    tag_suggestions_for_testimonial,
    topic_labels_for_brands,
    topic_stats_for_brands,
)
from testimonials.insights.services import testimonial_accept_topic_tag
from testimonials.models import AuditEvent, Brand, MediaAsset, Testimonial
from testimonials.moderation import flags as flag_codes
from testimonials.moderation import sentiment, topics
from testimonials.moderation.language import language_name
from testimonials.selectors import (
    EDIT_ROLES,
    dashboard_stats_for_brands,
    testimonial_flagged_expression,
    testimonial_list_moderation_queue,
)
from testimonials.services.decisions import (
    DECISIONS,
    testimonial_approve,
    testimonial_edit,
    testimonial_reject,
    testimonial_set_featured,
    testimonial_unpublish,
)

State = Testimonial.State
# The decisions a person may take from each state, as the services allow them (TRANSITIONS).
DECIDABLE = {verb: decision.sources for verb, decision in DECISIONS.items()}


class AuditEventInline(ReadOnlyMixin, admin.TabularInline):
    """The audit trail, read-only: append-only by design."""

    model = AuditEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "actor_kind", "actor", "action", "from_state", "to_state", "reasons", "note"]
    readonly_fields = fields
    ordering = ["created_at", "id"]
    verbose_name_plural = "Audit trail"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_view_permission(self, request, obj=None):
        return True  # the parent page is already scoped to the user's brands


@admin.register(Testimonial)
class TestimonialAdmin(ReadOnlyMixin, DecisionActionsMixin, BrandScopedAdmin):
    # Source and age sit under the author so the decision buttons fit beside the admin's sidebar.
    list_display = ["author", "rating_col", "excerpt_col", "media_col", "state_col"]
    list_display_links = ["author"]
    list_filter = [
        QueueFilter,
        BrandFilter,
        RatingFilter,
        SentimentFilter,
        TopicFilter,
        MediaFilter,
        FlagFilter,
        TagFilter,
        FormFilter,
        FeaturedFilter,
        "source",
        ("created_at", admin.DateFieldListFilter),
    ]
    search_fields = ["author_name", "author_email", "author_company", "text", "=public_id"]
    list_per_page = 50
    show_full_result_count = False  # a second COUNT over every row the user may see: too slow at 100k
    show_facets = admin.ShowFacets.NEVER  # ~35 COUNTs per page (1.5 s at 100k rows); the dashboard has the counts
    inlines = [AuditEventInline]
    fieldsets = [
        ("Decision", {"fields": ["state_col", "flags_col", "rejection_reason", "decided_at", "featured", "tags_col"]}),
        ("Testimonial", {"fields": ["stars_col", "text_col", "public_text_col", "highlight", "answers_col"]}),
        ("Media", {"fields": ["media_preview_col"]}),
        ("What it says", {"fields": ["sentiment_col", "sentiment_reason", "topics_col", "language_col"]}),
        ("Author", {"fields": ["author_name", "author_email", "author_title", "author_company", "author_url"]}),
        ("Consent", {"fields": ["consent_col", "marketing_consent"]}),
        (
            "Origin",
            {
                "fields": [
                    "brand",
                    "form",
                    "source",
                    "is_verified",
                    "is_incentivised",
                    "public_id",
                    "created_at",
                    "referral_code",
                    "referred_by",
                ]
            },
        ),
        ("Processing", {"fields": ["attempts", "last_error", "state_changed_at"], "classes": ["collapse"]}),
    ]
    change_list_template = "admin/testimonials/testimonial/change_list.html"
    change_form_template = "admin/testimonials/testimonial/change_form.html"

    # ------------------------------------------------------------------ queries

    def get_queryset(self, request):
        media = Prefetch("media", queryset=MediaAsset.objects.order_by("created_at"))
        return super().get_queryset(request).select_related("brand", "form").prefetch_related(media, "tags")

    def get_ordering(self, request):
        if is_queue(request):
            return [testimonial_flagged_expression().desc(), "created_at"]
        return ["-created_at"]

    def get_list_display(self, request):
        columns = list(self.list_display)
        roles = roles_for(request)
        if roles.many_brands:
            columns.insert(1, "brand")
        if roles.any(EDIT_ROLES):
            # Read, then decide: the buttons sit right after the text.
            columns.insert(columns.index("excerpt_col") + 1, self._decide_column(request))
        return columns

    def get_list_filter(self, request):
        return self.list_filter

    def get_readonly_fields(self, request, obj=None):
        return [f for fieldset in self.fieldsets for f in fieldset[1]["fields"]]

    # ------------------------------------------------------------------ columns

    @admin.display(description="Author · received", ordering="created_at")
    def author(self, obj):
        extra = ", ".join(x for x in (obj.author_title, obj.author_company) if x)
        badges = [
            label for flag, label in ((obj.is_verified, "verified"), (obj.is_incentivised, "incentivised")) if flag
        ]
        return format_html(
            '<span dir="auto">{}</span><br><small dir="auto">{}</small>{}<br>'
            '<small class="vouch-muted">{}, {} ago</small>',
            obj.author_name,
            extra,
            format_html_join("", ' <span class="vouch-badge">{}</span>', ((b,) for b in badges)),
            obj.get_source_display(),
            timesince(obj.created_at, depth=1),
        )

    @admin.display(description="Rating", ordering="rating")
    def stars_col(self, obj):
        return display.stars(obj.rating)

    @admin.display(description="Rating · sentiment", ordering="rating")
    def rating_col(self, obj):
        return format_html("{}<br>{}", display.stars(obj.rating), display.sentiment_badge(obj))

    @admin.display(description="Testimonial")
    def excerpt_col(self, obj):
        tags = format_html_join(" ", '<span class="vouch-tag">{}</span>', ((t.name,) for t in obj.tags.all()))
        return format_html(
            '<div class="vouch-excerpt" dir="auto">{}</div><div>{} {} {}{}</div>',
            display.excerpt(obj.text, obj.flags),
            display.flag_chips(obj.flags),
            # Built-in names; a brand's own topic shows its code as words (no query per row).
            display.topic_chips(obj.topics, topics.builtin_labels()),
            tags,
            format_html(' <span class="vouch-badge featured">{}</span>', "featured") if obj.featured else "",
        )

    @admin.display(description="Sentiment", ordering="sentiment_score")
    def sentiment_col(self, obj):
        return display.sentiment_badge(obj)

    @admin.display(description="Topics (what is said about each, the quote on hover)")
    def topics_col(self, obj):
        if not obj.topics:
            return "No topic found." if obj.sentiment_label != Testimonial.Sentiment.UNSCORED else "Not read."
        return display.topic_chips(obj.topics, topic_labels_for_brands([obj.brand_id]))

    @admin.display(description="Language")
    def language_col(self, obj):
        return language_name(obj.language) or "not sure"

    @admin.display(description="Media")
    def media_col(self, obj):
        return display.media_thumb(obj)

    @admin.display(description="State", ordering="state")
    def state_col(self, obj):
        return display.state_badge(obj)

    @admin.display(description="Flags: why it was held")
    def flags_col(self, obj):
        if not obj.flags:
            return "Nothing was flagged."
        linked = display.referenced_testimonials(obj)
        rows = [
            (
                flag_codes.label(f.get("code", "")),
                f.get("reason", ""),
                f.get("action", ""),
                display.evidence(f.get("evidence") or [], linked),
            )
            for f in obj.flags
            if isinstance(f, dict)
        ]
        return format_html(
            '<table class="vouch-flags"><thead><tr><th>Flag</th><th>Reason</th><th>Action</th><th>Evidence</th>'
            "</tr></thead><tbody>{}</tbody></table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.display(description="Original text (flagged words marked)")
    def text_col(self, obj):
        return format_html(
            '<div class="vouch-text" dir="auto">{}</div>', display.marked(obj.text, display.evidence_of(obj.flags))
        )

    @admin.display(description="Public text (as displayed, personal data redacted)")
    def public_text_col(self, obj):
        if not obj.public_text:
            return "Not produced yet."
        same = " (same as the original)" if obj.public_text == obj.text else " (edited: the original is kept above)"
        return format_html('<div class="vouch-text" dir="auto">{}</div><small>{}</small>', obj.public_text, same)

    @admin.display(description="Answers to the form's prompts")
    def answers_col(self, obj):
        answers = [(a.get("prompt", ""), a.get("answer", "")) for a in obj.answers or [] if isinstance(a, dict)]
        if not answers:
            return "—"
        return format_html("<dl>{}</dl>", format_html_join("", '<dt dir="auto">{}</dt><dd dir="auto">{}</dd>', answers))

    @admin.display(description="Tags")
    def tags_col(self, obj):
        return ", ".join(t.name for t in obj.tags.all()) or "—"

    @admin.display(description="Media")
    def media_preview_col(self, obj):
        assets = list(obj.media.all())
        if not assets:
            return "No photo or video."
        return format_html_join("", "{}", ((display.media_preview(a),) for a in assets))

    @admin.display(description="Consent record")
    def consent_col(self, obj):
        if not obj.consent_given:
            return format_html('<strong class="vouch-warn">{}</strong>', "No consent recorded: do not publish.")
        return format_html(
            "Given on {} to the text:<blockquote>{}</blockquote>", obj.consented_at, obj.consent_text or "(not kept)"
        )

    def _decide_column(self, request):
        roles = roles_for(request)
        # One reverse() per page, not two per row: the list renders 50 rows.
        base = reverse("admin:testimonials_testimonial_changelist")  # decide URLs are "<pk>/decide/<decision>/"

        def url(pk: int, decision: str) -> str:
            return f"{base}{pk}/decide/{decision}/"

        @admin.display(description="Decide")
        def decide(obj):
            if not roles.can(obj.brand_id, EDIT_ROLES):
                return ""
            buttons = []
            if obj.state in DECIDABLE["approve"]:
                buttons.append(
                    format_html(
                        '<button type="submit" class="button vouch-approve" formaction="{}" data-key="a" '
                        'aria-label="Approve {}">Approve</button>',
                        url(obj.pk, "approve"),
                        obj.author_name,
                    )
                )
            if obj.state in DECIDABLE["reject"]:
                buttons.append(
                    format_html(
                        '<span class="vouch-reject"><input type="text" name="reason-{}" class="vouch-reason" '
                        'list="vouch-reject-reasons" placeholder="Reason to reject" aria-label="Reason to reject {}">'
                        '<button type="submit" class="button vouch-reject-button" formaction="{}">Reject</button>'
                        "</span>",
                        obj.pk,
                        obj.author_name,
                        url(obj.pk, "reject"),
                    )
                )
            return format_html_join("", "{}", ((b,) for b in buttons))

        return decide

    # ------------------------------------------------------------------ views

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("dashboard/", view(self.dashboard_view), name="testimonials_testimonial_dashboard"),
            path("export.<str:fmt>", view(self.export_view), name="testimonials_testimonial_export"),
            path(
                "<int:object_id>/decide/<str:decision>/",
                view(self.decide_view),
                name="testimonials_testimonial_decide",
            ),
            path(
                "<int:object_id>/accept-tag/<str:code>/",
                view(self.accept_tag_view),
                name="testimonials_testimonial_accept_tag",
            ),
            path("<int:object_id>/edit-text/", view(self.edit_view), name="testimonials_testimonial_edit_text"),
            # Influence (testimonials/influence/admin_views.py): the share image and the reviewers table.
            path(
                "<int:object_id>/share-image.png",
                view(lambda request, object_id: influence_admin.share_image_download(self, request, object_id)),
                name="testimonials_testimonial_share_image",
            ),
            path(
                "reviewers/",
                view(lambda request: influence_admin.reviewers_view(self, request)),
                name="testimonials_testimonial_reviewers",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        queue = is_queue(request)
        extra = {
            "reject_reasons": REJECT_REASONS,
            "query_string": request.GET.urlencode(),
            "title": "Moderation queue" if queue else "Testimonials",
            "is_queue": queue,
            "can_moderate": roles_for(request).any(EDIT_ROLES),
        }
        return super().changelist_view(request, extra_context={**extra, **(extra_context or {})})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra = {"reject_reasons": REJECT_REASONS, "decisions": []}
        if object_id:
            item = self.get_object(request, object_id)
            extra["share"] = influence_admin.share_context(item) if item is not None else {}
            if item is not None and roles_for(request).can(item.brand_id, EDIT_ROLES):
                extra["decisions"] = [d for d, states in DECIDABLE.items() if item.state in states]
                extra["can_moderate"] = True
                extra["featured"] = item.featured
                extra["tag_suggestions"] = tag_suggestions_for_testimonial(testimonial=item)
                extra["edit_text"] = item.public_text or item.text
                # Quotable sentences, concrete outcomes first (moderation/sentiment.py), then the others.
                ranked = sentiment.highlight_candidates(extra["edit_text"], limit=8)
                others = [s for s in display.sentences(extra["edit_text"]) if s not in ranked]
                extra["highlight_choices"] = (ranked + others)[:8]
                extra["in_queue"] = item.state in DECIDABLE["approve"] and item.state != State.APPROVED
        return super().changeform_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def decide_view(self, request, object_id: int, decision: str):
        """Approve, reject, unpublish, feature or unfeature one testimonial from the list or its page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        item = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not roles_for(request).can(item.brand_id, EDIT_ROLES):
            raise PermissionDenied
        actor = request.user
        wants_json = "application/json" in request.headers.get("Accept", "")
        try:
            if decision == "approve":
                testimonial_approve(testimonial=item, actor=actor)
            elif decision == "reject":
                reason = request.POST.get(f"reason-{item.pk}") or request.POST.get("reason", "")
                if len(reason) > REASON_MAX_LENGTH:
                    raise ApplicationError(f"Keep the reason under {REASON_MAX_LENGTH} characters.")
                testimonial_reject(testimonial=item, actor=actor, reason=reason)
            elif decision == "unpublish":
                testimonial_unpublish(testimonial=item, actor=actor)
            elif decision in ("feature", "unfeature"):
                testimonial_set_featured(testimonial=item, actor=actor, featured=decision == "feature")
            else:
                return HttpResponseBadRequest("Unknown decision.")
        except ApplicationError as exc:
            if wants_json:
                return JsonResponse({"ok": False, "message": f"{item.author_name}: {exc.message}"}, status=400)
            self.message_user(request, f"{item.author_name}: {exc.message}", messages.ERROR)
        else:
            done = {"approve": "approved", "reject": "rejected", "unpublish": "sent back to review"}
            message = f"{item.author_name}: {done.get(decision, decision + 'd')}."
            if wants_json:
                # The queue's keyboard flow: the row goes, the next one takes the focus (admin.js).
                item.refresh_from_db(fields=["state"])
                return JsonResponse({"ok": True, "message": message, "state": item.state})
            self.message_user(request, message, messages.SUCCESS)
            if request.POST.get("then") == "next":
                return HttpResponseRedirect(self._next_in_queue(request, item))
        return HttpResponseRedirect(self._back_url(request))

    def _editable_item(self, request, object_id: int) -> Testimonial:
        """The testimonial among the user's brands (404 otherwise), for a user who may change it (403)."""
        item = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not roles_for(request).can(item.brand_id, EDIT_ROLES):
            raise PermissionDenied
        return item

    def accept_tag_view(self, request, object_id: int, code: str):
        """One click: tag the testimonial with the tag one of its topics suggests (created if missing)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        item = self._editable_item(request, object_id)
        try:
            tag = testimonial_accept_topic_tag(testimonial=item, actor=request.user, code=code)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, f"Tagged {tag.name}.", messages.SUCCESS)
        return HttpResponseRedirect(self._back_url(request))

    def _next_in_queue(self, request, after: Testimonial) -> str:
        """ "Approve and next": the next item that needs a person, or the queue's "all caught up"."""
        waiting = testimonial_list_moderation_queue(queryset=self.get_queryset(request)).exclude(pk=after.pk)
        following = waiting.values_list("pk", flat=True).first()
        if following is None:
            return reverse("admin:testimonials_testimonial_changelist")
        return reverse("admin:testimonials_testimonial_change", args=[following])

    def edit_view(self, request, object_id: int):
        """Change the displayed text (typo fixes) and choose the highlight; the original is kept, the note
        and the change go to the trail."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        item = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not roles_for(request).can(item.brand_id, EDIT_ROLES):
            raise PermissionDenied
        try:
            testimonial_edit(
                testimonial=item,
                actor=request.user,
                public_text=request.POST.get("public_text", ""),
                highlight=request.POST.get("highlight", ""),
                note=request.POST.get("note", ""),
            )
        except ApplicationError as exc:
            self.message_user(request, f"Not saved: {exc.message}", messages.ERROR)
        else:
            self.message_user(
                request, "Saved: the displayed text and highlight. The original is kept.", messages.SUCCESS
            )
        return HttpResponseRedirect(reverse("admin:testimonials_testimonial_change", args=[item.pk]) + "#edit")

    def _back_url(self, request) -> str:
        for candidate in (request.POST.get("next"), request.headers.get("referer")):
            if candidate and url_has_allowed_host_and_scheme(
                candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                return candidate
        return reverse("admin:testimonials_testimonial_changelist")

    def export_view(self, request, fmt: str):
        """The filtered list (same filters, search and order as the screen) as CSV or JSON."""
        if fmt not in exports.FORMATS:
            return HttpResponseBadRequest("Export as csv or json.")
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest("Unknown filter.")
        return exports.FORMATS[fmt](changelist.queryset)

    def dashboard_view(self, request):
        roles = roles_for(request)
        if not roles.any():
            raise PermissionDenied
        brands = list(scope(Brand.objects.order_by("name"), request, path="pk").values_list("id", "name"))
        chosen = request.GET.get("brand", "")
        brand_ids = roles.brand_ids()
        if chosen.isdigit() and any(b == int(chosen) for b, _ in brands):
            brand_ids = [int(chosen)]
        stats = dashboard_stats_for_brands(brand_ids=brand_ids)
        topic_stats = topic_stats_for_brands(brand_ids=brand_ids)
        context = {
            **self.admin_site.each_context(request),
            "title": "Dashboard",
            "opts": self.model._meta,
            "brands": brands,
            "chosen": chosen,
            "stats": stats,
            "charts": dashboard.charts(stats),
            "topic_stats": topic_stats,
            "praise": dashboard.topic_trends(topic_stats.praise),
            "complaints": dashboard.topic_trends(topic_stats.complaints),
            "moderation_average": dashboard.duration_text(stats.moderation_average),
            "waiting_longest": testimonial_list_moderation_queue(brand_ids=brand_ids)[:5],
            "many_brands": len(brands) > 1,
            "queue_count": sum(stats.by_state[s] for s in (State.PENDING_REVIEW, State.FAILED)),
            "panels": dashboard.panels(request, brand_ids),
        }
        return TemplateResponse(request, "admin/testimonials/dashboard.html", context)


@admin.register(MediaAsset)
class MediaAssetAdmin(ReadOnlyMixin, BrandScopedAdmin):
    """Photos and videos, read-only: processing belongs to the media pipeline."""

    brand_path = "testimonial__brand"
    list_display = ["__str__", "kind", "status", "progress", "testimonial", "created_at"]
    list_filter = ["kind", "status"]
    fields = ["preview", "testimonial", "kind", "status", "progress", "error", "original_name", "content_type"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("testimonial")

    @admin.display(description="Preview")
    def preview(self, obj):
        return display.media_preview(obj)
