"""The production WSGI app with a CPU profiler around each submit (bench/submit_profile.py only).

Each request's CPU time is measured in its own thread (time.thread_time): POSTs, and GET /healthz as
the same-run reference. cProfile runs around POSTs only, unless VOUCH_PROFILE_OFF is set.
GET /__profile__ writes the accumulated stats to $VOUCH_PROFILE_OUT and answers JSON with the CPU
seconds of every timed request; GET /__profile__?reset=1 starts afresh (after the warm-up).
Never deployed.
"""

from __future__ import annotations

import cProfile
import json
import os
import threading
import time

from config.wsgi import application as _app


def _profiler() -> cProfile.Profile:
    # Timed by the thread's CPU clock: waits on PostgreSQL and Redis cost no CPU here, so they do not count.
    return cProfile.Profile(time.thread_time)


_profile = _profiler()
_lock = threading.Lock()
_cpu: dict[str, list[float]] = {"submit": [], "healthz": []}


def application(environ, start_response):
    global _profile
    if environ.get("PATH_INFO") == "/__profile__":
        with _lock:
            if environ.get("QUERY_STRING") == "reset=1":
                _profile = _profiler()
                for samples in _cpu.values():
                    samples.clear()
            _profile.dump_stats(os.environ["VOUCH_PROFILE_OUT"])
            body = json.dumps(_cpu).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    kind = "submit" if environ.get("REQUEST_METHOD") == "POST" else None
    if environ.get("PATH_INFO") == "/healthz":
        kind = "healthz"
    if kind is None:
        return _app(environ, start_response)
    profiled = kind == "submit" and not os.environ.get("VOUCH_PROFILE_OFF")
    with _lock:  # one timed request at a time: run gunicorn with one sync worker
        started = time.thread_time()
        if profiled:
            _profile.enable()
        try:
            result = list(_app(environ, start_response))
        finally:
            if profiled:
                _profile.disable()
        _cpu[kind].append(time.thread_time() - started)
    return result
