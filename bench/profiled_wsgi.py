"""The production WSGI app with a CPU profiler around each POST (bench/submit_profile.py only).

cProfile runs in the request's thread for POSTs only; GET /__profile__ writes the accumulated stats
to $VOUCH_PROFILE_OUT and answers "<requests> <CPU seconds>"; GET /__profile__?reset=1 starts
afresh (after the warm-up). Never deployed.
"""

from __future__ import annotations

import cProfile
import os
import threading
import time

from config.wsgi import application as _app

_profile = cProfile.Profile()
_lock = threading.Lock()
_cpu: list[float] = []


def application(environ, start_response):
    global _profile
    if environ.get("PATH_INFO") == "/__profile__":
        with _lock:
            if environ.get("QUERY_STRING") == "reset=1":
                _profile = cProfile.Profile()
                _cpu.clear()
            _profile.dump_stats(os.environ["VOUCH_PROFILE_OUT"])
            body = f"{len(_cpu)} {sum(_cpu)}".encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    if environ.get("REQUEST_METHOD") != "POST":
        return _app(environ, start_response)
    with _lock:  # one profiled request at a time: run gunicorn with one sync worker
        started = time.thread_time()
        if os.environ.get("VOUCH_PROFILE_OFF"):
            result = list(_app(environ, start_response))
        else:
            _profile.enable()
            try:
                result = list(_app(environ, start_response))
            finally:
                _profile.disable()
        _cpu.append(time.thread_time() - started)
    return result
