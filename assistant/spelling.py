"""Misspelt words of a question ("rotaton trik"), read as the collection's words one edit away."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection

from spellchecker import SpellChecker

from assistant.records import SENTENCE_START, accent_free

#: A word worth checking: lower case after its first letter (a name or an acronym, "GRPO", is
#: no typo), four letters or more ("trik"), no digits; capitalised only where a sentence starts
#: ("Haoli" further on is a name).
_WORD = re.compile(r"(?<![\w'-])[A-Za-z][a-z]{3,}(?![\w-])")
#: Endings an inflected word may drop, and what its stem may need back ("ramping": "ramp").
_INFLECTIONS = (
    ("ies", "y"),
    ("ied", "y"),
    ("ing", ""),
    ("ing", "e"),
    ("ed", ""),
    ("ed", "e"),
    ("s", ""),
    ("ly", ""),
    ("er", ""),
    ("ers", ""),
)
#: Where a plural takes "es" ("boxes", "searches"), not "averagees".
_ES = re.compile(r"(?:s|x|z|ch|sh|o)es$")
#: The words a question starts with, before other stopwords a typo is one edit from.
_QUESTION_WORDS = frozenset({"which", "what", "when", "where", "whom", "whose", "how"})
#: Prefixes a word is written with or without a hyphen ("cooccurrence", "co-occurrence"), longest
#: first: a word no paper uses may be one the papers hyphenate.
_PREFIXES_TEXT = """
    co pre post non self multi fine re sub inter intra anti over under cross meta hyper semi bi
    un out off zero few one real long short mid mini micro macro pseudo super ultra
    """
_PREFIXES = tuple(sorted(_PREFIXES_TEXT.split(), key=len, reverse=True))
#: A word with a letter beyond ASCII ("naïve", "Lévy").
_ACCENTED = re.compile(r"(?<![\w'-])(?=[^\W\d_]*[^\x00-\x7f])[^\W\d_]{3,}(?![\w'-])")
#: Chat shorthand and what it reads: a word the papers spell out ("params": "parameters") or one
#: the search leaves out ("wat": "what"); an aside ("btw", "imo") reads as nothing. Typed in
#: lower case ("BC" is behavior cloning) and where no paper uses it as typed.
_SHORTHAND = {
    **dict.fromkeys(("wat", "wut", "wht"), "what"),
    **dict.fromkeys(("bc", "bcs", "cuz", "coz"), "because"),
    **dict.fromkeys(("btw", "fwiw", "imo", "imho", "tbh", "idk", "afaik", "iirc", "lol"), ""),
    "abt": "about",
    "ppl": "people",
    "thru": "through",
    "tho": "though",
    "w/": "with",
    "w/o": "without",
    "wrt": "with respect to",
    "b/w": "between",
    "btwn": "between",
    "diff": "difference",
    "diffs": "differences",
    "param": "parameter",
    "params": "parameters",
    "hyperparams": "hyperparameters",
    "hparams": "hyperparameters",
    "algo": "algorithm",
    "algos": "algorithms",
    "perf": "performance",
    "impl": "implementation",
    "approx": "approximately",
    "esp": "especially",
    "info": "information",
}
_SHORTHAND_WORD = re.compile(
    r"(?<![\w'/-])(?:"
    + "|".join(re.escape(w) for w in sorted(_SHORTHAND, key=len, reverse=True))
    + r")(?![\w'/-])",
    re.IGNORECASE,
)
#: British endings and their American spelling ("initialise", "normalisation").
_BRITISH = re.compile(r"(?<=[a-z]{3})(is|ys)(e|es|ed|ing|ation|ations|er|ers)$")


@functools.cache
def _english() -> SpellChecker:
    """pyspellchecker's English word frequencies (shipped in the package, loaded once)."""
    return SpellChecker(language="en", distance=1)


def prepare() -> None:
    """Load the English word list now (0.2 s), rather than at the first question."""
    _english()


def english_word(word: str) -> bool:
    """Whether English knows ``word`` or the word it inflects ("ramping", "memorizes")."""
    english = _english()
    if word in english or (_ES.search(word) and word[:-2] in english):
        return True
    for ending, back in _INFLECTIONS:
        stem = word[: -len(ending)]
        if word.endswith(ending) and len(stem) >= 3:
            undoubled = stem[:-1] if len(stem) > 3 and stem[-1] == stem[-2] else stem
            if stem + back in english or undoubled in english:
                return True
    return False


def corrections(
    text: str,
    frequency: Callable[[str], int],
    known: Collection[str] = (),
    ignored: Collection[str] = (),
) -> dict[str, str]:
    """The words of ``text`` that neither English nor the collection knows, each with the
    word one edit away (a letter added, dropped, changed or two swapped) that the collection
    knows: an English word before any other ("redundant", not "reducant"), then the one the
    most papers use. ``frequency`` counts the papers using a word in any of its forms (0:
    none does); ``known`` are the other words the collection knows (its authors' names, the
    words that frame a question about them: "papwrs" is "papers"). A word one edit from one of
    the ``ignored`` words (the stopwords search leaves out) is read as that word, a question
    word first ("wich" is "which", not "with"). A British spelling is read in the American one
    the papers use ("initialise": "initialize").

    A word English knows is left alone though no paper uses it ("federated" is not read as
    "generated", nor "ramping" as "damping"): an absent topic stays absent. So is a word no
    collection word is one edit from ("diarization").

    Chat shorthand no paper uses reads as what it stands for, an aside as nothing:

    >>> corrections("btw wat r the params of BC w/ few demos", lambda w: 0)
    {'btw': '', 'wat': 'what', 'params': 'parameters', 'w/': 'with'}

    A letter beyond ASCII is read as the papers write the word, where they write it without:

    >>> corrections("naïve Bayes, café and Lévy", lambda w: {"naive": 3, "levy": 1}.get(w, 0))
    {'naïve': 'naive', 'lévy': 'Levy'}

    >>> used = {"rotation": 3, "rotator": 1, "trick": 2, "layer": 40, "rich": 1}.get
    >>> corrections("How does the rotaton trik work? Federated layr, wich papwrs by fortuin",
    ...             lambda w: used(w, 0), known={"papers", "fortuin"}, ignored={"which", "with"})
    {'rotaton': 'rotation', 'trik': 'trick', 'layr': 'layer', 'wich': 'which', 'papwrs': 'papers'}
    >>> used = {"normalize": 4, "analyze": 2, "haol": 1}.get
    >>> corrections("Papers by Haoli that normalise, analyse, ramping", lambda w: used(w, 0))
    {'normalise': 'normalize', 'analyse': 'analyze'}
    """
    english = _english()
    found: dict[str, str] = {}
    for match in _SHORTHAND_WORD.finditer(text):
        typed = match.group(0)
        if (
            typed[1:] == typed[1:].lower()
            and typed.lower() not in known
            and not frequency(typed.lower())
        ):
            found[typed.lower()] = _SHORTHAND[typed.lower()]
    for match in _ACCENTED.finditer(text):
        # "naïve" where the papers write "naive": read as they do (a letter the word list and
        # the stemmer do not split it at, "na" and "ve")
        word = match.group(0).lower()
        plain = accent_free(match.group(0))
        used = plain.isalpha() and frequency(plain.lower())
        if used and word not in known and not frequency(word):
            found[word] = plain  # as typed, "Lévy" a name in capitals
    for match in _WORD.finditer(text):
        word = match.group(0).lower()
        named = match.group(0)[0].isupper() and not SENTENCE_START.search(text[: match.start()])
        if named or word in found or word in known or frequency(word) > 0:
            continue
        american = _BRITISH.sub(lambda m: m.group(1)[0] + "z" + m.group(2), word)
        if american != word and english_word(american):
            if frequency(american) > 0:
                found[word] = american
            continue
        if english_word(word):
            continue
        if hyphenated := _hyphenated(word, frequency):
            found[word] = hyphenated
            continue
        edits = english.edit_distance_1(word)
        # A stopword's typo is not searched either way, but it counts as a word no paper uses
        # and hides the question's frame ("wich papers ..."): a question word first ("which",
        # not "with"), then the commonest.
        stopwords = sorted(
            (edit in _QUESTION_WORDS, english.word_usage_frequency(edit), edit)
            for edit in edits
            if edit in ignored or edit in _QUESTION_WORDS
        )
        if stopwords:
            found[word] = stopwords[-1][-1]
            continue
        # Among equals, the commoner English word ("rotation" before "rotator", which the
        # stemmer counts as the same word).
        ranked = sorted(
            (
                (english_word(edit), used, english.word_usage_frequency(edit), edit)
                for edit in edits
                if (used := frequency(edit)) > 0 or edit in known
            ),
            reverse=True,
        )
        if ranked:
            found[word] = ranked[0][-1]
    return found


def _hyphenated(word: str, frequency: Callable[[str], int]) -> str | None:
    """``word`` written with a hyphen after its prefix, where the papers use both parts and
    not the word joined: "cooccurrences" is "co-occurrences", "multiagent" "multi-agent".

    >>> used = {"co": 3, "occurrences": 1, "multi": 9, "agent": 20}.get
    >>> [_hyphenated(w, lambda w: used(w, 0)) for w in ("cooccurrences", "multiagent", "cobra")]
    ['co-occurrences', 'multi-agent', None]
    """
    for prefix in _PREFIXES:
        rest = word[len(prefix) :]
        if word.startswith(prefix) and len(rest) >= 3 and frequency(prefix) and frequency(rest):
            return f"{prefix}-{rest}"
    return None


def corrected(text: str, spelled: dict[str, str]) -> str:
    """``text`` with each word of ``spelled`` replaced by its reading, any case.

    >>> corrected("Rotaton trik", {"rotaton": "rotation", "trik": "trick"})
    'rotation trick'
    """
    if not spelled:
        return text
    words = "|".join(re.escape(word) for word in spelled)
    pattern = re.compile(rf"(?<![\w'-])(?:{words})(?![\w-])", re.IGNORECASE)
    return pattern.sub(lambda m: spelled[m.group(0).lower()], text)
