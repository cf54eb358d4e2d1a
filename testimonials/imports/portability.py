"""A brand's full export (everything needed to leave, or to back up one brand) and its restore.

The export is a zip: `brand.json` (the brand's settings, forms, tags, own topics, widgets, and every
testimonial with its private fields, consent, decisions, flags, topics, media and audit trail) and
`media/...`, the public renditions of its photos and videos. Originals stay private and are not
exported. Restoring it into a fresh brand gives the same content under new public ids: widgets
republish, waiting testimonials are moderated again, and the trail is kept as it was.
"""

from __future__ import annotations

import json
import logging
import secrets
import zipfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import PurePosixPath
from typing import IO

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from testimonials import queue
from testimonials.errors import ApplicationError, PermissionDenied
from testimonials.lifecycle.events import record
from testimonials.media.errors import MediaRejected
from testimonials.media.sniff import sniff
from testimonials.models import (
    AuditEvent,
    Brand,
    BrandTopic,
    CollectionForm,
    ContentFingerprint,
    EventType,
    FormQuestion,
    MediaAsset,
    Membership,
    Tag,
    Testimonial,
    Widget,
    WidgetPick,
)
from testimonials.moderation.rules import redact
from testimonials.selectors import brand_role_for_user

log = logging.getLogger(__name__)

FORMAT = "vouch-brand-export"
VERSION = 1
# A restore reads at most this much from an archive (zip bombs), and no single file larger than a video.
RESTORE_MAX_BYTES = 20 * 1024**3

_BRAND_FIELDS = ("name", "slug", "accent_color", "website", "allowed_domains", "auto_approve", "blocklist")
# Per model, what is never exported: ids (mapped by public id or slug), the tenant, and per-installation keys.
_SKIP = {"id", "brand", "form", "tags", "picks", "filter_tags", "filter_form", "submission_key", "referral_code"}


def _plain(instance: models.Model, skip: Iterable[str] = ()) -> dict:
    """A row's concrete fields as JSON-ready values (foreign keys and ids left to the caller)."""
    leave_out = _SKIP | set(skip)
    data = {}
    for field in instance._meta.concrete_fields:
        if field.name in leave_out or field.is_relation:
            continue
        data[field.name] = field.value_from_object(instance)
        if isinstance(field, models.FileField):
            data[field.name] = ""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _restore(model: type[models.Model], data: dict, **extra) -> models.Model:
    """An unsaved row of `model` from exported values, each converted by its field."""
    fields = {f.name: f for f in model._meta.concrete_fields if not f.is_relation and f.name not in _SKIP}
    values = {name: fields[name].to_python(value) for name, value in data.items() if name in fields}
    return model(**values, **extra)


# --------------------------------------------------------------------------- export


def brand_export_data(*, brand: Brand) -> tuple[dict, dict[str, str]]:
    """The export's JSON document, and the public renditions to zip ({zip path: storage path})."""
    files: dict[str, str] = {}
    forms = list(CollectionForm.objects.filter(brand=brand).order_by("slug").prefetch_related("questions"))
    form_slug = {form.id: form.slug for form in forms}
    tags = list(Tag.objects.filter(brand=brand).order_by("slug"))
    items = (
        Testimonial.objects.filter(brand=brand)
        .order_by("created_at", "id")
        .prefetch_related("tags", "media", "fingerprints", "events__actor")
    )
    public_ids = {}
    testimonials = []
    for item in items:
        public_ids[item.id] = item.public_id
        media = []
        for asset in item.media.all():
            row = _plain(asset, skip=("testimonial", "original"))
            renditions = {}
            for name, info in (asset.derivatives or {}).items():
                if isinstance(info, dict) and info.get("path"):
                    in_zip = f"media/{asset.public_id}/{PurePosixPath(name).name}"
                    files[in_zip] = info["path"]
                    renditions[name] = {**{k: v for k, v in info.items() if k != "path"}, "file": in_zip}
            row["derivatives"] = renditions
            media.append(row)
        testimonials.append(
            {
                **_plain(item),
                "form": form_slug.get(item.form_id),
                "tags": sorted(tag.slug for tag in item.tags.all()),
                "media": media,
                "fingerprints": sorted(fp.band for fp in item.fingerprints.all()),
                "history": [
                    {
                        "action": event.action,
                        "actor_kind": event.actor_kind,
                        "actor": event.actor.get_username() if event.actor else None,
                        "from_state": event.from_state,
                        "to_state": event.to_state,
                        "reasons": event.reasons,
                        "note": event.note,
                        "created_at": event.created_at.isoformat(),
                    }
                    for event in sorted(item.events.all(), key=lambda e: (e.created_at, e.id))
                ],
            }
        )
    widgets = []
    for widget in Widget.objects.filter(brand=brand).order_by("created_at", "id").prefetch_related("filter_tags"):
        picks = (
            WidgetPick.objects.filter(widget=widget)
            .order_by("position", "id")
            .values_list("testimonial_id", "position")
        )
        widgets.append(
            {
                **_plain(widget, skip=("published_version", "published_at", "publish_requested_at")),
                "filter_form": form_slug.get(widget.filter_form_id),
                "filter_tags": sorted(tag.slug for tag in widget.filter_tags.all()),
                "picks": [{"testimonial": public_ids[tid], "position": pos} for tid, pos in picks if tid in public_ids],
            }
        )
    document = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now().isoformat(),
        "brand": {name: getattr(brand, name) for name in _BRAND_FIELDS},
        "forms": [
            {**_plain(form), "questions": [_plain(q, skip={"form"}) for q in form.questions.all()]} for form in forms
        ],
        "tags": [{"name": tag.name, "slug": tag.slug} for tag in tags],
        "topics": [
            {"name": topic.name, "code": topic.code, "terms": topic.terms}
            for topic in BrandTopic.objects.filter(brand=brand).order_by("code")
        ],
        "testimonials": testimonials,
        "widgets": widgets,
    }
    return document, files


def brand_export(*, brand: Brand, actor, out: IO[bytes]) -> dict:
    """Write the brand's zip to `out` (owners: it holds customers' emails and consent). Returns counts."""
    if brand_role_for_user(actor, brand) != Membership.Role.OWNER:
        raise PermissionDenied("Only the brand's owners can export all of its data.")
    document, files = brand_export_data(brand=brand)
    missing = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("brand.json", json.dumps(document, ensure_ascii=False, indent=1, cls=DjangoJSONEncoder))
        for in_zip, stored in sorted(files.items()):
            try:
                with default_storage.open(stored, "rb") as source, archive.open(in_zip, "w") as target:
                    while chunk := source.read(1024 * 1024):
                        target.write(chunk)
            except FileNotFoundError:
                missing += 1
                log.warning("Rendition %s of brand %s is missing from storage; exported without it.", stored, brand.id)
    log.info("Brand %s exported by user %s", brand.id, getattr(actor, "pk", None))
    return {"testimonials": len(document["testimonials"]), "files": len(files) - missing, "missing_files": missing}


# --------------------------------------------------------------------------- restore


def _document(archive: zipfile.ZipFile) -> dict:
    try:
        info = archive.getinfo("brand.json")
    except KeyError as exc:
        raise ApplicationError("This is not a Vouch brand export (no brand.json inside).", field="file") from exc
    if info.file_size > 2 * 1024**3:
        raise ApplicationError("brand.json is too large to restore.", field="file")
    try:
        document = json.loads(archive.read(info))
    except ValueError as exc:
        raise ApplicationError("brand.json is not valid JSON.", field="file") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ApplicationError("This is not a Vouch brand export.", field="file")
    if document.get("version") != VERSION:
        raise ApplicationError(f"This export is version {document.get('version')}; this Vouch reads {VERSION}.")
    return document


def _rendition(archive: zipfile.ZipFile, in_zip: str, kind: str) -> bytes | None:
    """A rendition's bytes from the archive, refused unless it really is an image (or the video) it claims."""
    path = PurePosixPath(in_zip)
    if path.is_absolute() or ".." in path.parts or not in_zip.startswith("media/"):
        raise ApplicationError(f"Unsafe path in the archive: {in_zip[:80]!r}.", field="file")
    try:
        data = archive.read(in_zip)
    except KeyError:
        return None
    expect = "video" if path.name.startswith("video.") else "image"
    try:
        sniff(ContentFile(data), expect=expect)
    except MediaRejected as exc:
        raise ApplicationError(f"{in_zip} is not a {expect} ({exc.reason})", field="file") from exc
    return data


def brand_restore(*, archive_file: IO[bytes], actor, slug: str, name: str = "", owner=None) -> Brand:
    """Create a fresh brand `slug` from an export (superusers). Raises ApplicationError for a bad archive."""
    if not getattr(actor, "is_superuser", False):
        raise PermissionDenied("Only administrators of this Vouch installation create brands.")
    try:
        archive = zipfile.ZipFile(archive_file)
    except zipfile.BadZipFile as exc:
        raise ApplicationError("This file is not a zip archive.", field="file") from exc
    if sum(info.file_size for info in archive.infolist()) > RESTORE_MAX_BYTES:
        raise ApplicationError("This archive unpacks to more than a restore takes.", field="file")
    document = _document(archive)
    if Brand.objects.filter(slug=slug).exists():
        raise ApplicationError(f"A brand {slug!r} exists already; restore into a fresh one.", field="slug")
    saved: list[str] = []
    try:
        with transaction.atomic():
            brand = _restore_rows(document, archive, actor=actor, slug=slug, name=name, owner=owner, saved=saved)
    except BaseException:
        for path in saved:
            default_storage.delete(path)
        raise
    return brand


def _restore_rows(document: dict, archive, *, actor, slug: str, name: str, owner, saved: list[str]) -> Brand:
    values = {k: v for k, v in document["brand"].items() if k in _BRAND_FIELDS}
    brand = Brand(**{**values, "slug": slug, "name": name or values.get("name") or slug})
    brand.full_clean()
    brand.save()
    Membership.objects.create(user=owner or actor, brand=brand, role=Membership.Role.OWNER)
    forms = {}
    for row in document.get("forms", []):
        form = _restore(CollectionForm, row, brand=brand)
        form.full_clean(exclude=["brand"])
        form.save()
        for question_row in row.get("questions") or []:
            question = _restore(FormQuestion, question_row, form=form)
            question.full_clean(exclude=["form"])
            question.save()
        forms[form.slug] = form
    tags = {
        row["slug"]: Tag.objects.create(brand=brand, name=row["name"], slug=row["slug"]) for row in document["tags"]
    }
    # The brand's own topics: its testimonials keep the topics read with them, its widgets select by them.
    for row in document.get("topics", []):
        topic = BrandTopic(brand=brand, name=str(row.get("name", "")), terms=row.get("terms") or [])
        topic.full_clean()  # the code comes from the name, the terms are cleaned as the admin cleans them
        topic.save()
    by_public_id, waiting = _restore_testimonials(document, archive, brand, forms, tags, saved)
    for row in document.get("widgets", []):
        widget = _restore(Widget, {k: v for k, v in row.items() if k != "public_id"}, brand=brand)
        widget.filter_form = forms.get(row.get("filter_form"))
        widget.full_clean(exclude=["brand", "filter_form"])
        widget.save()
        widget.filter_tags.set([tags[s] for s in row.get("filter_tags", []) if s in tags])
        WidgetPick.objects.bulk_create(
            WidgetPick(widget=widget, testimonial=by_public_id[p["testimonial"]], position=p["position"])
            for p in row.get("picks", [])
            if p["testimonial"] in by_public_id
        )
        record(event=EventType.WIDGET_CHANGE, widget=widget, actor=actor, note="Restored from an export.")
    record(
        event=EventType.BRAND_CHANGE,
        brand_id=brand.id,
        actor=actor,
        note=f"Restored from an export of {document['brand'].get('slug')!r} made {document.get('exported_at')}.",
    )
    from testimonials.processing.tasks import testimonial_process_task

    for item_id in waiting:
        queue.send_on_commit(testimonial_process_task, item_id)
    return brand


def _restore_testimonials(document, archive, brand, forms, tags, saved) -> tuple[dict[str, Testimonial], list[int]]:
    by_public_id: dict[str, Testimonial] = {}
    waiting: list[int] = []
    users = {}
    for row in document.get("testimonials", []):
        data = {k: v for k, v in row.items() if k not in ("public_id", "media", "history", "fingerprints", "tags")}
        item = _restore(Testimonial, data, brand=brand, form=forms.get(row.get("form")))
        if item.state in (Testimonial.State.RECEIVED, Testimonial.State.PROCESSING):
            item.state = Testimonial.State.RECEIVED  # moderated again in this brand
        elif item.public_text or item.text:
            # A restored file is input like any other: its public text is redacted here, once, since
            # widgets read it as it is stored (they never redact per request).
            item.public_text = redact(item.public_text or item.text)
        item.save()
        # save() set created_at/updated_at as now: the export's times are the truth.
        Testimonial.objects.filter(id=item.id).update(
            created_at=Testimonial._meta.get_field("created_at").to_python(row["created_at"]),
            updated_at=Testimonial._meta.get_field("updated_at").to_python(row["updated_at"]),
        )
        if item.state == Testimonial.State.RECEIVED:
            waiting.append(item.id)
        by_public_id[row["public_id"]] = item
        item.tags.set([tags[s] for s in row.get("tags", []) if s in tags])
        ContentFingerprint.objects.bulk_create(
            ContentFingerprint(testimonial=item, brand=brand, band=band) for band in row.get("fingerprints", [])
        )
        for media in row.get("media", []):
            _restore_asset(media, item, archive, saved)
        AuditEvent.objects.bulk_create(
            AuditEvent(
                brand=brand,
                testimonial=item,
                subject=item.public_id,
                actor_kind=event["actor_kind"],
                actor=_user(event.get("actor"), users),
                action=event["action"],
                from_state=event.get("from_state", ""),
                to_state=event.get("to_state", ""),
                reasons=event.get("reasons", []),
                note=event.get("note", ""),
                created_at=datetime.fromisoformat(event["created_at"]),
            )
            for event in row.get("history", [])
        )
    return by_public_id, waiting


def _user(username: str | None, cache: dict):
    """The same person on this installation, if there is one with that user name; else nobody."""
    if not username:
        return None
    if username not in cache:
        from django.contrib.auth import get_user_model

        cache[username] = get_user_model().objects.filter(username=username).first()
    return cache[username]


def _restore_asset(media: dict, item: Testimonial, archive, saved: list[str]) -> None:
    folder = f"r/{secrets.token_urlsafe(18)}"
    derivatives = {}
    for name, info in (media.get("derivatives") or {}).items():
        data = _rendition(archive, info.get("file", ""), media.get("kind", ""))
        if data is None:
            continue
        path = default_storage.save(f"{folder}/{PurePosixPath(name).name}", ContentFile(data))
        saved.append(path)
        derivatives[name] = {**{k: v for k, v in info.items() if k != "file"}, "path": path}
    values = {k: v for k, v in media.items() if k not in ("public_id", "derivatives")}
    asset = _restore(MediaAsset, values, testimonial=item)
    asset.derivatives = derivatives
    if asset.status != MediaAsset.Status.READY or not derivatives:
        # Without its original (never exported) it cannot be processed again here.
        asset.status = MediaAsset.Status.READY if derivatives else MediaAsset.Status.FAILED
        if not derivatives:
            asset.error = "Restored from an export without its renditions."
    asset.save()
