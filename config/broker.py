"""The brokers' transports: kombu's filesystem transport with messages written atomically (the embedded
default), and kombu's Redis transport with a worker-killing bug worked around (production).

kombu (5.7) creates a message file and then writes it, while a worker polling the folder moves and
reads any file it lists: a message caught between the two is read empty, and the worker stops on
the JSON error. `make run` lost its worker that way within minutes (beat's sweeper writes every 30 s).
Here a message is written under a name the reader ignores and renamed into place, which is atomic.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

import redis.exceptions
from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.transport import redis as redis_transport
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

from config import redis_clients


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = os.path.join(self.data_folder_out, f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg")
        # The reader takes "<stamp>_<uuid>.<queue>.msg" only: "….msg.part" is invisible to it until renamed.
        partial = f"{name}.part"
        try:
            with open(partial, "wb") as out:
                out.write(str_to_bytes(dumps(payload)))
            os.replace(partial, name)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {name!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


# --------------------------------------------------------------------------- Redis (production)
# Celery 5.7 with kombu 5.7 killed the worker on a Redis restart, with
# `Unrecoverable error: AttributeError("'NoneType' object has no attribute 'hostname'")`: once the
# consumer has collected its broken connection (transport.client set to None), closing the channel
# again (restoring unacknowledged messages) or acknowledging a late-ack task that finished meanwhile
# asks the channel for a new Redis client, and `_connparams` reads `None.hostname`. Every caller on
# that path ignores connection errors (ignore_errors, maybe_close_channel, ack_log_error) but not an
# AttributeError, so it escaped to the worker's blueprint. Raising the connection error it really is
# lets Celery reconnect as designed. The unacknowledged message stays in Redis's unacked set (if
# Redis kept it) and the sweeper re-enqueues the row anyway; every late-ack task is idempotent.
# Reproduced by tests/integration/test_broker_loss.py.


class RedisChannel(redis_clients.Channel):
    def _connparams(self, asynchronous=False):
        if self.connection.client is None:
            raise redis.exceptions.ConnectionError("the broker connection was closed after a connection loss")
        return super()._connparams(asynchronous=asynchronous)


class RedisTransport(redis_transport.Transport):
    Channel = RedisChannel
