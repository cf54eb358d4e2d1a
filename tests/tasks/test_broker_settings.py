"""How workers meet their broker: the sweeper's own queue and a worker that never gives up reconnecting."""

from config.celery import app


def route(name: str) -> str:
    return app.amqp.router.route({}, name)["queue"].name


def test_it_routes_the_sweeper_to_its_own_queue_away_from_the_work_it_sweeps_for():
    assert route("testimonials.tasks.sweep_stuck_task") == "sweeper"
    assert route("testimonials.processing.tasks.testimonial_process_task") == "text"
    assert route("testimonials.renditions.tasks.media_process_task") == "media"


def test_it_drops_a_sweep_that_waited_longer_than_its_interval():
    entry = app.conf.beat_schedule["sweep-stuck-work"]
    assert entry["options"]["expires"] == entry["schedule"]


def test_it_keeps_a_worker_reconnecting_to_its_broker_forever():
    assert app.conf.broker_connection_retry is True
    assert app.conf.broker_connection_max_retries is None
    assert app.conf.broker_channel_error_retry is True


def test_it_uses_the_redis_transport_that_survives_a_closed_connection():
    from kombu import Connection

    from config.broker import RedisTransport

    assert Connection("redis://127.0.0.1:1/0").transport_cls in ("redis",)
    assert type(Connection("redis://127.0.0.1:1/0").transport) is RedisTransport
    assert type(Connection("rediss://127.0.0.1:1/0?ssl_cert_reqs=none").transport) is RedisTransport
