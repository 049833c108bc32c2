// The review page (see pipeline/review/server.py): the transcript as listeners read it, every
// doubt marked and listed by kind beside it (links and speakers first); n / p walk through the
// doubts, Enter listens, a accepts one as right, l loops it, r rewinds 2 s, Space plays or
// pauses, [ and ] change the speed. A click on a word plays from just before it, shift-click
// selects words to fix; a click on a marker offers "not a mention". Shortcuts never fire while
// typing, and nothing typed stops the audio. Each fix made is listed with its undo. Text is only
// ever set as text: words, names and titles may hold markup.
"use strict";

const token = new URLSearchParams(location.search).get("token") || "";
const LEAD_S = 3; // a click plays from this long before the word
const REWIND_S = 2;
const SPEEDS = [0.75, 1, 1.25, 1.5, 2];
const KIND_ORDER = ["link-not-found", "second-chance", "speaker", "unheard", "guessed", "word"];
const KIND_NAMES = {
  "link-not-found": "Links not found", "second-chance": "Links placed on a second listen",
  speaker: "Speakers", unheard: "Speech without words", guessed: "Guessed words", word: "Unsure words",
};
const LINK_KINDS = new Set(["link-not-found", "second-chance"]);
const player = document.getElementById("player");
const $ = (id) => document.getElementById(id);
let page = null; // the server's data: turns, doubts, people, links, references, fixes
let current = 0; // the doubt shown, an index into shown()
let selection = null; // {turn, first, last} word indexes
let firstCount = null; // doubts when the page was opened: the progress count's base

player.src = "/audio?token=" + encodeURIComponent(token);

async function call(path, body) {
  const response = await fetch(path, {
    method: body ? "POST" : "GET",
    headers: Object.assign({ "X-Review-Token": token }, body ? { "Content-Type": "application/json" } : {}),
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json();
  if (!response.ok && !data.saved) throw new Error(data.error || response.statusText);
  data.httpStatus = response.status;
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

function button(label, onClick, className) {
  const node = element("button", className || "", label);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}

function shown() { // the doubts walked through: all, or the links' alone
  if (!page) return [];
  return $("links-only").checked ? page.doubts.filter((d) => LINK_KINDS.has(d.kind)) : page.doubts;
}

function renderTurns() {
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
        Object.assign(sup.dataset, { footnote: word.footnote, turn: t, word: i });
        sup.title = "Click: not a mention?";
        paragraph.append(sup);
      }
    });
    box.append(paragraph);
  });
}

function renderReferences() {
  const references = $("references");
  references.textContent = "";
  for (const reference of page.references) {
    const item = element("li", reference.number === null ? "unheard" : "");
    if (reference.number !== null) item.value = reference.number;
    item.append(element("span", "", (reference.number === null ? "– " : "[" + reference.number + "] ") + reference.title));
    references.append(item);
  }
}

function renderChoices() {
  const phrases = page.links.flatMap((l) => (l.phrases || [l.phrase]).map((p) => [p, p + " — " + l.title]));
  for (const [select, options] of [[$("link"), phrases], [$("person"), page.people.map((p) => [p, p])]]) {
    const kept = select.value;
    select.textContent = "";
    for (const [value, label] of options) {
      const option = element("option", "", label);
      option.value = value;
      select.append(option);
    }
    if (options.some(([value]) => value === kept)) select.value = kept;
  }
}

function render() {
  $("title").textContent = page.title;
  document.title = "Review · " + page.title;
  if (firstCount === null) firstCount = page.doubts.length;
  const rank = (d) => (KIND_ORDER.indexOf(d.kind) + KIND_ORDER.length + 1) % (KIND_ORDER.length + 1);
  page.doubts.sort((a, b) => rank(a) - rank(b) || a.start - b.start); // walked as listed: links, speakers first
  renderTurns();
  renderReferences();
  renderChoices();
  markDoubts();
  renderList();
  renderFixes();
  showDoubt(Math.min(current, Math.max(shown().length - 1, 0)), false);
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

function doubtLabel(doubt) {
  if (doubt.kind === "link-not-found" || doubt.kind === "second-chance") return doubt.chose;
  if (doubt.kind === "speaker") return doubt.chose + ": «" + doubt.heard.slice(0, 40) + "»";
  return doubt.heard ? "«" + doubt.heard.slice(0, 50) + "»" : doubt.chose;
}

function renderList() {
  const list = $("doubt-list"), walked = shown();
  list.textContent = "";
  for (const kind of KIND_ORDER) {
    const items = walked.map((d, i) => [d, i]).filter(([d]) => d.kind === kind);
    if (!items.length) continue;
    list.append(element("h3", "", KIND_NAMES[kind] + " (" + items.length + ")"));
    const ul = element("ul");
    for (const [doubt, i] of items) {
      const li = element("li");
      li.dataset.item = i;
      const link = button("", () => showDoubt(i), "doubt-link");
      link.append(element("span", "time", clock(doubt.start)), doubtLabel(doubt));
      li.append(link);
      ul.append(li);
    }
    list.append(ul);
  }
  const left = page.doubts.length, links = page.doubts.filter((d) => LINK_KINDS.has(d.kind)).length;
  $("progress").textContent = "· " + Math.max(firstCount - left, 0) + " of " + Math.max(firstCount, left)
    + " done, " + left + " left (" + links + " about links)";
}

function describeFix(fix) {
  const e = fix.entry, when = e.from ? " " + e.from + "–" + e.to : e.at ? " at " + e.at : "";
  const what = {
    correction: "«" + e.heard + "» → «" + e.meant + "»", speaker: "to " + e.name,
    link: e.phrase + " at «" + e.heard + "»", not_mention: "not " + e.phrase + ": «" + e.heard + "»",
    accepted: e.kind + " accepted",
  }[fix.table] || fix.table;
  return fix.table + ": " + what + when;
}

function renderFixes() {
  const list = $("fixes");
  list.textContent = "";
  for (const fix of page.fixes || []) {
    const item = element("li");
    item.append(element("code", "", describeFix(fix)), " ",
      button("Undo", () => send("/api/undo", { table: fix.table, index: fix.index, entry: fix.entry }), "undo"));
    list.append(item);
  }
  if (!list.children.length) list.append(element("li", "", "None yet."));
}

function renderCandidates(doubt) {
  const list = $("candidates");
  list.textContent = "";
  const link = page.links.find((l) => l.title === doubt.chose);
  if (doubt.kind !== "link-not-found" || !link) return;
  for (const spot of doubt.candidates || []) {
    const item = element("li", "candidate");
    item.append(element("span", "time", clock(spot.start)), " «" + spot.heard + "» ",
      button("▶", () => play(spot.start)),
      " ", button("Place here", () => placeAt(link.phrase, spot), "place-here"));
    list.append(item);
  }
}

function showDoubt(k, seek = true) {
  document.querySelectorAll(".current").forEach((n) => n.classList.remove("current"));
  document.querySelectorAll(".current-item").forEach((n) => n.classList.remove("current-item"));
  const walked = shown(), count = walked.length;
  current = count ? (k + count) % count : 0;
  $("doubt-count").textContent = count ? (current + 1) + " / " + count : "No doubt left";
  ["prev", "next", "play", "accept"].forEach((id) => { $(id).disabled = !count; });
  if (!count) {
    $("doubt-kind").textContent = $("doubt-time").textContent = $("doubt-note").textContent = "";
    $("candidates").textContent = "";
    return;
  }
  const doubt = walked[current], index = page.doubts.indexOf(doubt);
  $("doubt-kind").textContent = doubt.kind;
  $("doubt-time").textContent = clock(doubt.start) + "–" + clock(doubt.end);
  $("doubt-note").textContent = doubt.note + (doubt.heard ? " · heard «" + doubt.heard + "»" : "");
  renderCandidates(doubt);
  const item = document.querySelector('#doubt-list li[data-item="' + current + '"]');
  if (item) { item.classList.add("current-item"); item.scrollIntoView({ block: "nearest" }); }
  const node = document.querySelector('[data-doubt="' + index + '"]');
  if (node) {
    (doubt.heard ? wordsBetween(doubt.start, doubt.end) : [node]).forEach((n) => n.classList.add("current"));
    node.scrollIntoView({ block: "center" });
  }
  if (seek) player.currentTime = Math.max(0, doubt.start - LEAD_S);
}

function currentDoubt() {
  return shown()[current];
}

function play(from) {
  player.currentTime = Math.max(0, from - LEAD_S);
  player.play().catch(() => {}); // a page not yet clicked may not play: the time is set anyway
}

function togglePlay() {
  if (player.paused) player.play().catch(() => {}); else player.pause();
}

function rewind() {
  player.currentTime = Math.max(0, player.currentTime - REWIND_S);
}

function changeSpeed(step) {
  const at = SPEEDS.indexOf(+$("speed").value);
  $("speed").value = String(SPEEDS[Math.min(Math.max(at + step, 0), SPEEDS.length - 1)]);
  player.playbackRate = +$("speed").value;
}

player.addEventListener("timeupdate", () => { // looping a doubt: back to just before it past its end
  const doubt = currentDoubt();
  if ($("loop").checked && doubt && player.currentTime > doubt.end + 0.5) player.currentTime = Math.max(0, doubt.start - 1);
});

function markerOf(turn, first, last) { // a marker on the selected words: [number, link]
  const words = page.turns[turn].words.slice(first, last + 1), marked = words.find((w) => w.footnote);
  if (!marked) return null;
  const reference = page.references.find((r) => r.number === marked.footnote);
  return reference ? [marked.footnote, page.links.find((l) => l.title === reference.title)] : null;
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
  const doubt = currentDoubt(), doubted = doubt && LINK_KINDS.has(doubt.kind) && page.links.find((l) => l.title === doubt.chose);
  if (doubted) $("link").value = doubted.phrase; // walking the links' doubts: the one shown is offered first
  const marker = markerOf(turn, selection.first, selection.last);
  $("not-mention").hidden = !(marker && marker[1]);
  $("marked-title").textContent = marker && marker[1] ? "[" + marker[0] + "] " + marker[1].title : "";
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

function showChanged(changed) {
  const list = $("changed");
  list.textContent = "";
  list.className = "changed" + (changed && changed.length ? "" : " nothing");
  if (!changed) return;
  if (!changed.length) list.append(element("li", "", "Nothing else changed."));
  for (const line of changed) list.append(element("li", "", line));
}

function saidOf(data) { // the status line: the truth about the last fix
  const fixed = data.fixed || {};
  if (data.httpStatus === 202) return "Saved to corrections.toml; " + fixed.waiting + ".";
  if (data.error) return "Saved, but " + data.error;
  const again = fixed.written === false ? " (it was there already: not added twice)" : "";
  return "Saved to corrections.toml" + again + "; re-rendered in " + fixed.seconds + " s ("
    + (fixed.ran.join(", ") || "nothing to redo") + ").";
}

async function send(path, ...fixes) {
  $("status").textContent = "Saving…";
  showChanged(null);
  try {
    let changed = [];
    for (const fix of fixes) {
      page = await call(path, fix);
      changed = changed.concat((page.fixed && page.fixed.changed) || []);
    }
    closeFix();
    render();
    $("status").textContent = saidOf(page);
    if (page.httpStatus === 200) showChanged(changed);
    if (page.pending) waitForRender();
  } catch (error) {
    $("status").textContent = "Not saved: " + error.message;
  }
}

function waitForRender() { // a fix saved during a publish run: the page follows once it ends
  setTimeout(async () => {
    const data = await call("/api/review").catch(() => null);
    if (data && !data.pending) {
      page = data;
      render();
      $("status").textContent = "The publish run ended: re-rendered with your fixes.";
    } else waitForRender();
  }, 2000);
}

function fix(...fixes) {
  return send("/api/fix", ...fixes);
}

function placeAt(phrase, span) {
  fix({ fix: "link", phrase, heard: span.heard, from: span.start - 0.01, to: span.end + 0.01 });
}

$("transcript").addEventListener("mousedown", (event) => {
  if (event.shiftKey && event.target.closest(".w")) event.preventDefault(); // a word selection, not a text one
});

$("transcript").addEventListener("click", (event) => {
  const marker = event.target.closest("sup.fn");
  if (marker) {
    selectWords(+marker.dataset.turn, +marker.dataset.word, +marker.dataset.word);
    return;
  }
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
  fix({ fix: "correction", heard: span.heard, meant: $("meant").value, from: span.from, to: span.to });
});

$("place").addEventListener("click", () => {
  const span = selectedSpan(), phrase = $("link").value;
  if ($("respell").checked && span.heard !== phrase) {
    fix({ fix: "correction", heard: span.heard, meant: phrase, from: span.from, to: span.to },
        { fix: "link", phrase, heard: phrase, from: span.from, to: span.to });
  } else fix({ fix: "link", phrase, heard: span.heard, from: span.from, to: span.to });
});

$("not-mention").addEventListener("click", () => {
  const marker = markerOf(selection.turn, selection.first, selection.last);
  if (!marker || !marker[1]) return;
  const words = page.turns[selection.turn].words, marked = words.findIndex((w, i) => i >= selection.first && w.footnote);
  let first = marked; // the marked mention: back over the words of its phrase
  const length = marker[1].phrases ? Math.max(...marker[1].phrases.map((p) => p.split(/\s+/).length)) : 1;
  while (first > 0 && marked - first + 1 < length) first--;
  fix({ fix: "not_mention", phrase: marker[1].phrase, heard: "", from: words[first].start - 0.01, to: words[marked].end + 0.01 });
});

function giveTo(rest) {
  const words = page.turns[selection.turn].words;
  const last = rest ? words.length - 1 : selection.last;
  fix({ fix: "speaker", name: $("person").value, from: words[selection.first].start - 0.01, to: words[last].end + 0.01 });
}
$("give-words").addEventListener("click", () => giveTo(false));
$("give-rest").addEventListener("click", () => giveTo(true));

function accept() {
  const doubt = currentDoubt();
  if (doubt) fix({ fix: "accepted", kind: doubt.kind, at: doubt.start, heard: doubt.heard || doubt.chose });
}

$("prev").addEventListener("click", () => showDoubt(current - 1));
$("next").addEventListener("click", () => showDoubt(current + 1));
$("play").addEventListener("click", () => currentDoubt() && play(currentDoubt().start));
$("accept").addEventListener("click", accept);
$("rewind").addEventListener("click", rewind);
$("toggle").addEventListener("click", togglePlay);
$("speed").addEventListener("change", () => { player.playbackRate = +$("speed").value; });
$("links-only").addEventListener("change", () => { current = 0; renderList(); showDoubt(0); });

const KEYS = {
  n: () => showDoubt(current + 1), p: () => showDoubt(current - 1),
  a: accept, Escape: closeFix, r: rewind, " ": togglePlay,
  l: () => { $("loop").checked = !$("loop").checked; },
  "[": () => changeSpeed(-1), "]": () => changeSpeed(1),
  Enter: () => currentDoubt() && play(currentDoubt().start),
};

document.addEventListener("keydown", (event) => {
  const typing = event.target.closest("input:not([type=checkbox]), select, textarea");
  if (typing) {
    if (event.key === "Escape") closeFix();
    return; // typing a fix: no shortcut fires, the audio plays on
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (KEYS[event.key] && page) {
    event.preventDefault();
    KEYS[event.key]();
  }
});

call("/api/review").then((data) => { page = data; render(); if (page.pending) waitForRender(); })
  .catch((error) => { $("status").textContent = "Cannot load the episode: " + error.message; });
