"""gunicorn's settings for Vouch (docs/deploy.md): `gunicorn -c docs/deploy/gunicorn.conf.py config.wsgi`."""

import os

bind = os.environ.get("VOUCH_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("VOUCH_THREADS", "4"))
# nginx buffers request bodies and keeps client connections; between the two, short is fine.
timeout = 60
graceful_timeout = 30
keepalive = 5
# Recycle a worker now and then (jittered, so never all at once): bounds any slow memory growth.
max_requests = 5000
max_requests_jitter = 500
# nginx on this host is the only proxy whose X-Forwarded-* headers count.
forwarded_allow_ips = "127.0.0.1"
# nginx keeps the access log; errors go to the journal.
accesslog = None
errorlog = "-"
loglevel = "warning"


def child_exit(server, worker):
    """Prometheus multiprocess mode: a dead worker's live gauges stop counting (its counters stay)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
