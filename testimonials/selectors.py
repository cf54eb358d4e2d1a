"""Reads that carry a rule: tenancy (who sees which brand) and the lists later screens show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import (
    Avg,
    BooleanField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncWeek
from django.shortcuts import get_object_or_404
from django.utils import timezone

from testimonials.models import (
    NEEDS_HUMAN_STATES,
    Brand,
    CollectionForm,
    MediaAsset,
    Membership,
    Tag,
    Testimonial,
    Widget,
    WidgetPick,
    testimonial_flagged_expression,
)

EDIT_ROLES = frozenset({Membership.Role.OWNER, Membership.Role.EDITOR})
ALL_ROLES = frozenset(Membership.Role.values)


def brand_list_for_user(user: AbstractBaseUser | AnonymousUser, *, roles=ALL_ROLES) -> QuerySet[Brand]:
    """The brands a user may see (or act on, with `roles`). Superusers see every brand."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Brand.objects.none()
    if user.is_superuser:
        return Brand.objects.all()
    return Brand.objects.filter(memberships__user=user, memberships__role__in=list(roles)).distinct()


def brand_role_for_user(user, brand: Brand) -> str | None:
    """The user's role in a brand ("owner", "editor", "viewer"), "owner" for superusers, else None."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Membership.Role.OWNER
    return Membership.objects.filter(user=user, brand=brand).values_list("role", flat=True).first()


def user_can_edit_brand(user, brand: Brand) -> bool:
    return brand_role_for_user(user, brand) in EDIT_ROLES


def brand_ids_user_can_edit(user, brand_ids: set[int]) -> set[int]:
    """Which of these brands the user may change (owner or editor; superusers all), in one query."""
    if not brand_ids or not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    if user.is_superuser:
        return set(brand_ids)
    editable = Membership.objects.filter(user=user, brand_id__in=brand_ids, role__in=list(EDIT_ROLES))
    return set(editable.values_list("brand_id", flat=True))


def collection_form_get_public(*, brand_slug: str, form_slug: str) -> CollectionForm:
    """The form a customer opens at /c/<brand>/<form>/: 404 when unknown or switched off."""
    return get_object_or_404(
        CollectionForm.objects.select_related("brand").prefetch_related("questions"),
        brand__slug=brand_slug,
        slug=form_slug,
        is_active=True,
    )


# --------------------------------------------------------------------------- testimonials (API, public pages)


def testimonial_list_for_brand(
    *,
    brand: Brand,
    state: str | None = None,
    rating: int | None = None,
    updated_since: datetime | None = None,
    sentiment: str | None = None,
    topic: str | None = None,
    source: str | None = None,
    featured: bool | None = None,
    tag_slug: str | None = None,
) -> QuerySet[Testimonial]:
    """A brand's testimonials for the API, filtered, with what the output shows prefetched."""
    items = Testimonial.objects.filter(brand=brand).select_related("brand", "form").prefetch_related("tags", "media")
    if state:
        items = items.filter(state=state)
    if rating:
        items = items.filter(rating=rating)
    if updated_since:
        items = items.filter(updated_at__gte=updated_since)
    if sentiment:
        items = items.filter(sentiment_label=sentiment)
    if topic:
        items = items.filter(testimonial_topic_condition(topic))
    if source:
        items = items.filter(source=source)
    if featured is not None:
        items = items.filter(featured=featured)
    if tag_slug:
        items = items.filter(tags__brand=brand, tags__slug=tag_slug)
    return items


def testimonial_get_in_brands(*, brands: QuerySet[Brand], public_id: str) -> Testimonial:
    """One testimonial by public id among these brands (a caller's), with its output prefetched; 404 otherwise."""
    return get_object_or_404(
        Testimonial.objects.select_related("brand", "form").prefetch_related("tags", "media"),
        brand__in=brands,
        public_id=public_id,
    )


def testimonial_referral_code_for_submission(*, submission_key: str, form: CollectionForm) -> str | None:
    """The referral code of the testimonial a form page already stored (a double submit), if any."""
    found = Testimonial.objects.filter(submission_key=submission_key, form=form)
    return found.values_list("referral_code", flat=True).first()


def testimonial_referral_code_exists(*, code: str, form: CollectionForm) -> bool:
    return Testimonial.objects.filter(referral_code=code, form=form).exists()


def testimonial_public_id_for_referral(*, code: str, form: CollectionForm) -> str | None:
    """The public id of the published testimonial with this referral code (its public page exists), if any."""
    found = Testimonial.objects.filter(referral_code=code, form=form).published()
    return found.values_list("public_id", flat=True).first()


def collection_form_list_for_brand(*, brand: Brand) -> QuerySet[CollectionForm]:
    return CollectionForm.objects.filter(brand=brand).select_related("brand").prefetch_related("questions")


def tag_list_for_brand(*, brand: Brand) -> QuerySet[Tag]:
    return Tag.objects.filter(brand=brand).select_related("brand")


# --------------------------------------------------------------------------- widgets


def testimonial_topic_condition(code: str) -> Q:
    """Testimonials that talk about the topic `code` (Testimonial.topics), on either database."""
    if connection.features.supports_json_field_contains:
        return Q(topics__contains=[{"code": code}])
    # SQLite has no JSON containment: ask its json_each instead.
    table = Testimonial._meta.db_table
    return Q(
        RawSQL(  # noqa: S611 - the code is a parameter; the table name is ours
            f"EXISTS (SELECT 1 FROM json_each({table}.topics) e WHERE json_extract(e.value, '$.code') = %s)",  # noqa: S608
            [code],
            output_field=BooleanField(),
        )
    )


def widget_list_for_brand(*, brand: Brand) -> QuerySet[Widget]:
    return Widget.objects.filter(brand=brand).select_related("brand", "filter_form").prefetch_related("filter_tags")


def testimonial_list_for_widget(
    *, widget: Widget, limit: int | None = None, tag_ids: list[int] | None = None
) -> list[Testimonial]:
    """What a widget shows: its picks or its rules, in its order, at most `limit` (its `max_items` by
    default; its hosted page lists more of the same selection), media prefetched.

    `tag_ids` stands in for the widget's saved tag filter (the admin previews unsaved settings).
    The minimum rating selects what is displayed, never what is counted: rating summaries come from
    `rating_summary_for_brand`, over every eligible review.
    """
    limit = widget.max_items if limit is None else limit
    items = Testimonial.objects.filter(brand_id=widget.brand_id).published().prefetch_related("media")
    if widget.min_rating:
        items = items.filter(rating__gte=widget.min_rating)
    if widget.selection == Widget.Selection.MANUAL:
        picks = WidgetPick.objects.filter(widget_id=widget.pk).order_by("position", "id")
        positions = dict(picks.values_list("testimonial_id", "position")) if widget.pk else {}
        chosen = list(items.filter(id__in=positions))
        if widget.order == Widget.Order.NEWEST:
            chosen.sort(key=lambda t: t.created_at, reverse=True)
        elif widget.order == Widget.Order.FEATURED:
            chosen.sort(key=lambda t: (not t.featured, positions[t.id]))
        else:
            chosen.sort(key=lambda t: positions[t.id])
        return chosen[:limit]
    if tag_ids is None:
        tag_ids = list(widget.filter_tags.values_list("id", flat=True)) if widget.pk else []
    if tag_ids:
        items = items.filter(tags__in=tag_ids).distinct()
    if widget.filter_form_id:
        items = items.filter(form_id=widget.filter_form_id)
    if widget.filter_has_video:
        items = items.filter(media__kind=MediaAsset.Kind.VIDEO, media__status=MediaAsset.Status.READY).distinct()
    if widget.filter_language:
        items = items.filter(language=widget.filter_language)
    if widget.filter_topic:
        # "What people say about support": any testimonial that talks about it, whatever it says (a
        # language Vouch cannot read has no topics, so a topic rule leaves it out; the admin says so).
        items = items.filter(testimonial_topic_condition(widget.filter_topic))
    if widget.filter_featured:
        items = items.filter(featured=True)
    # "Pinned order" only means something for hand-picked widgets; rules fall back to featured first.
    ordering = ["-created_at"] if widget.order == Widget.Order.NEWEST else ["-featured", "-created_at"]
    return list(items.order_by(*ordering, "-id")[:limit])


def collection_form_for_widget(*, widget: Widget) -> CollectionForm | None:
    """Where the widget's "Leave a testimonial" button leads: its form, or the brand's newest active one."""
    forms = CollectionForm.objects.filter(brand_id=widget.brand_id, is_active=True)
    if widget.filter_form_id:
        chosen = forms.filter(id=widget.filter_form_id).first()
        if chosen is not None:
            return chosen
    return forms.order_by("-created_at", "-id").first()


def rating_summary_for_brand(
    *, brand_id: int, form_id: int | None = None, digits: int = 1, with_distribution: bool = False
) -> dict:
    """Average and count over every eligible review (approved or awaiting review), never only the
    displayed ones (FTC 16 CFR 465: no suppression). Limited to one form when a widget is for one product.
    With `with_distribution`, also the count per star, "5" down to "1"."""
    reviews = Testimonial.objects.filter(brand_id=brand_id).rating_eligible()
    if form_id:
        reviews = reviews.filter(form_id=form_id)
    summary = reviews.aggregate(average=Avg("rating"), count=Count("id"))
    average = round(summary["average"], digits) if summary["average"] is not None else None
    result = {"average": average, "count": summary["count"]}
    if with_distribution:
        by_star = dict(reviews.order_by().values_list("rating").annotate(n=Count("id")))
        result["distribution"] = {str(star): by_star.get(star, 0) for star in range(5, 0, -1)}
    return result


def testimonial_count_published(*, brand_id: int) -> int:
    return Testimonial.objects.filter(brand_id=brand_id).published().count()


def widget_list_blocked_origins(*, widget: Widget, days: int = 30) -> list:
    """Sites that tried to show this widget in the last `days` and are still not among its allowed sites."""
    allowed = set(widget.allowed_domains or widget.brand.allowed_domains or [])
    recent = widget.blocked_origins.filter(last_seen__gte=timezone.now() - timedelta(days=days))
    return [row for row in recent.order_by("-last_seen") if row.origin not in allowed]


@dataclass(frozen=True)
class ChecklistStep:
    name: str
    done: bool
    url_name: str  # the admin page where it is done
    url_args: tuple = ()


def workspace_checklist(user, *, limit: int = 5) -> list[tuple[Brand, list[ChecklistStep]]]:
    """The first-run checklist of each brand the user works on: look, form, widget, snippet, approval."""
    brands = brand_list_for_user(user)
    if not user.is_superuser:
        brands = brands.filter(memberships__user=user)
    default_accent = Brand._meta.get_field("accent_color").default
    result = []
    for brand in brands.order_by("name")[:limit]:
        widget = Widget.objects.filter(brand=brand).order_by("created_at", "id").first()
        copied = Widget.objects.filter(brand=brand, snippet_copied_at__isnull=False).exists()
        steps = [
            ChecklistStep("Give the brand its look: logo and colour",
                          bool(brand.logo) or brand.accent_color != default_accent,
                          "admin:testimonials_brand_change", (brand.pk,)),
            ChecklistStep("Set up a first form", CollectionForm.objects.filter(brand=brand).exists(),
                          "admin:testimonials_collectionform_add"),
            ChecklistStep("Build a first widget", widget is not None, "admin:testimonials_widget_add"),
            ChecklistStep("Copy its snippet into your site", copied,
                          "admin:testimonials_widget_change" if widget else "admin:testimonials_widget_add",
                          (widget.pk,) if widget else ()),
            ChecklistStep("Approve a first testimonial",
                          Testimonial.objects.filter(brand=brand).published().exists(),
                          "admin:testimonials_testimonial_changelist"),
        ]  # fmt: skip
        result.append((brand, steps))
    return result


DEMO_BRAND = "demo"  # the brand `manage.py seed_demo` creates


def demo_links() -> dict | None:
    """The demo brand's form and hosted wall for the landing page; None when there is no demo brand."""
    brand = Brand.objects.filter(slug=DEMO_BRAND).first()
    if brand is None:
        return None
    form = CollectionForm.objects.filter(brand=brand, is_active=True).order_by("created_at", "id").first()
    widget = Widget.objects.filter(brand=brand).order_by("created_at", "id").first()
    return {
        "brand": brand.name,
        "form": f"/c/{brand.slug}/{form.slug}/" if form else "",
        "wall": f"/w/{widget.public_id}/" if widget else "",
    }


def widget_get_public(*, public_id: str) -> Widget:
    """A widget by its public id, for its public pages; 404 when unknown."""
    return get_object_or_404(Widget.objects.select_related("brand"), public_id=public_id)


# --------------------------------------------------------------------------- moderation queue and dashboard


def testimonial_list_moderation_queue(
    *, queryset: QuerySet[Testimonial] | None = None, brand_ids: list[int] | None = None
) -> QuerySet[Testimonial]:
    """What needs a person, flagged first, then oldest (testimonial_queue_brand_idx and _all_idx hold this order).

    `brand_ids=None` means every brand the queryset holds.
    """
    qs = Testimonial.objects.select_related("brand") if queryset is None else queryset
    if brand_ids is not None:
        qs = qs.filter(brand_id__in=brand_ids)
    return (
        qs.filter(state__in=NEEDS_HUMAN_STATES)
        .annotate(is_flagged=testimonial_flagged_expression())
        .order_by("-is_flagged", "created_at", "id")
    )


@dataclass(frozen=True)
class DashboardStats:
    by_state: dict[str, int]
    rating_count: int
    rating_average: float | None
    rating_distribution: dict[int, int]  # 1..5 -> count, rating-eligible reviews only (FTC: no suppression)
    sentiment_by_week: list[tuple[date, dict[str, int]]]  # oldest week first
    per_form: list[tuple[str, int]]  # (form title, submissions), most first
    moderation_buckets: dict[str, int]  # "under 1 hour" ... -> decided items
    moderation_average: timedelta | None
    flags: dict[str, int]  # flag code -> testimonials received in the window carrying it, most first
    since: datetime


MODERATION_BUCKETS = (
    ("under 1 hour", timedelta(hours=1)),
    ("1 to 24 hours", timedelta(days=1)),
    ("1 to 7 days", timedelta(days=7)),
    ("over 7 days", None),
)


def dashboard_stats_for_brands(
    *, brand_ids: list[int] | None, now: datetime | None = None, weeks: int = 12
) -> DashboardStats:
    """Counts, ratings, sentiment over time, submissions per form, time to moderation and flags.

    `brand_ids=None` means every brand (superusers). Five grouped queries whatever the row count:
    totals come from testimonial_dashboard_idx alone, the recent window from the created_at indexes.
    Time to moderation covers testimonials received in the window that a person or rule decided.
    """
    now = now or timezone.now()
    since = (now - timedelta(weeks=weeks)).replace(hour=0, minute=0, second=0, microsecond=0)
    qs = Testimonial.objects.all() if brand_ids is None else Testimonial.objects.filter(brand_id__in=brand_ids)
    by_state, by_form = _totals(qs)
    distribution = _rating_distribution(qs)
    rating_count = sum(distribution.values())
    recent = _recent_window(qs, since)
    return DashboardStats(
        by_state=by_state,
        rating_count=rating_count,
        rating_average=sum(r * n for r, n in distribution.items()) / rating_count if rating_count else None,
        rating_distribution=distribution,
        sentiment_by_week=_weekly_series(recent.sentiment_by_week, since=since, now=now, weeks=weeks),
        per_form=_per_form(by_form, many_brands=brand_ids is None or len(brand_ids) > 1),
        moderation_buckets={label: recent.buckets[i] for i, (label, _) in enumerate(MODERATION_BUCKETS)},
        moderation_average=recent.waited_total / recent.decided if recent.decided else None,
        flags=_flag_counts(brand_ids, since),
        since=since,
    )


def _totals(qs: QuerySet[Testimonial]) -> tuple[dict[str, int], dict[int | None, int]]:
    """Testimonials per state and per form, in one grouped query (testimonial_dashboard_idx)."""
    by_state = dict.fromkeys(Testimonial.State.values, 0)
    by_form: dict[int | None, int] = {}
    for row in qs.values("state", "form_id").annotate(n=Count("*")).order_by():
        by_state[row["state"]] += row["n"]
        by_form[row["form_id"]] = by_form.get(row["form_id"], 0) + row["n"]
    return by_state, by_form


def _rating_distribution(qs: QuerySet[Testimonial]) -> dict[int, int]:
    """Stars 1..5 -> eligible reviews (FTC: every genuine review counts)."""
    distribution = dict.fromkeys(range(1, 6), 0)
    for row in qs.rating_eligible().values("rating").annotate(n=Count("*")).order_by():
        distribution[row["rating"]] = row["n"]
    return distribution


def _per_form(by_form: dict[int | None, int], *, many_brands: bool) -> list[tuple[str, int]]:
    top_forms = sorted(by_form.items(), key=lambda pair: -pair[1])[:12]
    forms = CollectionForm.objects.select_related("brand").in_bulk([f for f, _ in top_forms if f is not None])

    def label(form_id: int | None) -> str:
        if form_id not in forms:
            return "No form (imported or deleted)"
        form = forms[form_id]
        return f"{form.title} ({form.brand.name})" if many_brands else form.title

    return [(label(form_id), n) for form_id, n in top_forms]


@dataclass
class _Recent:
    sentiment_by_week: dict[date, dict[str, int]]
    buckets: list[int]
    decided: int
    waited_total: timedelta


def _recent_window(qs: QuerySet[Testimonial], since: datetime) -> _Recent:
    """Sentiment per week and time to a decision for testimonials received since `since`, in one query."""
    waited = ExpressionWrapper(F("decided_at") - F("created_at"), output_field=DurationField())
    aggregates = {"n": Count("*"), "decided": Count("decided_at"), "waited_sum": Sum("waited")}
    lower = timedelta(0)
    for i, (_, upper) in enumerate(MODERATION_BUCKETS):
        condition = Q(waited__gte=lower) if upper is None else Q(waited__gte=lower, waited__lt=upper)
        aggregates[f"bucket{i}"] = Count("id", filter=condition)
        lower = upper or lower
    rows = (
        qs.filter(created_at__gte=since)
        .annotate(week=TruncWeek("created_at"), waited=waited)
        .values("week", "sentiment_label")
        .annotate(**aggregates)
        .order_by()
    )
    recent = _Recent(sentiment_by_week={}, buckets=[0] * len(MODERATION_BUCKETS), decided=0, waited_total=timedelta(0))
    for row in rows:
        week = row["week"].date() if isinstance(row["week"], datetime) else row["week"]
        if row["sentiment_label"]:
            counts = recent.sentiment_by_week.setdefault(week, dict.fromkeys(Testimonial.Sentiment.values, 0))
            counts[row["sentiment_label"]] = row["n"]
        recent.decided += row["decided"]
        recent.waited_total += row["waited_sum"] or timedelta(0)
        for i in range(len(recent.buckets)):
            recent.buckets[i] += row[f"bucket{i}"]
    return recent


def _weekly_series(
    seen: dict[date, dict[str, int]], *, since: datetime, now: datetime, weeks: int
) -> list[tuple[date, dict[str, int]]]:
    """Every week from `since` to now, oldest first, empty weeks included."""
    first_week = (since - timedelta(days=since.weekday())).date()
    series = []
    for i in range(weeks + 1):
        week = first_week + timedelta(weeks=i)
        if week > now.date():
            break
        series.append((week, seen.get(week, dict.fromkeys(Testimonial.Sentiment.values, 0))))
    return series


def _flag_counts(brand_ids: list[int] | None, since: datetime) -> dict[str, int]:
    """Flag code -> testimonials received since `since` carrying it, most first (one query over the JSON)."""
    table = Testimonial._meta.db_table
    if connection.vendor == "postgresql":
        source = f"{table} t CROSS JOIN LATERAL jsonb_array_elements(t.flags) f"
        code = "f ->> 'code'"
    else:
        source = f"{table} t, json_each(t.flags) f"
        code = "json_extract(f.value, '$.code')"
    where, params = "t.created_at >= %s", [since]
    if brand_ids is not None:
        if not brand_ids:
            return {}
        where += f" AND t.brand_id IN ({', '.join(['%s'] * len(brand_ids))})"
        params += list(brand_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {code} AS code, COUNT(DISTINCT t.id) FROM {source} WHERE {where} GROUP BY code",  # noqa: S608
            params,
        )
        counts = {row[0]: row[1] for row in cursor.fetchall() if row[0]}
    return dict(sorted(counts.items(), key=lambda pair: (-pair[1], pair[0])))
