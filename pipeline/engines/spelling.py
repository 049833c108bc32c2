"""How written words sound, and respelling heard words while keeping their timings.

Recognition spells names the way they sound in French ("ChatGPT" heard as "châche et pété"), so
text is compared in two forms: plain tokens (lowercase, no accents or punctuation, numbers and
consonant acronyms spelled out as said aloud) and a French phonetic key, where spellings of the
same sound ("ch"/"sh", "au"/"eau"/"o", "é"/"ai"/"et"…) share one letter.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from num2words import num2words

from pipeline.model import Dialogue, Word

# French elision: "l'IA Act", "qu'OpenAI". The article belongs to the sentence, not to the name.
ELISION = re.compile(r"^(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu)['’]", re.IGNORECASE)
LETTER_NAMES = dict(zip(
    "abcdefghijklmnopqrstuvwxyz",
    "a bé cé dé e effe gé ache i ji ka elle emme ènne o pé ku erre esse té u vé wé ixe igrec zède".split(),
))
PIECES = re.compile(r"[^\W\d_]+|\d+")  # runs of letters or of digits: "GPT-4" -> GPT, 4
# Parts of a camel-cased name: a run of capitals ("GPT" in "ChatGPT"), a capitalised word.
CAMEL = re.compile(r"[A-ZÀ-Ý]+(?![a-zà-ÿ])|[A-ZÀ-Ý]?[a-zà-ÿ]+|[^\W\d_]+")
VOWELS = set("aeiouyàâäéèêëîïôöùûüÿ")

# The French phonetic key: ordered rewrites on a lowercase token. Capitals in the output stand
# for one sound each: E é/è/ai, S ch, J soft g/j, N gn, U ou, A an/en, O on, I in/un, K k/qu/hard c.
PHONETIC_RULES = [(re.compile(p), r) for p, r in [
    (r"[éèêë]", "E"), (r"[àâä]", "a"), (r"[îï]", "i"), (r"[ôö]", "o"), (r"[ùûü]", "u"), (r"ç", "s"),
    (r"(?:er|et|ez)$", "E"),
    (r"e?au", "o"), (r"[ae]i", "E"), (r"oi", "wa"), (r"ou", "U"),
    (r"s?ch|sh", "S"), (r"ph", "f"), (r"gn", "N"), (r"h", ""), (r"tion", "siOn"),
    (r"[ae][nm](?![aeiouyEU]|[nm])", "A"), (r"o[nm](?![aeiouyEU]|[nm])", "O"),
    (r"(?:[aeE]?i|[uy])[nm](?![aeiouyEU]|[nm])", "I"),
    (r"(?<=.)(?:e?s|x|z|t|d)$", ""),  # silent final letters: "travailleurs", "prix", "chat"
    (r"(?<=..)e$", ""),  # mute final e
    (r"c(?=[eiyE])", "s"), (r"g(?=[eiyE])", "J"), (r"gu(?=[eiE])", "g"), (r"j", "J"),
    (r"qu?|ck|c|k", "K"), (r"x", "Ks"), (r"w", "v"), (r"y", "i"),
    (r"(?<=[aeiouEAOIU])s(?=[aeiouEAOIU])", "z"),
    (r"(.)\1+", r"\1"),  # doubled letters sound once
]]


def strip_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))


def split_elision(text: str) -> tuple[str, str]:
    """("l'", "IA") from "l'IA"; ("", text) when there is no elided article."""
    match = ELISION.match(text)
    return (match.group(), text[match.end():]) if match and match.end() < len(text) else ("", text)


def spoken_tokens(text: str) -> list[str]:
    """Lowercase tokens as said aloud, accents kept: "GPT-4" -> gé pé té quatre."""
    tokens = []
    for raw in text.split():
        for piece in PIECES.findall(split_elision(raw)[1]):
            if piece.isdigit():
                tokens += num2words(int(piece), lang="fr").replace("-", " ").split()
                continue
            for part in CAMEL.findall(piece):
                if len(part) > 1 and part.isupper() and not VOWELS & set(part.lower()):
                    tokens += [LETTER_NAMES.get(strip_accents(c), c) for c in part.lower()]
                else:
                    tokens.append(part.lower())
    return tokens


def plain_tokens(text: str) -> list[str]:
    """Spoken tokens without accents: what must be equal for two spellings to be the same."""
    return [strip_accents(token) for token in spoken_tokens(text)]


def phonetic_key(token: str) -> str:
    """A spoken token's French phonetic key, e.g. "châche" -> "SaS", "pétait" -> "pete"."""
    key = token
    for pattern, replacement in PHONETIC_RULES:
        key = pattern.sub(replacement, key)
    # é stays apart from e only while the rules run (it softens c and g): recognition confuses them
    return strip_accents(key).replace("E", "e")


def find_phrase(words: list[Word], phrase: str) -> list[tuple[int, int]]:
    """Spans (first, last word index) whose plain tokens equal the phrase's, left to right."""
    target = plain_tokens(phrase)
    word_tokens = [plain_tokens(word.text) for word in words]
    spans, first = [], 0
    while first < len(words):
        tokens, last = [], first
        while last < len(words) and len(tokens) < len(target):
            tokens += word_tokens[last]
            last += 1
        if tokens == target and word_tokens[first]:
            spans.append((first, last - 1))
            first = last
        else:
            first += 1
    return spans


def takes_elision(text: str) -> bool:
    """Whether a word can follow an elided article ("l'IA", "l'homme"): it starts with a vowel
    or an h. "l'Microsoft" is not French: there the heard article gives way to the meant word."""
    letters = strip_accents(text.lstrip("«“\"'’( ")).lower()
    return letters[:1] in set("aeiouyh")


def _respelled_words(heard: list[Word], text: str) -> list[Word]:
    """The words of `text` over the heard words' time span: one for one when the counts agree,
    else sharing the span by length. The heard elided article is kept where the text's first word
    can take one (a vowel, an h); the heard punctuation around is kept unless the text brings
    its own (the text's wins: "Bienvenue." corrected as "Bienvenue," reads "Bienvenue,")."""
    lead = re.match(r"\W*", heard[0].text).group()  # "«", or the "'" of "l", "'IA" as Whisper splits it
    article = split_elision(heard[0].text[len(lead):])[0]
    if article or lead.endswith(("'", "’")):
        if takes_elision(split_elision(text)[1]):
            text = split_elision(text)[1]  # the article said wins over the one in the canonical text
        else:
            article, lead = "", lead.rstrip("'’")
    if re.match(r"[^\w\s]", text):
        lead = ""
    trail = "" if re.search(r"[^\w\s]$", text) else re.search(r"\W*$", heard[-1].text).group()
    texts = text.split()
    texts[0] = lead + article + texts[0]
    texts[-1] = texts[-1] + trail
    if len(texts) == len(heard):
        spans = [(w.start, w.end) for w in heard]
    else:
        start, end = heard[0].start, heard[-1].end
        total = sum(len(t) for t in texts)
        spans, at = [], start
        for t in texts:
            step = (end - start) * len(t) / total
            spans.append((at, at + step))
            at += step
    probability = min(w.probability for w in heard)
    words = [Word(t, s, e, probability, speaker=heard[0].speaker) for t, (s, e) in zip(texts, spans)]
    words[-1].footnote = heard[-1].footnote
    return words


def _with_elided_stems(located: list[tuple[int, Word]], changes: dict[tuple[int, int], str]) -> dict:
    """The spans, each widened to the elided article Whisper wrote as a word of its own ("l",
    "'imaginaire") when the new text cannot take it: "l", "'imaginaire" -> "Microsoft"."""
    taken = {index for first, last in changes for index in range(first, last + 1)}
    widened = {}
    for (first, last), text in changes.items():
        before = first - 1
        if (before >= 0 and before not in taken and located[first][1].text[:1] in "'’"
                and located[before][0] == located[first][0]
                and ELISION.match(located[before][1].text + "'") and len(located[before][1].text) <= 8
                and not takes_elision(split_elision(text)[1])):
            first = before
        widened[(first, last)] = text
    return widened


def respell(dialogue: Dialogue, changes: dict[tuple[int, int], str]) -> Dialogue:
    """A new dialogue where each span (first, last index over all its words, not overlapping)
    reads as the given text; the span's words keep its timing, speaker and footnote."""
    located = [(n, word) for n, turn in enumerate(dialogue.turns) for word in turn.words]
    starts = {first: (last, text) for (first, last), text in _with_elided_stems(located, changes).items()}
    new_words: list[list[Word]] = [[] for _ in dialogue.turns]
    index = 0
    while index < len(located):
        turn_number = located[index][0]
        if index in starts:
            last, text = starts[index]
            heard = [word for _, word in located[index : last + 1]]
            new_words[turn_number] += _respelled_words(heard, text)
            index = last + 1
        else:
            new_words[turn_number].append(replace(located[index][1]))
            index += 1
    turns = [replace(turn, words=words) for turn, words in zip(dialogue.turns, new_words) if words]
    return replace(dialogue, turns=turns, references=list(dialogue.references), warnings=list(dialogue.warnings),
                   doubts=list(dialogue.doubts))
