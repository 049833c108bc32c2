"""The review page's server: the producer fixes, by ear, what the stages doubted.

`publish review SLUG` renders the episode (no publishing) and serves a page on 127.0.0.1 with
the audio, the transcript and every doubt of `build/<slug>/review.json`. Each fix the page sends
becomes one entry of the episode's corrections.toml (see corrections.py); then the footnotes and
render stages run again from the cached transcript and speakers, in seconds.

Safe by default:
- it listens on 127.0.0.1 only, and answers only requests naming it as their Host (a web page
  cannot reach it through a DNS name of its own);
- the episode's data and every fix need the page's token, drawn afresh for each run and given
  in the address `publish review` prints; a fix must also come from the page's own origin;
- a fix only ever adds an entry to the episode folder's corrections.toml, written to a temporary
  file, checked as a run would load it, then renamed into place: a browser dying mid-save leaves
  the old file whole, a bad fix leaves it untouched;
- fixes are applied one at a time under a lock, each to the file as it is on disk then: two
  tabs each add their own entry and neither loses the other's.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import tomlkit
import tomlkit.exceptions
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.utils import send_file
from werkzeug.wrappers import Request, Response

from pipeline.build.context import (
    REVIEW_FILE,
    corrections_file,
    mastered,
    people,
    producer_fixes,
)
from pipeline.build.project import Project
from pipeline.build.runner import EpisodeRun, run_stages
from pipeline.engines.corrections import apply_corrections
from pipeline.errors import PipelineError
from pipeline.model import dialogue_from_data, join_words

ASSETS = {"review.js": "text/javascript", "review.css": "text/css", "style.css": "text/css"}
TOKEN_HEADER = "X-Review-Token"
FIX_KINDS = {  # a fix's kind -> the corrections.toml table it adds to, and the fields it takes
    "correction": ("correction", ("heard", "meant", "from", "to")),
    "speaker": ("speaker", ("name", "from", "to")),
    "link": ("link", ("phrase", "heard", "from", "to")),
    "accepted": ("accepted", ("kind", "at", "heard")),
}


def timestamp(seconds: float) -> str:
    """A time as corrections.toml reads best: "m:ss.ss" (or "h:mm:ss.ss")."""
    minutes, secs = divmod(max(float(seconds), 0.0), 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{secs:05.2f}" if hours else f"{minutes}:{secs:05.2f}"


class FixRefused(Exception):
    """A fix the page sent that cannot be written; its message is for the producer."""


@dataclass
class ReviewSession:
    """One episode under review: its run, the page's token, the lock fixes are written under."""

    project: Project
    slug: str
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def open_run(self) -> EpisodeRun:
        return self.project.open_run(self.slug)

    def render(self) -> list[str]:
        """Run the stages up to render (no publishing); the names of those that ran."""
        return run_stages(self.open_run(), until="render")

    @property
    def fixes_file(self) -> Path:
        return corrections_file(self.open_run())

    def page_data(self) -> dict:
        """What the page shows: the episode as footnoted, its people and links, its doubts."""
        run = self.open_run()
        review = json.loads((run.work / REVIEW_FILE).read_text(encoding="utf-8"))
        dialogue = run.artifact("footnotes")
        return {
            "title": run.episode.title,
            "slug": run.episode.slug,
            "people": people(run),
            "links": [{"phrase": link.phrases[0], "title": link.title, "url": link.url} for link in run.episode.links],
            "turns": dialogue["turns"],
            "references": dialogue["references"],
            "doubts": review["items"],
        }

    def add_fix(self, fix: dict) -> dict:
        """Write one fix to corrections.toml, re-render, and return the page's new data."""
        table, entry = _entry(fix)
        with self.lock:
            began = time.perf_counter()
            run = self.open_run()  # the files as they are now
            if table in ("correction", "link"):
                entry["heard"] = _heard_between(run, fix["from"], fix["to"])
            _append(run, table, entry)
            ran = self.render()
            data = self.page_data()
        data["fixed"] = {"seconds": round(time.perf_counter() - began, 2), "ran": ran}
        return data


def _heard_between(run: EpisodeRun, start: float, end: float) -> str:
    """The words recognition wrote in a stretch, with the producer's corrections so far: what a
    fix there must name (the page shows them respelled by the footnotes stage too)."""
    dialogue = apply_corrections(dialogue_from_data(run.artifact("diarize")), producer_fixes(run).corrections)
    words = [w for turn in dialogue.turns for w in turn.words if w.start >= start - 0.05 and w.end <= end + 0.05]
    if not words:
        raise FixRefused(f"no words between {timestamp(start)} and {timestamp(end)}")
    return join_words(words, markers=False)


def _append(run: EpisodeRun, table: str, entry: dict) -> None:
    """The entry added to the episode's corrections.toml: written beside it, checked as a run
    would load it, then renamed over it."""
    path = corrections_file(run)
    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else _new_fixes_file()
    except tomlkit.exceptions.ParseError as error:
        raise FixRefused(f"{path}: malformed TOML ({error}); mend it by hand, then fix again") from None
    if table not in document:
        document[table] = tomlkit.aot()
    document[table].append(tomlkit.item(entry))
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        partial.write_text(tomlkit.dumps(document), encoding="utf-8")
        try:
            producer_fixes(run, partial)
        except PipelineError as error:
            raise FixRefused(str(error).replace(str(partial), str(path))) from None
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def _new_fixes_file() -> tomlkit.TOMLDocument:
    document = tomlkit.document()
    document.add(tomlkit.comment("The producer's fixes to this episode (see `publish review`); applied on every run."))
    return document


def _entry(fix: dict) -> tuple[str, dict]:
    """The corrections.toml table and entry for a fix the page sent, or FixRefused."""
    if not isinstance(fix, dict) or fix.get("fix") not in FIX_KINDS:
        raise FixRefused(f"a fix is one of: {', '.join(FIX_KINDS)}")
    table, fields = FIX_KINDS[fix["fix"]]
    entry = {}
    for name in fields:
        value = fix.get(name)
        if name in ("from", "to", "at"):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1e6:
                raise FixRefused(f"'{name}' must be a time in seconds")
            entry[name] = timestamp(value)
        elif isinstance(value, str) and (value.strip() or name == "heard"):
            entry[name] = value.strip()
        else:
            raise FixRefused(f"'{name}' must be given")
    return table, entry


def review_app(session: ReviewSession, port_of: Callable[[], int]):
    """The WSGI app; port_of() is the port it listens on (known once the server is up)."""

    def refuse(status: int, message: str) -> Response:
        return Response(json.dumps({"error": message}), status=status, mimetype="application/json")

    @Request.application
    def app(request: Request) -> Response:
        own = {f"127.0.0.1:{port_of()}", f"localhost:{port_of()}"}
        if request.host not in own:
            return refuse(403, "this page answers on 127.0.0.1 only")
        name = request.path.lstrip("/")
        if request.method == "GET" and name.startswith("assets/") and name[7:] in ASSETS:
            text = resources.files("pipeline").joinpath("assets", name[7:]).read_bytes()
            return Response(text, mimetype=ASSETS[name[7:]])
        token = request.headers.get(TOKEN_HEADER) or request.args.get("token", "")
        if not secrets.compare_digest(token.encode(), session.token.encode()):
            return refuse(403, "open the address `publish review` printed: it holds the page's token")
        if request.method == "GET" and name == "":
            page = resources.files("pipeline").joinpath("templates", "review.html").read_text(encoding="utf-8")
            return _no_store(Response(page, mimetype="text/html"))
        if request.method == "GET" and name == "audio":
            return send_file(mastered(session.open_run()).path, request.environ, mimetype="audio/mpeg",
                             conditional=True)
        if name.startswith("api/") and request.headers.get(TOKEN_HEADER) is None:
            return refuse(403, f"the page's requests carry {TOKEN_HEADER}")
        if request.method == "GET" and name == "api/review":
            return _no_store(Response(json.dumps(session.page_data()), mimetype="application/json"))
        if request.method == "POST" and name == "api/fix":
            origin = request.headers.get("Origin")
            if origin is not None and origin.removeprefix("http://") not in own:
                return refuse(403, "fixes come from the review page only")
            try:
                data = session.add_fix(request.get_json(force=True, silent=True))
            except FixRefused as refused:
                return refuse(400, str(refused))
            except PipelineError as error:
                return refuse(500, str(error))
            return _no_store(Response(json.dumps(data), mimetype="application/json"))
        return refuse(404, "no such page")

    return app


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token stays in this page's address
    return response


def open_review_server(session: ReviewSession, port: int = 0) -> BaseWSGIServer:
    """The server on 127.0.0.1 (port 0: any free one); serve_forever() runs it."""
    holder: dict[str, int] = {}
    server = make_server("127.0.0.1", port, review_app(session, lambda: holder["port"]), threaded=True)
    holder["port"] = server.server_port
    return server
