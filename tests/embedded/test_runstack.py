"""`make run`'s last step: web server and worker start together and Ctrl-C stops both."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent has not read its status yet.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


@pytest.mark.parametrize("how", ["ctrl_c", "sigint_to_a_background_job", "sigterm"])
def test_it_serves_and_stops_web_and_worker_together(tmp_path, how):
    # As `make run` starts it: production settings module, embedded defaults, debug on.
    env = {**os.environ, "DEBUG": "true", "VOUCH_VAR_DIR": str(tmp_path), "VOUCH_READ_DOT_ENV": "false"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DATABASE_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    port = _free_port()
    stack = subprocess.Popen(
        [sys.executable, "manage.py", "runstack", f"--addr=127.0.0.1:{port}", "--concurrency=1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline, body = time.monotonic() + 60, b""
        while time.monotonic() < deadline and not body:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            except OSError:
                time.sleep(0.3)
        assert body == b'{"status": "ok"}'
        children = _children(stack.pid)
        assert len(children) == 2  # the web server and the worker

        if how == "ctrl_c":
            os.killpg(stack.pid, signal.SIGINT)  # a terminal sends it to the whole foreground group
        elif how == "sigint_to_a_background_job":
            os.kill(stack.pid, signal.SIGINT)
        else:
            os.kill(stack.pid, signal.SIGTERM)
        assert stack.wait(timeout=40) == 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(_alive(pid) for pid in children):
            time.sleep(0.2)
        assert not any(_alive(pid) for pid in children)
    finally:
        if stack.poll() is None:
            os.killpg(stack.pid, signal.SIGKILL)
