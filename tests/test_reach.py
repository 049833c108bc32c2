"""Trust and reach (issue 25): drafts stay on the machine, the lock file is not published, and
episode pages carry what a link preview, an embed and podcast apps read."""

from __future__ import annotations

import pytest
from werkzeug.test import Client

from pipeline.commands.serve import site_app
from pipeline.publishing.targets.local import LEGACY_LOCK_FILE, LocalFolder, lock_path
from tests.conftest import make_show, publish_one, render_by_hand

# Drafts


@pytest.mark.slow
def test_a_draft_is_rendered_and_never_published_except_to_a_folder_given(project, sample_clip, capsys,
                                                                            tmp_path):
    toml = project.add_episode("brouillon", sample_clip) / "episode.toml"
    toml.write_text("draft = true\n" + toml.read_text(encoding="utf-8"), encoding="utf-8")
    held = project.publish(capsys, "episode", "brouillon")
    assert held.code == 0, held.err
    site = project.work / "brouillon" / "site"
    assert "brouillon: a draft" in held.out and "not published" in held.out
    assert f"publish serve {site}" in held.out and "--to DIR" in held.out
    assert (site / "brouillon" / "index.html").is_file()  # rendered, to preview
    assert not project.site.exists()  # the show's destination never saw it
    to_bucket = project.publish(capsys, "episode", "brouillon", "--to", "s3://bucket/podcast")
    assert to_bucket.code == 0 and "not published" in to_bucket.out  # no request was made
    preview = tmp_path / "preview"
    shown = project.publish(capsys, "episode", "brouillon", "--to", str(preview))
    assert shown.code == 0, shown.err
    assert (preview / "brouillon" / "index.html").is_file()
    assert b"brouillon" not in (preview / "feed.xml").read_bytes()  # still out of feed and catalogue


# The lock file


def test_the_lock_file_is_outside_the_published_folder_and_never_served(tmp_path, monkeypatch):
    monkeypatch.setenv("PUBLISH_CACHE", str(tmp_path / "cache"))
    site, built = tmp_path / "site", tmp_path / "build"
    (site).mkdir()
    (site / LEGACY_LOCK_FILE).write_text("")  # left by an older version
    rendered = render_by_hand(built, "ep1", 1)
    publish_one(make_show(), rendered, built, LocalFolder(site), str(site))
    assert not list(site.rglob(".*"))
    assert lock_path(site).is_file() and not lock_path(site).is_relative_to(site)
    (site / LEGACY_LOCK_FILE).write_text("")
    client = Client(site_app(site))
    assert client.get("/ep1/index.html").status_code == 200
    assert client.get(f"/{LEGACY_LOCK_FILE}").status_code == 404
    assert client.get("/ep1/.hidden").status_code == 404
