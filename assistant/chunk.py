"""Paper -> sentences and Chunks sized by cl100k token counts; the only user of tiktoken."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from llama_index.core.node_parser import SentenceSplitter

from assistant.config import ChunkSettings
from assistant.records import Chunk, Paper

_MARGIN = 4


@lru_cache(maxsize=1)
def _encoder() -> Callable[[str], list[int]]:
    import tiktoken  # loads the BPE ranks from TIKTOKEN_CACHE_DIR (llama-index ships them)

    encoding = tiktoken.get_encoding("cl100k_base")
    return encoding.encode


def count_tokens(text: str) -> int:
    """Number of cl100k_base tokens in ``text``."""
    return len(_encoder()(text))


# Abbreviations that end in a full stop mid-sentence in abstracts (punkt's type form: lower
# case, no final stop). llama-index's sentence tokenizer is punkt with no abbreviations at all,
# so it cut "e.g." (38 times in the sample collection), "i.e." (30), "et al." (17) and
# "St. Lawrence" into separate sentences: answers quoted the fragments and chunks ended there.
_ABBREVIATIONS = frozenset(
    {"e.g", "i.e", "al", "vs", "cf", "fig", "figs", "eq", "eqs", "sec", "secs", "st"}
    | {"approx", "resp", "dr", "prof", "w.r.t"}
)


@lru_cache(maxsize=1)
def _punkt() -> Callable[[str], list[tuple[int, int]]]:
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    params = PunktParameters()
    params.abbrev_types = set(_ABBREVIATIONS)
    tokenizer = PunktSentenceTokenizer(params)
    return lambda text: list(tokenizer.span_tokenize(text))


def _sentence_pieces(text: str) -> list[str]:
    """``text`` cut before each sentence, whitespace kept: the pieces join back into ``text``
    (SentenceSplitter concatenates them)."""
    starts = [start for start, _ in _punkt()(text)]
    if not starts:
        return [text] if text else []
    starts[0] = 0
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (punkt, knowing the abbreviations common in abstracts)."""
    return [s.strip() for s in _sentence_pieces(text) if s.strip()]


@lru_cache(maxsize=8)
def _splitter(size: int, overlap: int) -> SentenceSplitter:
    return SentenceSplitter(
        chunk_size=size,
        chunk_overlap=overlap,
        tokenizer=_encoder(),
        chunking_tokenizer_fn=_sentence_pieces,
    )


def prepare() -> None:
    """Load the sentence splitter (nltk, 0.5 s; answers need it) and then the tokeniser
    (0.6 s; writes need it) now rather than in the first answer or write."""
    _punkt()
    _encoder()


def chunk_paper(paper: Paper, settings: ChunkSettings) -> list[Chunk]:
    """Cut a paper's abstract into overlapping chunks of at most ``settings.size`` tokens.

    MiniLM reads at most 256 word-pieces; 200 cl100k tokens is about 220 of them, so the
    default size keeps every chunk whole in the embedder's window.
    """
    # SentenceSplitter can overshoot its budget by a token where it joins splits (65 tokens
    # for a 64 budget, found by the property tests): ask it for a few tokens less.
    size = max(8, settings.size - _MARGIN)
    pieces = _splitter(size, min(settings.overlap, size // 2)).split_text(paper.abstract)
    pieces = [p for p in (p.strip() for p in pieces) if p] or [paper.abstract]
    return [
        Chunk(
            chunk_id=f"{paper.paper_id}:{i}",
            paper_id=paper.paper_id,
            index=i,
            text=text,
            tokens=count_tokens(text),
        )
        for i, text in enumerate(pieces)
    ]
