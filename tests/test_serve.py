"""``taizhang serve``: several server processes share the port, a dead one is replaced,
and a signal stops them all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from installation import Installation


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> set[int]:
    path = f"/proc/{pid}/task/{pid}/children"
    with open(path) as f:
        return {int(p) for p in f.read().split()}


def answer(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=10) as r:
        return r.status


def wait_for(condition, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not get there in time")


def test_two_processes_share_the_port_and_stop_together(tmp_path):
    site = Installation(tmp_path / "data")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", "from taizhang.cli import main; main()"]
        + ["serve", "--port", str(port), "--processes", "2"],
        env=site.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: answer(port) == 200)
        first = children(server.pid)
        assert len(first) == 2
        # One dies: the other keeps answering and a new one takes its place.
        os.kill(min(first), signal.SIGKILL)
        wait_for(lambda: len(children(server.pid)) == 2 and children(server.pid) != first)
        assert max(first) in children(server.pid)
        assert answer(port) == 200
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        out = server.stdout.read()
        assert f"Taizhang is at http://127.0.0.1:{port}/" in out
    finally:
        if server.poll() is None:
            server.kill()
        site.drop()


def test_a_port_in_use_is_a_sentence(tmp_path):
    site = Installation(tmp_path / "data")
    try:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            done = site.run("serve", "--port", port)
        assert done.returncode == 1
        assert done.stderr.startswith(f"cannot listen on 127.0.0.1:{port}: ")
        assert "Traceback" not in done.stderr
    finally:
        site.drop()
