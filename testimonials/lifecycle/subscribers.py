"""Who follows the lifecycle. A consumer calls `subscribe()` once, in its package's `subscriber.py`;
`discover()` (run by the app at start-up) imports every such module. The core never imports them."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from testimonials.lifecycle.models import EventType, OutboxEntry

Handler = Callable[[list[OutboxEntry]], None]


@dataclass(frozen=True)
class Subscriber:
    name: str  # stable: receipts are stored under it
    events: frozenset[str]
    handle: Handler


_registry: dict[str, Subscriber] = {}


def subscribe(name: str, *, events: Iterable[EventType], handler: Handler) -> Subscriber:
    """Hand every future entry of `events` to `handler`, once each, after the change commits.

    `handler(entries)` runs in a worker, inside a transaction that also stores this subscriber's
    receipts: its database writes commit with them, and anything it enqueues must go through
    `transaction.on_commit`. If it raises, nothing of it is kept and the entries come back later
    (the sweeper, with backoff). It must be idempotent all the same: a hand-off may repeat after a crash.
    """
    wanted = frozenset(EventType(event) for event in events)
    existing = _registry.get(name)
    if existing is not None and existing.handle is not handler:
        raise ValueError(f"Another lifecycle subscriber is already named {name!r}.")
    subscriber = Subscriber(name=name, events=wanted, handle=handler)
    _registry[name] = subscriber
    return subscriber


def unsubscribe(name: str) -> None:
    _registry.pop(name, None)


def subscribers() -> list[Subscriber]:
    return sorted(_registry.values(), key=lambda s: s.name)


def discover() -> list[str]:
    """Import `testimonials.<package>.subscriber` for every package that has one; their names."""
    import testimonials

    found = []
    for module in pkgutil.iter_modules(testimonials.__path__):
        if module.ispkg and importlib.util.find_spec(f"testimonials.{module.name}.subscriber") is not None:
            importlib.import_module(f"testimonials.{module.name}.subscriber")
            found.append(module.name)
    return found
