"""`publish serve`: the preview server answers range requests, as audio players need to seek."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipeline.commands.serve import open_server
from tests.listener_episode import publish_sample


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("work")
    destination = tmp_path_factory.mktemp("site")
    publish_sample(work, destination)
    return destination


@pytest.fixture(scope="module")
def server(published):
    server = open_server(published, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def get(port: int, path: str, headers: dict | None = None) -> tuple[http.client.HTTPResponse, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


def test_range_on_the_mp3_answers_206_with_content_range(server, published):
    mp3 = (published / "exemple" / "exemple.mp3").read_bytes()
    response, body = get(server.server_port, "/exemple/exemple.mp3", {"Range": "bytes=0-1"})
    assert response.status == 206
    assert response.getheader("Content-Range") == f"bytes 0-1/{len(mp3)}"
    assert body == mp3[:2]
    response, body = get(server.server_port, "/exemple/exemple.mp3", {"Range": "bytes=1000-"})
    assert response.status == 206 and body == mp3[1000:]


def test_whole_files_folders_and_outside_paths(server, published):
    response, body = get(server.server_port, "/exemple/exemple.mp3")
    assert response.status == 200 and response.getheader("Content-Type") == "audio/mpeg"
    assert body == (published / "exemple" / "exemple.mp3").read_bytes()
    response, _ = get(server.server_port, "/exemple")
    assert response.status in (301, 302, 308) and response.getheader("Location").endswith("/exemple/")
    response, body = get(server.server_port, "/exemple/")
    assert response.status == 200 and body == (published / "exemple" / "index.html").read_bytes()
    response, body = get(server.server_port, "/")
    assert response.status == 200 and b'href="exemple/"' in body
    response, _ = get(server.server_port, "/exemple/transcript.vtt")
    assert response.getheader("Content-Type").startswith("text/vtt")
    response, _ = get(server.server_port, "/../" + published.name + "/feed.xml")
    assert response.status == 404
    response, _ = get(server.server_port, "/exemple/exemple.mp3", {"Range": "bytes=99999999-"})
    assert response.status == 416


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_serve_verb_serves_the_folder(published):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "serve", str(published), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response, _ = get(port, "/exemple/exemple.mp3", {"Range": "bytes=0-1"})
                break
            except ConnectionRefusedError:
                assert process.poll() is None, process.stderr.read()
                assert time.monotonic() < deadline, "publish serve did not start listening"
                time.sleep(0.2)
        assert response.status == 206
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    assert f"http://localhost:{port}/" in out


def test_serve_refuses_a_missing_folder(tmp_path, capsys):
    from pipeline.cli import main

    assert main(["serve", str(tmp_path / "nothing")]) == 1
    assert "no such folder" in capsys.readouterr().err
