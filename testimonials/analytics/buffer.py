"""The durable buffer between the beacon endpoint and the ingest worker. One entry per accepted beacon.

Two implementations behind one interface (`append`, `claim`, `ack`), chosen by ANALYTICS_BUFFER_URL:

- `RedisStreamBuffer` (production): XADD to a stream, read through a consumer group. An entry read by a
  worker that is then killed stays pending and is claimed again after ANALYTICS_CLAIM_IDLE_SECONDS; it is removed
  (XACK + XDEL) only after the worker's transaction committed. Durability across a restart of Redis
  itself is Redis's: with `appendonly yes` and `appendfsync always` an entry Redis answered for is on
  disk before the endpoint answers 204; with `everysec` a power loss can lose up to a second
  (docs/analytics.md).
- `SpoolBuffer` (the embedded default, one host): each beacon is a file written under a temporary
  name, fsync'd and renamed into place, so a 204 means it is on disk. A worker claims files by renaming
  them into its own claim folder; files of a claim older than ANALYTICS_CLAIM_IDLE_SECONDS (a killed worker) go
  back to the queue.

With a Redis stream, `FallbackBuffer` keeps a `SpoolBuffer` on the web host's disk behind it
(ANALYTICS_FALLBACK_DIR): a beacon Redis cannot take (down, restarting) is written there, fsync'd,
instead of being refused with a 503, and Redis is skipped for VOUCH_BROKER_COOLDOWN_SECONDS after a
failure (a circuit breaker), so beacons stay fast during the outage. The drain empties both; run an
ingest (or beat's drain) on each web host, as for the submission spool.

Either way an entry may be handed out twice (a worker killed after commit, before ack; an XADD whose
answer was lost and that was spooled too): ingest is idempotent on event ids, so that is harmless.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import redis
from django.conf import settings

log = logging.getLogger(__name__)

STREAM = "vouch:analytics:beacons"
GROUP = "ingest"


def claim_idle_seconds() -> float:
    """How long a claimed entry waits before another worker may take it (its worker presumed dead)."""
    return settings.ANALYTICS_CLAIM_IDLE_SECONDS


class BufferUnavailable(Exception):
    """The buffer could not take the entry: the endpoint answers 503 and the browser's event is lost
    (never a 204 for something not stored)."""


@dataclass(frozen=True)
class Entry:
    id: str
    data: bytes


class RedisStreamBuffer:
    def __init__(self, url: str, *, stream: str = STREAM) -> None:
        self.url = url
        self.stream = stream
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._group_ready = False

    def append(self, data: bytes) -> None:
        try:
            self.client.xadd(self.stream, {"d": data})
        except redis.RedisError as exc:
            raise BufferUnavailable(str(exc)) from exc

    def append_many(self, items: list[bytes]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for data in items:
            pipe.xadd(self.stream, {"d": data})
        try:
            pipe.execute()
        except redis.RedisError as exc:
            raise BufferUnavailable(str(exc)) from exc

    def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            self.client.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    def claim(self, *, consumer: str, count: int) -> list[Entry]:
        """Entries abandoned by a dead worker first, then new ones."""
        self._ensure_group()
        _, stale, *_ = self.client.xautoclaim(
            self.stream, GROUP, consumer, min_idle_time=int(claim_idle_seconds() * 1000), start_id="0-0", count=count
        )
        entries = [Entry(_text(eid), fields[b"d"]) for eid, fields in stale if fields]
        if len(entries) < count:
            fresh = self.client.xreadgroup(GROUP, consumer, {self.stream: ">"}, count=count - len(entries))
            for _, rows in fresh or []:
                entries.extend(Entry(_text(eid), fields[b"d"]) for eid, fields in rows if fields)
        return entries

    def ack(self, entries: list[Entry]) -> None:
        if not entries:
            return
        ids = [e.id for e in entries]
        pipe = self.client.pipeline(transaction=True)
        pipe.xack(self.stream, GROUP, *ids)
        pipe.xdel(self.stream, *ids)
        pipe.execute()

    def pending(self) -> int:
        """Entries not yet ingested (waiting or claimed)."""
        try:
            return int(self.client.xlen(self.stream))
        except redis.RedisError:
            return -1


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class SpoolBuffer:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.queue = self.folder / "queue"
        self.claims = self.folder / "claims"

    def _dirs(self) -> None:
        self.queue.mkdir(parents=True, exist_ok=True)
        self.claims.mkdir(parents=True, exist_ok=True)

    def append(self, data: bytes) -> None:
        try:
            self._dirs()
            # Sortable by arrival: nanoseconds first; the uuid keeps two processes apart.
            name = f"{time.time_ns():020d}-{uuid.uuid4().hex}.b"
            partial = self.queue / f".{name}.part"
            with open(partial, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, self.queue / name)
            _fsync_dir(self.queue)
        except OSError as exc:
            raise BufferUnavailable(str(exc)) from exc

    def append_many(self, items: list[bytes]) -> None:
        for data in items:
            self.append(data)

    def claim(self, *, consumer: str, count: int) -> list[Entry]:
        self._dirs()
        self._release_stale()
        mine = self.claims / f"{consumer}-{uuid.uuid4().hex[:8]}"
        mine.mkdir()
        entries = []
        for name in sorted(n for n in os.listdir(self.queue) if n.endswith(".b"))[:count]:
            try:
                os.rename(self.queue / name, mine / name)  # atomic: another worker cannot take it too
            except FileNotFoundError:
                continue
            entries.append(Entry(str(mine / name), (mine / name).read_bytes()))
        if not entries:
            mine.rmdir()
        return entries

    def ack(self, entries: list[Entry]) -> None:
        folders = set()
        for entry in entries:
            path = Path(entry.id)
            path.unlink(missing_ok=True)
            folders.add(path.parent)
        for folder in folders:
            try:
                folder.rmdir()
            except OSError:
                pass

    def _release_stale(self) -> None:
        limit = time.time() - claim_idle_seconds()
        for claim in self.claims.iterdir():
            try:
                if claim.stat().st_mtime > limit:
                    continue
                for path in claim.iterdir():
                    os.replace(path, self.queue / path.name)
                claim.rmdir()
            except OSError:
                continue

    def pending(self) -> int:
        self._dirs()
        waiting = sum(1 for n in os.listdir(self.queue) if n.endswith(".b"))
        return waiting + sum(len(os.listdir(c)) for c in self.claims.iterdir())


class FallbackBuffer:
    """A Redis stream with a local spool behind it, for when Redis cannot take an entry (see above)."""

    def __init__(self, primary: RedisStreamBuffer, fallback: SpoolBuffer, *, cooldown: float) -> None:
        from testimonials.outages import CircuitBreaker

        self.primary, self.fallback = primary, fallback
        self.breaker = CircuitBreaker(cooldown)

    def append(self, data: bytes) -> None:
        self.append_many([data])

    def append_many(self, items: list[bytes]) -> None:
        if self.breaker.allow():
            try:
                self.primary.append_many(items)
                self.breaker.succeeded()
                return
            except BufferUnavailable as exc:
                self.breaker.failed()
                # Once per interval with a count (outages.OutageLogFilter): the cause is Redis's error.
                log.warning("Analytics beacons go to the fallback spool: the buffer's Redis is down", exc_info=exc)
        self.fallback.append_many(items)  # BufferUnavailable (the endpoint's 503) only if the disk fails too

    def claim(self, *, consumer: str, count: int) -> list[Entry]:
        """The spooled entries first (few, and only after an outage), then the stream's. With Redis down, the
        spooled ones alone; nothing at all raises, so the drain sees the outage."""
        entries = self.fallback.claim(consumer=consumer, count=count)
        if len(entries) < count:
            try:
                entries += self.primary.claim(consumer=consumer, count=count - len(entries))
            except redis.RedisError:
                if not entries:
                    raise
        return entries

    def ack(self, entries: list[Entry]) -> None:
        spooled = str(self.fallback.folder) + os.sep
        self.fallback.ack([e for e in entries if e.id.startswith(spooled)])
        self.primary.ack([e for e in entries if not e.id.startswith(spooled)])

    def pending(self) -> int:
        """Entries not yet ingested in both; -1 while Redis cannot be asked."""
        waiting = self.primary.pending()
        return -1 if waiting < 0 else waiting + self.fallback.pending()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def buffer_for(url: str) -> RedisStreamBuffer | SpoolBuffer:
    if url.startswith("spool://"):
        return SpoolBuffer(url.removeprefix("spool://"))
    if url.startswith(("redis://", "rediss://")):
        return RedisStreamBuffer(url)
    raise ValueError(f"Unknown analytics buffer {url!r}: use redis://... or spool:///path.")


@cache
def _buffer(url: str, fallback_dir: str, cooldown: float) -> RedisStreamBuffer | SpoolBuffer | FallbackBuffer:
    buffer = buffer_for(url)
    if isinstance(buffer, RedisStreamBuffer) and fallback_dir:
        return FallbackBuffer(buffer, SpoolBuffer(fallback_dir), cooldown=cooldown)
    return buffer


def get_buffer() -> RedisStreamBuffer | SpoolBuffer | FallbackBuffer:
    """The buffer ANALYTICS_BUFFER_URL names, with the ANALYTICS_FALLBACK_DIR spool behind a Redis stream
    (one client per process)."""
    fallback = str(settings.ANALYTICS_FALLBACK_DIR or "")
    return _buffer(settings.ANALYTICS_BUFFER_URL, fallback, settings.VOUCH_BROKER_COOLDOWN_SECONDS)
