"""Writing a widget's published files to storage, so that a page view is a static file read.

Layout under the default storage, served at /widgets/ (nginx in production, a small file view in
the embedded default):

    widgets/<public id>/index.json          the pointer: which document and data are current (short cache)
    widgets/<public id>/<hash>.html         the document shown in the iframe (immutable)
    widgets/<public id>/<hash>.json         the public data: items, rating summary, JSON-LD (immutable)
    widgets/<public id>/<hash>-p<N>.html    the hosted page /w/<id>/, page N (read by the wall view)
    widgets/<public id>/<hash>-shown.json   the public ids that version shows, hosted pages included
    widgets/<public id>/frame-ancestors     the CSP source list the document may be framed by
    widgets/<public id>/nginx-map.conf      the same, as one line of an nginx `map` (docs/widgets-nginx.conf)
    widgets/.nginx-reload                   touched when any map line changed: nginx must reload

A CSP `<meta>` cannot carry `frame-ancestors` (browsers ignore it there), so the header has to
come from the server: nginx reads it from the map, the embedded view from `frame-ancestors`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage

log = logging.getLogger(__name__)

PREFIX = "widgets"
POINTER = "index.json"
FRAME_ANCESTORS = "frame-ancestors"
NGINX_MAP = "nginx-map.conf"
NGINX_RELOAD = ".nginx-reload"
VERSIONED = re.compile(r"^(?P<version>[0-9a-f]{16})(?:-p(?P<page>\d+)|-shown)?\.(?P<ext>html|json)$")


def folder(public_id: str) -> str:
    return f"{PREFIX}/{public_id}"


def content_version(document: bytes, data: bytes, *pages: bytes) -> str:
    return hashlib.sha256(b"\0".join((document, data, *pages))).hexdigest()[:16]


def page_name(version: str, page: int) -> str:
    return f"{version}-p{page}.html"


def write_atomic(name: str, content: bytes, *, storage: Storage | None = None) -> None:
    """Replace a file so readers see the old or the new content, never a missing or half file."""
    storage = storage or default_storage
    try:
        path = storage.path(name)
    except NotImplementedError:
        # Object storage: a PUT replaces an object atomically.
        if storage.exists(name):
            storage.delete(name)
        storage.save(name, ContentFile(content))
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read(name: str, *, storage: Storage | None = None) -> bytes | None:
    storage = storage or default_storage
    try:
        with storage.open(name, "rb") as handle:
            return handle.read()
    except (FileNotFoundError, OSError):
        return None


def read_pointer(public_id: str) -> dict | None:
    raw = read(f"{folder(public_id)}/{POINTER}")
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def publish_files(
    *,
    public_id: str,
    layout: str,
    document: str,
    data: dict,
    frame_ancestors: str,
    withdrawn_ids: set[str],
    pages: list[str] | tuple = (),
    pointer_extra: dict | None = None,
    shown_ids: list[str] | tuple = (),
) -> str:
    """Write the document and data under content-hashed names, then the pointer, then clean up.

    The previous version stays for visitors whose cached pointer (a few seconds old) still names
    it, unless it shows a testimonial that is no longer published (erased, rejected, unpublished):
    then it goes at once.
    Returns the new version.
    """
    base = folder(public_id)
    doc_bytes = document.encode()
    data_bytes = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    page_bytes = [page.encode() for page in pages]
    version = content_version(doc_bytes, data_bytes, *page_bytes)
    previous = read_pointer(public_id)

    write_atomic(f"{base}/{version}.html", doc_bytes)
    write_atomic(f"{base}/{version}.json", data_bytes)
    for number, content in enumerate(page_bytes, start=1):
        write_atomic(f"{base}/{page_name(version, number)}", content)
    # What this version shows, hosted pages included: the next publish drops it at once if one of
    # them was withdrawn (previous_item_ids).
    write_atomic(f"{base}/{version}-shown.json", json.dumps(sorted(shown_ids)).encode())
    _write_if_changed(f"{base}/{FRAME_ANCESTORS}", frame_ancestors.encode())
    if _write_if_changed(f"{base}/{NGINX_MAP}", f'"{public_id}" "{frame_ancestors}";\n'.encode()):
        # nginx reads its maps at (re)load: this stamp tells a watcher (docs/widgets.md) to reload it.
        write_atomic(f"{PREFIX}/{NGINX_RELOAD}", f"{public_id} {version}\n".encode())
    pointer = {
        "v": version,
        "doc": f"{version}.html",
        "data": f"{version}.json",
        "layout": layout,
        "jsonld": bool(data.get("jsonld")),
        "pages": len(page_bytes),
        **(pointer_extra or {}),
    }
    write_atomic(f"{base}/{POINTER}", json.dumps(pointer, separators=(",", ":")).encode())

    keep = {version}
    if previous and previous.get("v") != version and not withdrawn_ids:
        keep.add(previous["v"])
    _delete_versions(base, keep=keep)
    return version


def unpublish_files(*, public_id: str) -> None:
    """Remove every published file of a widget (the widget was deleted)."""
    base = folder(public_id)
    try:
        _dirs, files = default_storage.listdir(base)
    except (FileNotFoundError, OSError):
        return
    for name in files:
        default_storage.delete(f"{base}/{name}")


def previous_item_ids(public_id: str) -> set[str]:
    """The testimonial public ids the currently published version shows (hosted pages included)."""
    pointer = read_pointer(public_id)
    if not pointer:
        return set()
    shown = read(f"{folder(public_id)}/{pointer.get('v', '')}-shown.json")
    try:
        if shown:
            return set(json.loads(shown))
    except (ValueError, TypeError):
        pass
    raw = read(f"{folder(public_id)}/{pointer.get('data', '')}")  # a version published before the list
    try:
        return {item["id"] for item in json.loads(raw)["items"]} if raw else set()
    except (ValueError, KeyError, TypeError):
        return set()


def _write_if_changed(name: str, content: bytes) -> bool:
    if read(name) == content:
        return False
    write_atomic(name, content)
    return True


def _delete_versions(base: str, *, keep: set[str]) -> None:
    try:
        _dirs, files = default_storage.listdir(base)
    except (FileNotFoundError, OSError):
        return
    for name in files:
        match = VERSIONED.match(name)
        if match and match["version"] not in keep:
            try:
                default_storage.delete(f"{base}/{name}")
            except OSError:
                log.warning("Could not delete old widget file %s/%s", base, name, exc_info=True)
