"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for tests and benchmarks.

In a thread of the test process (`SmtpSink.thread()`), or as its own process (`SmtpSink.process()`, or
`python -m tests.smtp_sink --folder DIR`), which prints its port on its first line. It binds port 0,
so it never collides with anything on the machine. Behaviours, per recipient address:
  --tempfail ADDR:N   answer 451 to the first N RCPT commands for ADDR (a greylisting server)
  --reject ADDR       answer 550 to RCPT for ADDR (no such user)
  --delay SECONDS     wait before answering DATA (so a test can kill a sender mid-transaction)
Every accepted message is written to FOLDER/<n>.eml, with X-Sink-Mail-From and X-Sink-Rcpt-To first.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import itertools
import os
import socket
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from aiosmtpd.smtp import SMTP

ROOT = Path(__file__).resolve().parent.parent


class Handler:
    def __init__(self, folder: Path, *, tempfail: dict[str, int] | None = None, reject=(), delay: float = 0.0):
        self.folder = folder
        self.tempfail = Counter(tempfail or {})
        self.reject = {a.lower() for a in reject}
        self.delay = delay
        self.numbers = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        key = address.lower()
        if key in self.reject:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if self.tempfail[key] > 0:
            self.tempfail[key] -= 1
            return f"451 4.7.1 <{address}>: Greylisted, please try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        head = f"X-Sink-Mail-From: {envelope.mail_from}\r\nX-Sink-Rcpt-To: {', '.join(envelope.rcpt_tos)}\r\n"
        number = next(self.numbers)
        partial = self.folder / f"{number}.part"
        partial.write_bytes(head.encode() + envelope.original_content)
        os.replace(partial, self.folder / f"{number}.eml")
        return "250 2.0.0 Ok: queued"


def _listen() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


def received(folder: Path) -> list[email.message.EmailMessage]:
    """What the sink accepted, oldest first, parsed."""
    files = sorted(folder.glob("*.eml"), key=lambda p: int(p.stem))
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files]


def raw_received(folder: Path) -> list[bytes]:
    files = sorted(folder.glob("*.eml"), key=lambda p: int(p.stem))
    return [p.read_bytes().split(b"\r\n", 2)[2] for p in files]  # without the sink's two lines


class SmtpSink:
    def __init__(self, folder: Path, port: int, stop):
        self.folder, self.port, self._stop = folder, port, stop

    def stop(self) -> None:
        self._stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def messages(self) -> list[email.message.EmailMessage]:
        return received(self.folder)

    @classmethod
    def thread(cls, folder: Path, **behaviour) -> SmtpSink:
        folder.mkdir(parents=True, exist_ok=True)
        handler = Handler(folder, **behaviour)
        sock = _listen()
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run():
            asyncio.set_event_loop(loop)
            server = loop.run_until_complete(loop.create_server(lambda: SMTP(handler, hostname="sink"), sock=sock))
            ready.set()
            loop.run_forever()
            server.close()
            loop.run_until_complete(server.wait_closed())
            loop.close()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        ready.wait(10)

        def stop():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)

        return cls(folder, sock.getsockname()[1], stop)

    @classmethod
    def process(
        cls, folder: Path, *, tempfail: dict[str, int] | None = None, reject=(), delay: float = 0.0
    ) -> SmtpSink:
        folder.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "tests.smtp_sink", "--folder", str(folder), "--delay", str(delay)]
        for address, count in (tempfail or {}).items():
            cmd += ["--tempfail", f"{address}:{count}"]
        for address in reject:
            cmd += ["--reject", address]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True)
        port = int(proc.stdout.readline().strip())

        def stop():
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

        return cls(folder, port, stop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folder", required=True)
    parser.add_argument("--tempfail", action="append", default=[])
    parser.add_argument("--reject", action="append", default=[])
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    tempfail = {a.rsplit(":", 1)[0]: int(a.rsplit(":", 1)[1]) for a in args.tempfail}
    handler = Handler(Path(args.folder), tempfail=tempfail, reject=args.reject, delay=args.delay)
    sock = _listen()

    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(handler, hostname="sink"), sock=sock)
        print(sock.getsockname()[1], flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
