// The review page (see pipeline/review_server.py): the transcript as listeners read it, every
// doubt marked; n / p walk through the doubts, Enter listens, a accepts one as right; a click on
// a word plays from just before it, shift-click selects words to fix. Text is only ever set as
// text: words, names and titles may hold markup.
"use strict";

const token = new URLSearchParams(location.search).get("token") || "";
const LEAD_S = 3; // a click plays from this long before the word
const player = document.getElementById("player");
const $ = (id) => document.getElementById(id);
let page = null; // the server's data: turns, doubts, people, links, references
let current = 0; // the doubt shown
let selection = null; // {turn, first, last} word indexes

player.src = "/audio?token=" + encodeURIComponent(token);

async function call(path, body) {
  const response = await fetch(path, {
    method: body ? "POST" : "GET",
    headers: Object.assign({ "X-Review-Token": token }, body ? { "Content-Type": "application/json" } : {}),
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function clock(seconds) {
  const s = Math.floor(seconds), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, r = s % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return (h ? h + ":" : "") + mm + ":" + String(r).padStart(2, "0");
}

function glued(text) { // "'imaginaire", "-ce": the rest of the word before, printed unspaced
  return /^['’]/.test(text) || /^-\w/.test(text);
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function render() {
  $("title").textContent = page.title;
  document.title = "Review · " + page.title;
  const box = $("transcript");
  box.textContent = "";
  const host = page.people[0];
  page.turns.forEach((turn, t) => {
    const paragraph = element("p", "turn " + (turn.speaker === host ? "host" : "guest"));
    paragraph.dataset.turn = t;
    const who = element("span", "who");
    who.append(element("span", "time", clock(turn.words[0].start)), " ", element("span", "speaker", turn.speaker));
    paragraph.append(who);
    turn.words.forEach((word, i) => {
      const span = element("span", "w", word.text);
      Object.assign(span.dataset, { turn: t, word: i, start: word.start, end: word.end });
      paragraph.append(glued(word.text) || i === 0 ? "" : " ", span);
      if (word.footnote !== null && word.footnote !== undefined) {
        const sup = element("sup", "fn", "[" + word.footnote + "]");
        sup.dataset.footnote = word.footnote;
        paragraph.append(sup);
      }
    });
    box.append(paragraph);
  });
  const references = $("references");
  references.textContent = "";
  for (const reference of page.references) {
    const item = element("li", reference.number === null ? "unheard" : "");
    if (reference.number !== null) item.value = reference.number;
    item.append(element("span", "", (reference.number === null ? "– " : "[" + reference.number + "] ") + reference.title));
    references.append(item);
  }
  for (const [select, options] of [[$("link"), page.links.map((l) => [l.phrase, l.phrase + " — " + l.title])],
                                   [$("person"), page.people.map((p) => [p, p])]]) {
    select.textContent = "";
    for (const [value, label] of options) {
      const option = element("option", "", label);
      option.value = value;
      select.append(option);
    }
  }
  markDoubts();
  showDoubt(Math.min(current, Math.max(page.doubts.length - 1, 0)), false);
}

function wordsBetween(start, end) {
  return [...document.querySelectorAll(".w")].filter((w) => +w.dataset.start < end && +w.dataset.end > start);
}

function markDoubts() {
  page.doubts.forEach((doubt, k) => {
    const words = doubt.heard ? wordsBetween(doubt.start, doubt.end) : [];
    if (words.length) {
      for (const word of words) word.classList.add("doubt", "kind-" + doubt.kind);
      words[0].dataset.doubt = k;
      if (doubt.kind === "speaker") words[0].closest(".turn").classList.add("doubted-turn");
    } else { // nothing to underline: a badge where it should be
      const badge = element("span", "gap kind-" + doubt.kind,
        doubt.kind === "unheard" ? "⚑ speech without words " + clock(doubt.start) + "–" + clock(doubt.end)
                                 : "⚑ not found: " + doubt.chose);
      badge.dataset.doubt = k;
      const after = [...document.querySelectorAll(".w")].find((w) => +w.dataset.start >= doubt.start);
      if (after) after.before(badge, " "); else $("transcript").append(badge);
    }
  });
}

function showDoubt(k, seek = true) {
  document.querySelectorAll(".current").forEach((n) => n.classList.remove("current"));
  const count = page.doubts.length;
  current = count ? (k + count) % count : 0;
  $("doubt-count").textContent = count ? (current + 1) + " / " + count : "No doubt left";
  ["prev", "next", "play", "accept"].forEach((id) => { $(id).disabled = !count; });
  if (!count) {
    $("doubt-kind").textContent = $("doubt-time").textContent = $("doubt-note").textContent = "";
    return;
  }
  const doubt = page.doubts[current];
  $("doubt-kind").textContent = doubt.kind;
  $("doubt-time").textContent = clock(doubt.start) + "–" + clock(doubt.end);
  $("doubt-note").textContent = doubt.note + (doubt.heard ? " · heard «" + doubt.heard + "»" : "");
  const node = document.querySelector('[data-doubt="' + current + '"]');
  if (node) {
    (doubt.heard ? wordsBetween(doubt.start, doubt.end) : [node]).forEach((n) => n.classList.add("current"));
    node.scrollIntoView({ block: "center" });
  }
  if (seek) player.currentTime = Math.max(0, doubt.start - LEAD_S);
}

function play(from) {
  player.currentTime = Math.max(0, from - LEAD_S);
  player.play().catch(() => {}); // a page not yet clicked may not play: the time is set anyway
}

function selectWords(turn, first, last) {
  selection = { turn, first: Math.min(first, last), last: Math.max(first, last) };
  document.querySelectorAll(".w.selected").forEach((n) => n.classList.remove("selected"));
  const words = selectedSpans();
  words.forEach((n) => n.classList.add("selected"));
  const text = words.map((n) => n.textContent).join(" ");
  $("selected").textContent = text;
  $("selected-time").textContent = clock(+words[0].dataset.start);
  $("meant").value = text;
  $("fix").hidden = false;
}

function selectedSpans() {
  return [...document.querySelectorAll('.w[data-turn="' + selection.turn + '"]')]
    .filter((n) => +n.dataset.word >= selection.first && +n.dataset.word <= selection.last);
}

function selectedSpan() {
  const words = page.turns[selection.turn].words.slice(selection.first, selection.last + 1);
  return { heard: words.map((w) => w.text).join(" "), from: words[0].start - 0.01, to: words[words.length - 1].end + 0.01 };
}

function closeFix() {
  selection = null;
  $("fix").hidden = true;
  document.querySelectorAll(".w.selected").forEach((n) => n.classList.remove("selected"));
}

async function send(...fixes) {
  $("status").textContent = "Saving…";
  try {
    for (const fix of fixes) page = await call("/api/fix", fix);
    closeFix();
    render();
    $("status").textContent = "Saved to corrections.toml; re-rendered in " + page.fixed.seconds + " s ("
      + (page.fixed.ran.join(", ") || "nothing to redo") + ").";
  } catch (error) {
    $("status").textContent = "Not saved: " + error.message;
  }
}

$("transcript").addEventListener("mousedown", (event) => {
  if (event.shiftKey && event.target.closest(".w")) event.preventDefault(); // a word selection, not a text one
});

$("transcript").addEventListener("click", (event) => {
  const word = event.target.closest(".w");
  if (!word) return;
  const turn = +word.dataset.turn, index = +word.dataset.word;
  if (event.shiftKey && selection && selection.turn === turn) selectWords(turn, selection.first, index);
  else {
    selectWords(turn, index, index);
    play(+word.dataset.start);
  }
});

$("fix").addEventListener("submit", (event) => {
  event.preventDefault();
  const span = selectedSpan();
  send({ fix: "correction", heard: span.heard, meant: $("meant").value, from: span.from, to: span.to });
});

$("place").addEventListener("click", () => {
  const span = selectedSpan(), phrase = $("link").value;
  if ($("respell").checked && span.heard !== phrase) {
    send({ fix: "correction", heard: span.heard, meant: phrase, from: span.from, to: span.to },
         { fix: "link", phrase, heard: phrase, from: span.from, to: span.to });
  } else send({ fix: "link", phrase, heard: span.heard, from: span.from, to: span.to });
});

function giveTo(rest) {
  const words = page.turns[selection.turn].words;
  const last = rest ? words.length - 1 : selection.last;
  send({ fix: "speaker", name: $("person").value, from: words[selection.first].start - 0.01, to: words[last].end + 0.01 });
}
$("give-words").addEventListener("click", () => giveTo(false));
$("give-rest").addEventListener("click", () => giveTo(true));

function accept() {
  const doubt = page.doubts[current];
  if (doubt) send({ fix: "accepted", kind: doubt.kind, at: doubt.start, heard: doubt.heard });
}

$("prev").addEventListener("click", () => showDoubt(current - 1));
$("next").addEventListener("click", () => showDoubt(current + 1));
$("play").addEventListener("click", () => page.doubts[current] && play(page.doubts[current].start));
$("accept").addEventListener("click", accept);

document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, select, textarea") || event.ctrlKey || event.metaKey || event.altKey) return;
  const actions = {
    n: () => showDoubt(current + 1), p: () => showDoubt(current - 1),
    a: accept, Escape: closeFix,
    Enter: () => page.doubts[current] && play(page.doubts[current].start),
  };
  if (actions[event.key] && page) {
    event.preventDefault();
    actions[event.key]();
  }
});

call("/api/review").then((data) => { page = data; render(); })
  .catch((error) => { $("status").textContent = "Cannot load the episode: " + error.message; });
