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
  tabs each add their own entry and neither loses the other's; the same fix sent twice (a retry)
  is written once; the file keeps its line endings (CRLF stays CRLF) and its comments;
- a request body is at most MAX_BODY bytes (413 beyond), and must be a JSON object (400 else);
- the answer says the truth: saved and re-rendered (200), saved while a publish run holds the
  episode (202: re-rendered as soon as that run ends), or not saved (400), or saved but not
  re-rendered (500, saying so). Each answer lists what the fix changed besides itself.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import tomlkit
import tomlkit.exceptions
import tomlkit.items
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
from pipeline.config import parse_timestamp
from pipeline.engines.corrections import apply_corrections
from pipeline.errors import PipelineError
from pipeline.model import dialogue_from_data, join_words
from pipeline.review.changes import changed_besides

ASSETS = {"review.js": "text/javascript", "review.css": "text/css", "style.css": "text/css"}
TOKEN_HEADER = "X-Review-Token"
MAX_BODY = 64 * 1024  # bytes: a fix is a few words; anything bigger is refused (413)
RETRY_S = 2.0  # a fix saved during a publish run: re-render tried again this often
FIX_KINDS = {  # a fix's kind -> the corrections.toml table it adds to, and the fields it takes
    "correction": ("correction", ("heard", "meant", "from", "to")),
    "speaker": ("speaker", ("name", "from", "to")),
    "link": ("link", ("phrase", "heard", "from", "to")),
    "accepted": ("accepted", ("kind", "at", "heard")),
    "not_mention": ("not_mention", ("phrase", "heard", "from", "to")),
}
TIMES = ("from", "to", "at")


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
    pending: bool = False  # a fix saved while a publish run held the episode, not yet rendered

    def open_run(self) -> EpisodeRun:
        return self.project.open_run(self.slug)

    def render(self) -> list[str]:
        """Run the stages up to render (no publishing); the names of those that ran."""
        return run_stages(self.open_run(), until="render")

    @property
    def fixes_file(self) -> Path:
        return corrections_file(self.open_run())

    def page_data(self) -> dict:
        """What the page shows: the episode as footnoted, its people and links, its doubts, the
        fixes made so far (for undo), and whether a fix waits for a publish run to end."""
        run = self.open_run()
        review = json.loads((run.work / REVIEW_FILE).read_text(encoding="utf-8"))
        dialogue = run.artifact("footnotes")
        return {
            "title": run.episode.title,
            "slug": run.episode.slug,
            "people": people(run),
            "links": [{"phrase": link.phrases[0], "phrases": [p.strip() for p in link.phrases],
                       "title": link.title, "url": link.url} for link in run.episode.links],
            "turns": dialogue["turns"],
            "references": dialogue["references"],
            "doubts": review["items"],
            "fixes": _fixes_made(corrections_file(run)),
            "pending": self.pending,
        }

    def add_fix(self, fix: dict) -> tuple[int, dict]:
        """Write one fix to corrections.toml (once: the same fix again is not added), re-render,
        and answer (status, the page's new data with what happened in "fixed")."""
        table, entry = _entry(fix)
        with self.lock:
            began = time.perf_counter()
            run = self.open_run()  # the files as they are now
            if table in ("correction", "link", "not_mention"):
                entry["heard"] = _heard_between(run, fix["from"], fix["to"])
            before = self.page_data()
            added = _append(run, table, entry)
            return self._rerendered(before, fix, _own_title(run, entry), began, added)

    def undo(self, request: dict) -> tuple[int, dict]:
        """Remove one entry the page listed from corrections.toml (the rest and comments kept)."""
        if not isinstance(request, dict) or not isinstance(request.get("entry"), dict):
            raise FixRefused("undo names a fix the page listed: {table, index, entry}")
        with self.lock:
            began = time.perf_counter()
            run = self.open_run()
            before = self.page_data()
            entry = _remove(run, request.get("table"), request.get("index"), request["entry"])
            span = {k: parse_timestamp(entry[k]) for k in ("from", "to") if k in entry}
            return self._rerendered(before, span, _own_title(run, entry), began, True)

    def _rerendered(self, before: dict, fix: dict, own: str | None, began: float, written: bool) -> tuple[int, dict]:
        """Render after a write, and say what happened: 200 rendered, 202 waiting for a publish
        run in progress (rendered when it ends), 500 saved but not rendered."""
        try:
            ran = self.render()
        except PipelineError as error:
            if not _is_busy(error):
                return 500, {**before, "saved": written, "fixes": _fixes_made(self.fixes_file),
                             "error": f"saved to corrections.toml, but the page could not re-render: {error}"}
            self.pending = True
            threading.Thread(target=self._render_when_free, daemon=True).start()
            return 202, {**before, "pending": True, "saved": written, "fixes": _fixes_made(self.fixes_file), "fixed": {
                "written": written, "waiting": "a publish run is working on this episode: the page "
                "re-renders with this fix as soon as it ends"}}
        data = self.page_data()
        data["fixed"] = {"seconds": round(time.perf_counter() - began, 2), "ran": ran, "written": written,
                         "changed": changed_besides(before, data, fix, own)}
        return 200, data

    def _render_when_free(self, tries: int = 1800) -> None:
        """Re-render once the publish run in progress lets go of the episode."""
        for _ in range(tries):
            time.sleep(RETRY_S)
            try:
                with self.lock:
                    self.render()
                self.pending = False
                return
            except PipelineError as error:
                if not _is_busy(error):
                    return


def _is_busy(error: PipelineError) -> bool:
    """Whether a render failed only because a publish run holds the episode's lock."""
    return bool(error.where and error.where.endswith(".lock"))


def _own_title(run: EpisodeRun, entry: dict) -> str | None:
    """The title of the link a fix names (its marker's moves are the fix itself)."""
    phrase = entry.get("phrase")
    return next((link.title for link in run.episode.links if phrase in (p.strip() for p in link.phrases)), None)


def _fixes_made(path: Path) -> list[dict]:
    """The entries of corrections.toml, table by table, as the page lists them for undo."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except tomllib.TOMLDecodeError:
        return []
    return [{"table": table, "index": index, "entry": {k: str(v) for k, v in entry.items()}}
            for table, entries in data.items() if isinstance(entries, list)
            for index, entry in enumerate(entries) if isinstance(entry, dict)]


def _heard_between(run: EpisodeRun, start: float, end: float) -> str:
    """The words recognition wrote in a stretch, with the producer's corrections so far: what a
    fix there must name (the page shows them respelled by the footnotes stage too)."""
    dialogue = apply_corrections(dialogue_from_data(run.artifact("diarize")), producer_fixes(run).corrections)
    words = [w for turn in dialogue.turns for w in turn.words if w.start >= start - 0.05 and w.end <= end + 0.05]
    if not words:
        raise FixRefused(f"no words between {timestamp(start)} and {timestamp(end)}")
    return join_words(words, markers=False)


def _read_document(path: Path) -> tuple[tomlkit.TOMLDocument, str]:
    """The corrections file as tomlkit keeps it (comments too), and its line ending."""
    if not path.exists():
        return _new_fixes_file(), "\n"
    with path.open(encoding="utf-8", newline="") as file:  # CRLF read as written
        text = file.read()
    try:
        return tomlkit.parse(text), "\r\n" if "\r\n" in text else "\n"
    except tomlkit.exceptions.ParseError as error:
        raise FixRefused(f"{path}: malformed TOML ({error}); mend it by hand, then fix again") from None


def _same(entry: dict, other: object) -> bool:
    """Whether an entry of the file is this fix (times compared as times)."""
    if not isinstance(other, dict) or set(other) != set(entry):
        return False
    try:
        return all(parse_timestamp(other[k]) == parse_timestamp(v) if k in TIMES else str(other[k]) == str(v)
                   for k, v in entry.items())
    except (PipelineError, ValueError, TypeError):
        return False


def _append(run: EpisodeRun, table: str, entry: dict) -> bool:
    """The entry added to the episode's corrections.toml: written beside it, checked as a run
    would load it, then renamed over it. False, writing nothing, when it is there already."""
    path = corrections_file(run)
    document, newline = _read_document(path)
    if table not in document:
        document[table] = tomlkit.aot()
    entries = document[table]
    if not isinstance(entries, list):
        raise FixRefused(f"{path}: '{table}' is not a list of tables; mend it by hand, then fix again")
    if any(_same(entry, other) for other in entries.unwrap()):
        return False
    if isinstance(entries, tomlkit.items.AoT):
        entries.append(tomlkit.item(entry))
    else:  # an array of inline tables, as some write by hand: one more inline table
        inline = tomlkit.inline_table()
        inline.update(entry)
        entries.append(inline)
    _write(run, path, document, newline)
    return True


def _remove(run: EpisodeRun, table: object, index: object, entry: dict) -> dict:
    """The entry at table[index] removed, when it is still the one the page listed (else the
    first one equal to it); the rest of the file and its comments kept."""
    path = corrections_file(run)
    document, newline = _read_document(path)
    entries = document.get(table) if isinstance(table, str) else None
    listed = entries.unwrap() if isinstance(entries, list) else []
    if not (isinstance(index, int) and 0 <= index < len(listed) and _plain(listed[index]) == entry):
        index = next((i for i, other in enumerate(listed) if _plain(other) == entry), None)
    if index is None:
        raise FixRefused("that fix is no longer in corrections.toml")
    del entries[index]
    if not entries:
        del document[table]
    _write(run, path, document, newline)
    return listed[index]


def _plain(entry: object) -> dict:
    return {k: str(v) for k, v in entry.items()} if isinstance(entry, dict) else {}


def _write(run: EpisodeRun, path: Path, document: tomlkit.TOMLDocument, newline: str) -> None:
    """The document written beside the file, checked as a run would load it, renamed over it."""
    text = tomlkit.dumps(document).replace("\r\n", "\n")
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        with partial.open("w", encoding="utf-8", newline=newline) as file:
            file.write(text)
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
        if name in TIMES:
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
        if name == "favicon.ico":  # browsers ask for one: no icon, and no error in the console
            return Response(status=204)
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
        if request.method == "POST" and name in ("api/fix", "api/undo"):
            origin = request.headers.get("Origin")
            if origin is not None and origin.removeprefix("http://") not in own:
                return refuse(403, "fixes come from the review page only")
            return _fix_answer(session, name, request)
        return refuse(404, "no such page")

    return app


def _answer(status: int, data: dict) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


def _body(request: Request) -> tuple[int, object]:
    """The request's JSON body, or (4xx, the reason): at most MAX_BODY bytes, well-formed JSON."""
    if (request.content_length or 0) > MAX_BODY:
        return 413, f"a fix is at most {MAX_BODY // 1024} KiB"
    raw = request.stream.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        return 413, f"a fix is at most {MAX_BODY // 1024} KiB"
    try:
        return 200, json.loads(raw)
    except (ValueError, RecursionError):
        return 400, "a fix is a JSON object"


def _fix_answer(session: ReviewSession, name: str, request: Request) -> Response:
    """A fix (api/fix) or an undo (api/undo) applied, and the truth about it."""
    status, body = _body(request)
    if status != 200:
        return _answer(status, {"error": body})
    try:
        status, data = session.add_fix(body) if name == "api/fix" else session.undo(body)
    except FixRefused as refused:
        return _answer(400, {"error": str(refused)})
    except PipelineError as error:
        return _answer(500, {"error": str(error)})
    return _no_store(_answer(status, data))


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
