"""Starts the real `tensorboard` server on 127.0.0.1 for a test and reads a scalar series from
its HTTP API; bounded in time, always stopped; skips the test only if the server cannot start."""
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read().decode())


def scalar_series(logdir, tag, expected_points, run=".", timeout=60):
    """[(wall_time, step, value), ...] of `tag` as TensorBoard serves it, once it has
    `expected_points` points (or whatever it has at the deadline)."""
    port = _free_port()
    command = [sys.executable, "-m", "tensorboard.main", "--logdir", logdir, "--host",
               "127.0.0.1", "--port", str(port), "--load_fast=false", "--reload_interval", "1"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/data/plugin/scalars/scalars?run={run}&tag={tag}"
    try:
        deadline, series = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.skip("tensorboard could not start: "
                            + server.stdout.read().decode(errors="replace")[-500:])
            try:
                series = _get_json(url)
                if len(series) >= expected_points:
                    break
            except (urllib.error.URLError, ConnectionError, ValueError):
                pass
            time.sleep(0.3)
        assert series is not None, "tensorboard never answered"
        return series
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stdout.close()
