"""Every input treated as untrusted: the destination's catalogue (a hand edit, anyone with write
access to the bucket), the producer's files (sizes), the show file's S3 endpoint, the bucket's
CORS rules; and ffmpeg never outliving the publisher."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.config import MAX_FILE_BYTES, MAX_TEXT_CHARS, load_show
from pipeline.corrections_file import load_fixes
from pipeline.errors import PipelineError
from pipeline.publishing.publish import publish_episodes
from pipeline.publishing.targets.local import LocalFolder
from pipeline.rendering.layout import CATALOGUE_FILE, PAGE_FILE
from tests.conftest import PREFIX, REPO, SAMPLE, make_cdn_show, s3_folder
from tests.test_healing import Where, render_with_transcript


@pytest.fixture
def warnings_logged():
    """The warnings the publishing code logs (on the `publish` logger, which main() sets up)."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    logger = logging.getLogger("publish.catalogue")
    handler = Keep(logging.WARNING)
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)


def published(where: Where, tmp_path: Path, count: int = 2) -> dict:
    for number in range(count):
        where.publish(tmp_path, f"ep{number}", number + 1)
    return json.loads(where.target().read(CATALOGUE_FILE))


def tamper(where: Where, catalogue: dict | bytes) -> None:
    data = catalogue if isinstance(catalogue, bytes) else json.dumps(catalogue).encode()
    edited = where.root / "edited.json" if where.kind == "bucket" else where.root.parent / "edited.json"
    edited.write_bytes(data)
    where.target().put({CATALOGUE_FILE: edited})


def changed(entry: dict, **fields) -> dict:
    return {**entry, **fields}


HOSTILE = {
    # name: (make the hostile catalogue from the good one, the key reported)
    "javascript slug": (lambda c: {**c, "javascript:alert(document.domain);//": changed(
        c["ep1"], slug="javascript:alert(document.domain);//")}, "javascript:alert(document.domain);//"),
    "bad date": (lambda c: {**c, "ep1": changed(c["ep1"], date="2026-13-45")}, "ep1"),
    "string number": (lambda c: {**c, "ep1": changed(c["ep1"], number="12")}, "ep1"),
    "string duration": (lambda c: {**c, "ep1": changed(c["ep1"], duration="1:00")}, "ep1"),
    "NaN": (lambda c: {**c, "ep1": changed(c["ep1"], duration=float("nan"))}, "ep1"),
    "integer title": (lambda c: {**c, "ep1": changed(c["ep1"], title=12)}, "ep1"),
    "control character": (lambda c: {**c, "ep1": changed(c["ep1"], title="Conver\x1bsation")}, "ep1"),
    "audio on another host": (lambda c: {**c, "ep1": changed(c["ep1"], audio_url="https://evil.example/x.mp3")},
                              "ep1"),
    "artwork on another host": (lambda c: {**c, "ep1": changed(c["ep1"], image_url="https://evil.example/a.jpg")},
                                "ep1"),
    "slug not its key": (lambda c: {**c, "ep1": changed(c["ep1"], slug="ep0")}, "ep1"),
    "not an object": (lambda c: {**c, "ep1": ["ep1"]}, "ep1"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_catalogue_entry_is_reported_and_left_out(tmp_path, case, warnings_logged):
    where = Where("folder", tmp_path / "public")
    make, key = HOSTILE[case]
    tamper(where, json.dumps(make(published(where, tmp_path))).encode())
    warnings_logged.clear()
    where.publish(tmp_path, "ep2", 3)  # no traceback: the publish goes through

    assert len(warnings_logged) == 1 and "\n" not in warnings_logged[0]
    assert f"{CATALOGUE_FILE}: key {ascii(key)}" in warnings_logged[0]
    catalogue = json.loads(where.target().read(CATALOGUE_FILE))
    assert set(catalogue) == {"ep0", "ep1", "ep2"} - {key}  # left out of what is rebuilt
    home, feed = where.target().read(PAGE_FILE).decode(), where.target().read("feed.xml").decode()
    assert "javascript:" not in home and "evil.example" not in home + feed


def test_a_script_in_a_description_is_sanitised_again(tmp_path, warnings_logged):
    where = Where("folder", tmp_path / "public")
    catalogue = published(where, tmp_path)
    catalogue["ep1"]["description_html"] = ('<p onclick="steal()">Notes</p><script>alert(1)</script>'
                                            '<a href="javascript:alert(2)">x</a><img src=x onerror=alert(3)>')
    tamper(where, catalogue)
    where.publish(tmp_path, "ep2", 3)
    kept = json.loads(where.target().read(CATALOGUE_FILE))["ep1"]["description_html"]
    feed = where.target().read("feed.xml").decode()
    for bad in ("<script", "onclick", "javascript:", "onerror", "<img"):
        assert bad not in kept and bad not in feed
    assert "Notes" in kept


def test_an_emptied_catalogue_is_refused_not_shrunk(tmp_path):
    where = Where("folder", tmp_path / "public")
    published(where, tmp_path, 3)
    feed = where.target().read("feed.xml")
    tamper(where, {})
    with pytest.raises(PipelineError) as refused:
        where.publish(tmp_path, "ep3", 4)
    assert refused.value.where.endswith(CATALOGUE_FILE) and "\n" not in str(refused.value)
    assert "lost 3 episode(s) the destination still serves (ep0, ep1, ep2)" in refused.value.message
    assert where.target().read("feed.xml") == feed
    # Publishing them again together (as --all does) rebuilds it.
    sites = [tmp_path / f"again-{number}" for number in range(4)]
    publish_episodes(make_cdn_show(), [(render_with_transcript(site, f"ep{number}", number + 1), site)
                                       for number, site in enumerate(sites)], where.target(), where.destination)
    assert set(json.loads(where.target().read(CATALOGUE_FILE))) == {"ep0", "ep1", "ep2", "ep3"}


def test_a_key_leading_out_of_the_bucket_prefix_never_becomes_a_local_path(tmp_path, bucket, endpoint, s3,
                                                                              warnings_logged, monkeypatch):
    where = Where("bucket", tmp_path / "work", bucket, endpoint)
    where.root.mkdir()
    catalogue = published(where, tmp_path)
    hostile = "../../../../../../tmp/" + tmp_path.name + "/escaped"
    catalogue[hostile] = {**catalogue["ep1"], "slug": hostile}
    s3.put_object(Bucket=bucket, Key=f"{PREFIX}/{CATALOGUE_FILE}", Body=json.dumps(catalogue).encode())
    s3.put_object(Bucket=bucket, Key=f"{PREFIX}/{hostile}/transcript.json",
                  Body=b'{"segments": [{"startTime": 0, "speaker": "x", "body": "y"}]}')
    monkeypatch.chdir(where.root)
    where.publish(tmp_path, "ep2", 3)
    assert not list(tmp_path.rglob("escaped")) and not Path("/tmp", tmp_path.name).exists()
    assert any(ascii(hostile[:80])[:40] in line for line in warnings_logged)
    assert set(json.loads(s3_folder(bucket, endpoint).read(CATALOGUE_FILE))) == {"ep0", "ep1", "ep2"}


# Caps on the producer's files

def test_oversized_notes_are_refused_in_one_line(project, capsys):
    folder = project.add_episode("ep", SAMPLE / "audio.mp3")
    (folder / "notes.md").write_bytes(b"x" * (MAX_FILE_BYTES + 1))
    started = time.perf_counter()
    result = project.publish(capsys, "episode", "ep", "--until", "audio")
    assert result.code == 1 and time.perf_counter() - started < 5
    assert "notes.md" in result.err and "more than the 1000000 allowed" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_an_overlong_field_is_refused_naming_its_key(project, capsys):
    folder = project.add_episode("ep", SAMPLE / "audio.mp3")
    toml = (folder / "episode.toml").read_text(encoding="utf-8")
    (folder / "episode.toml").write_text(toml.replace('title = "', 'title = "' + "x" * MAX_TEXT_CHARS, 1),
                                         encoding="utf-8")
    result = project.publish(capsys, "episode", "ep", "--until", "audio")
    assert result.code == 1 and "episode.toml: key 'title':" in result.err and "characters, more than" in result.err


@pytest.mark.parametrize("content, message", [
    ('[[correction]]\nheard = "a"\nmeant = "' + "m" * 50_000 + '"\n', "key 'correction[1].meant'"),
    ('[[correction]]\nheard = "' + "h" * 501 + '"\nmeant = "b"\n', "key 'correction[1].heard'"),
    ("# " + "x" * (MAX_FILE_BYTES + 1) + "\n", "more than the 1000000 allowed"),
])
def test_corrections_are_capped(tmp_path, content, message):
    path = tmp_path / "corrections.toml"
    path.write_text(content, encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(PipelineError) as refused:
        load_fixes(path)
    assert time.perf_counter() - started < 2
    assert message in str(refused.value) and "corrections.toml" in str(refused.value)
    assert "\n" not in str(refused.value)


CHILD = """
import sys
from pathlib import Path
from pipeline.engines.mastering import _run_ffmpeg
_run_ffmpeg(["-re", "-f", "lavfi", "-i", "anullsrc", "-t", "600", "-f", "null", "-"], Path("x"))
"""


def test_ffmpeg_is_stopped_with_its_parent():
    parent = subprocess.Popen([sys.executable, "-c", CHILD], cwd=REPO)
    try:
        children: list[int] = []
        for _ in range(100):  # up to 10 s for ffmpeg to start
            tasks = Path(f"/proc/{parent.pid}/task")
            children = [int(c) for t in tasks.iterdir() for c in (t / "children").read_text().split()]
            if children:
                break
            time.sleep(0.1)
        assert children, "ffmpeg never started"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        for _ in range(50):
            if not Path(f"/proc/{children[0]}").exists() or "Z" in _state(children[0]):
                break
            time.sleep(0.1)
        assert not Path(f"/proc/{children[0]}").exists() or "Z" in _state(children[0])
    finally:
        parent.kill()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


# The S3 endpoint and CORS

@pytest.mark.parametrize("endpoint_url, message", [
    ("user:hunter2@127.0.0.1:5055", "holds a user name or password"),
    ("127.0.0.1:5055", "not an http(s) URL with a host"),
    ("http://[x", "not a valid URL"),
    ("https://minio.example.org:port", "not a valid URL"),
    ("ftp://minio.example.org", "not an http(s) URL"),
])
@pytest.mark.parametrize("verb", [["episode", "ep", "--to", "s3://bucket/podcast"],
                                  ["cors", "--to", "s3://bucket/podcast"],
                                  ["feed", "--check", "--to", "s3://bucket/podcast"]])
def test_a_malformed_endpoint_is_refused_in_one_line_without_its_secret(project, capsys, endpoint_url,
                                                                         message, verb):
    project.add_episode("ep", SAMPLE / "audio.mp3")
    with project.show.open("a", encoding="utf-8") as show:
        show.write(f's3_endpoint_url = "{endpoint_url}"\n')
    capsys.readouterr()
    code = main([*verb, "--show", str(project.show)] + (["--episodes", str(project.episodes), "--work",
                                                          str(project.work)] if verb[0] == "episode" else []))
    err = capsys.readouterr().err
    assert code == 1 and f"key 's3_endpoint_url': {message}" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "hunter2" not in err and endpoint_url not in err


def cors_show(tmp_path: Path, endpoint: str) -> Path:
    show = tmp_path / "show.toml"
    text = (REPO / "feeds" / "show.toml").read_text(encoding="utf-8") + f's3_endpoint_url = "{endpoint}"\n'
    show.write_text(text, encoding="utf-8")
    (tmp_path / "artwork.jpg").write_bytes((REPO / "feeds" / "artwork.jpg").read_bytes())
    return show


UPLOADS = {"AllowedMethods": ["PUT"], "AllowedOrigins": ["https://upload.example.org"], "AllowedHeaders": ["*"]}


def test_cors_keeps_the_buckets_other_rules_and_says_it_is_bucket_wide(tmp_path, bucket, endpoint, s3, capsys):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [UPLOADS]})
    show = cors_show(tmp_path, endpoint)

    assert main(["cors", "--to", f"s3://{bucket}/{PREFIX}", "--dry-run", "--show", str(show)]) == 0
    out = capsys.readouterr().out
    printed = json.loads(out[:out.rindex("]") + 1])
    assert [rule["AllowedMethods"] for rule in printed] == [["PUT"], ["GET", "HEAD"]]
    assert "bucket-wide" in out and "dry run" in out
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == [UPLOADS]  # nothing set

    assert main(["cors", "--to", f"s3://{bucket}/{PREFIX}", "--show", str(show)]) == 0
    assert "bucket-wide" in capsys.readouterr().out
    rules = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert rules[0] == UPLOADS and rules[1]["AllowedMethods"] == ["GET", "HEAD"]
    # Again: nothing to add.
    assert main(["cors", "--to", f"s3://{bucket}/{PREFIX}", "--show", str(show)]) == 0
    assert "already set" in capsys.readouterr().out
    assert len(s3.get_bucket_cors(Bucket=bucket)["CORSRules"]) == 2


def test_the_catalogue_of_a_folder_is_read_through_the_same_checks(tmp_path, warnings_logged):
    where = Where("folder", tmp_path / "public")
    published(where, tmp_path, 1)
    (where.root / CATALOGUE_FILE).write_bytes(b'{"ep0": {"slug": "ep0"}}')
    where.publish(tmp_path, "ep1", 2)
    assert "'title': Field required" in warnings_logged[0]
    assert isinstance(LocalFolder(where.root).read(CATALOGUE_FILE), bytes)
    assert load_show(REPO / "feeds" / "show.toml").s3_endpoint_url is None
