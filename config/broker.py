"""The embedded default's broker: kombu's filesystem transport, with messages written atomically.

kombu (5.7) creates a message file and then writes it, while a worker polling the folder moves and
reads any file it lists: a message caught between the two is read empty, and the worker stops on
the JSON error. `make run` lost its worker that way within minutes (beat's sweeper writes every 30 s).
Here a message is written under a name the reader ignores and renamed into place, which is atomic.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


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
