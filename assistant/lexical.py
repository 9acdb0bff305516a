"""The BM25 index (bm25s + English stemming) over title + abstract, persisted beside the store."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import heapq
import json
import math
import operator
import re
import shutil
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant import names, spelling
from assistant.records import RAISED, Paper, mention_pattern, mentions

INDEX_DIR = "lexical"
#: Papers written since the index under INDEX_DIR was built, and papers removed from it.
DELTA_NAME = "delta.jsonl"
#: Each indexed paper's token ids, for the next full build (see _Terms).
TERMS_NAME = "terms.npz"
#: Present while a write changes the store and before the index follows it: a crash then
#: leaves it behind, and the saved index is not trusted (it is rebuilt from the store).
STALE_NAME = "lexical.stale"
#: bm25s's defaults (method "lucene"), which changes written since a build are scored with.
_K1, _B = 1.5, 0.75
#: Changes kept beside a build before a write builds the whole index again: searching them
#: costs about 1 ms per 1,000 papers; the server also rebuilds in the background after writes.
DELTA_LIMIT = 20_000
_COMPACT_MIN = 256
#: Papers using an acronym read for its definitions (LexicalIndex.expansions).
_DEFINERS = 50
_MASK = (1 << 64) - 1
#: Terms a title (or its part before a colon) needs for a question writing it out to name its
#: paper: two ("Feasible Learning") are a phrase other questions use as well.
_TITLE_TERMS = 3
#: The share of a title's terms a question uses, in any order, that restates the title.
_RESTATED = 0.75
#: Capitalised words in a row: how a question writes a paper's name.
_CAPITALISED_RUN = re.compile(r"\b[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*")
#: Where a title without a colon leaves its name for what it is about.
_LINKING = re.compile(r"\s+(?:for|via|with|through|using|in|of|on|from|by|under|as)\s", re.I)
#: The most papers a distinctive name is used by ("Shampoo", "Lion"), not a field's ("LLM",
#: "RL"): said as "the X paper", it names the one paper whose title opens with it ("the Lion
#: paper"); see also retrieve._titles_share_name.
DISTINCT_NAME = 10
#: The papers BM25 finds for such a name whose titles are checked for it.
_HEAD_POOL = 20
#: What follows a name that calls a paper by it ("the Shampoo paper"), or all that comes
#: before it in a question that asks what it is ("What is Shampoo?").
_PAPER_AFTER = re.compile(r"\s+(?:paper|article|publication)\b", re.IGNORECASE)
_WHAT_IS = re.compile(r"\s*(?:what|who)(?:'s|\s+is|\s+are|\s+was)\s+(?:the\s+)?", re.IGNORECASE)
#: A link in an abstract: its host and path are no words of its prose.
_LINK = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
#: A short word typed in lower case, which may be an acronym ("rl", "llms").
_LOWER_SHORT = re.compile(r"[a-z]{2,6}")
#: A word typed in lower case, which may be an acronym or a name ("simvq", "hi-agent").
_LOWER_NAME = re.compile(r"(?<![\w-])[a-z][a-z0-9]+(?:-[a-z0-9]+)*(?![\w-])")
#: A word as a text writes it, hyphenated parts and all ("SimVQ", "Hi-Agent").
_NAME_TOKEN = re.compile(r"(?<![\w-])[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*(?![\w-])")
#: How many of the papers using a name typed in lower case are read for how they write it.
_SPELLERS = 10
_LINK_CHECKED = 20
#: Of the saved index; one saved in another is not read (it is rebuilt from the store).
_FORMAT = 4
#: A hyphenated name with a one-character part ("R-learning", "k-means", "GPT-4", "DSAC-E"):
#: the tokenizer drops one-character words, so "R-learning" would be searched as "learning".
_ONE_CHARACTER_PART = re.compile(r"\b(?:\w-\w{2,}|\w{2,}-\w)\b")


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def _mix(paper_id: str, content_hash: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{paper_id}:{content_hash}".encode()).digest()[:8], "big")


def _hex(total: int) -> str:
    return f"{total & _MASK:016x}"


def fingerprint(papers: Iterable[Paper]) -> str:
    """Identity of a collection's content: changes when any paper is added, changed or removed.

    A sum of one hash per paper, so that a write updates it for the papers it changed alone."""
    return _hex(sum(_mix(*_key(p)) for p in papers))


def _document(paper: Paper) -> str:
    """What BM25 indexes of a paper: its title twice, then its abstract."""
    return _joined(f"{paper.title}\n{paper.title}\n{paper.abstract}")


def _joined(text: str) -> str:
    """``text`` with each hyphenated name that has a one-character part also written joined,
    as one more term in its place, and so is a name with a number raised in it.

    >>> _joined("R-learning beats Q-learning and GPT-4, not long-range ones")
    'R-learning Rlearning beats Q-learning Qlearning and GPT-4 GPT4, not long-range ones'
    >>> _joined("E$^3$-Pruner and Met^2Net, not 10^5")
    'E$^3$ E3-Pruner and Met^2Net Met2Net, not 10^5'
    """
    # "E$^3$-Pruner" is typed "E3-Pruner", which the tokenizer would not find in "E", "3".
    text = RAISED.sub(lambda m: f"{m.group(0)} {''.join(m.group(1, 2, 3))}", text)
    return _ONE_CHARACTER_PART.sub(lambda m: f"{m.group(0)} {m.group(0).replace('-', '')}", text)


def _key(paper: Paper) -> tuple[str, str]:
    return paper.paper_id, paper.content_hash


def _tokenize(papers: Sequence[Paper]) -> list[list[str]]:
    import bm25s

    if not papers:
        return []
    words: list[list[str]] = bm25s.tokenize(
        [_document(p) for p in papers],
        stopwords="en",
        stemmer=_stemmer(),
        show_progress=False,
        return_ids=False,
    )
    return words


def _ids(words: Sequence[str], vocab: dict[str, int]) -> np.ndarray:
    """Token ids of ``words``, new words added to ``vocab``."""
    return np.fromiter((vocab.setdefault(w, len(vocab)) for w in words), dtype=np.int32)


#: Where two words of a question are not in a row: a small word or a stop between them.
_SMALL_WORDS = re.compile(
    r"\b(?:with|of|on|in|for|from|by|via|and|or|to|the|a|an|at|as|about|into|than|vs)\b|[,;:.?!()]",
    re.IGNORECASE,
)


def _padded(terms: Sequence[str]) -> str:
    """Terms joined and padded with spaces, so that ``in`` finds whole terms in a row."""
    return f" {' '.join(terms)} "


def _opens(query: str, run: re.Match[str]) -> bool:
    """Whether ``run`` opens ``query`` (quotes and brackets aside), where any word is
    capitalised."""
    return not query[: run.start()].strip(" \"'(")


def _head(title: str) -> str:
    """What a title names its paper by: the part before its colon, or without one the words
    before its first linking word ("Causal isotonic calibration" for heterogeneous ...)."""
    if ":" in title:
        return title.split(":")[0]
    return _LINKING.split(title, maxsplit=1)[0]


class _Terms:
    """Each indexed paper's token ids, and the vocabulary they index (only ever grown, so
    ids stay valid from one build to the next): what lets a build tokenise only the papers
    it had not seen. About 0.5 KB per paper; saved beside the index (TERMS_NAME)."""

    def __init__(self, vocab: dict[str, int], ids: dict[tuple[str, str], np.ndarray]) -> None:
        self.vocab = vocab
        self.ids = ids

    @classmethod
    def of(cls, tokens: Any, keys: Sequence[tuple[str, str]]) -> _Terms:
        """From bm25s's tokenisation of the papers ``keys`` name (ids into its vocabulary)."""
        return cls(
            dict(tokens.vocab),
            {k: np.asarray(d, dtype=np.int32) for k, d in zip(keys, tokens.ids, strict=True)},
        )

    def carried(self, ordered: Sequence[Paper], keys: Sequence[tuple[str, str]]) -> _Terms:
        """The terms of ``ordered`` (``keys`` theirs): kept for papers seen before, tokenised
        for the others."""
        new = [(p, k) for p, k in zip(ordered, keys, strict=True) if k not in self.ids]
        vocab = dict(self.vocab)
        ids = {k: self.ids[k] for k in keys if k in self.ids}
        words = _tokenize([p for p, _ in new])
        for (_, key), document in zip(new, words, strict=True):
            ids[key] = _ids(document, vocab)
        return _Terms(vocab, ids)

    def save(self, folder: Path, keys: Sequence[tuple[str, str]]) -> None:
        arrays = [self.ids[k] for k in keys]
        lengths = np.asarray([len(a) for a in arrays], dtype=np.int64)
        flat = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int32)
        np.savez(folder / TERMS_NAME, ids=flat, lengths=lengths)

    @classmethod
    def load(
        cls, folder: Path, keys: Sequence[tuple[str, str]], vocab: dict[str, int]
    ) -> _Terms | None:
        """The saved terms of the papers ``keys`` names (in the order saved), or None when
        there are none that fit."""
        try:
            with np.load(folder / TERMS_NAME) as saved:
                flat, lengths = saved["ids"], saved["lengths"]
        except (FileNotFoundError, KeyError, ValueError):
            return None
        if len(lengths) != len(keys) or int(lengths.sum()) != len(flat):
            return None
        parts = np.split(flat.astype(np.int32), np.cumsum(lengths)[:-1]) if len(keys) else []
        return cls(dict(vocab), dict(zip(keys, parts, strict=True)))


class _Delta:
    """Papers written since a build (tokenised, scored at search time with the build's
    statistics) and papers of the build removed since: what a write changes, without
    building the whole index again."""

    def __init__(
        self,
        added: dict[str, tuple[Paper, np.ndarray, int]],
        removed: dict[str, int],
        extra: dict[str, int],
    ) -> None:
        #: By paper id: the paper, its token ids, and its share of the fingerprint.
        self.added = added
        #: Papers of the build removed since (or replaced), with their share of the fingerprint.
        self.removed = removed
        #: Words the build's vocabulary lacks, numbered after it.
        self.extra = extra
        entries = list(added.values())
        self.papers = [paper for paper, _, _ in entries]
        arrays = [ids for _, ids, _ in entries]
        self.tokens = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int32)
        self.lengths = np.asarray([len(a) for a in arrays], dtype=np.float64)
        self.owner = np.repeat(np.arange(len(arrays)), [len(a) for a in arrays])
        self.share = sum(s for _, _, s in entries) - sum(removed.values())
        self._counts: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.added) + len(self.removed)

    def counts(self, term: int) -> np.ndarray:
        """How often ``term`` occurs in each added paper."""
        found = self._counts.get(term)
        if found is None:
            found = np.bincount(self.owner[self.tokens == term], minlength=len(self.papers))
            self._counts[term] = found
        return found


class LexicalIndex:
    """BM25 over one document per paper (title + abstract); ids are paper ids.

    A build (bm25s) plus the papers written and removed since (a ``_Delta``): a write costs
    what it changes, and ``compacted()`` folds the changes into a new build (a server does it
    in the background). Indexes are never changed in place: a search holding one finishes on it.
    """

    def __init__(
        self,
        retriever: Any,
        papers: list[Paper],
        share: int,
        terms: _Terms | None = None,
        *,
        mean_length: float | None = None,
        source: Path | None = None,
        delta: _Delta | None = None,
        like: LexicalIndex | None = None,
    ) -> None:
        """``like``: an index of the same build, whose lookups are taken as they are (they
        cost O(collection), and a write must cost what it changes)."""
        self._bm25 = retriever
        self._terms = terms
        self._built = papers  # in paper id order
        self._built_share = share
        self._mean_length = mean_length
        self._source = source  # where the build's terms were saved, read when compacting
        self._delta = delta if delta is not None and len(delta) else None
        self._expansions: dict[str, tuple[str, ...]] = {}
        self._written: dict[str, str | None] = {}
        self._vocab: dict[str, int]
        self._position: dict[str, int]
        self._stemmer: Any
        self._built_catalogue: dict[str, Paper]
        self._document_counts: np.ndarray
        if like is not None:
            self._vocab, self._position = like._vocab, like._position
            self._stemmer, self._document_counts = like._stemmer, like._document_counts
            self._built_catalogue = like._built_catalogue
        else:
            self._vocab = dict(getattr(retriever, "vocab_dict", None) or {})
            self._position = {p.paper_id: i for i, p in enumerate(papers)}
            self._built_catalogue = {p.paper_id: p for p in papers}
            self._stemmer = _stemmer()
            # Papers holding each vocabulary term (the postings' lengths), for coverage().
            self._document_counts = (
                np.diff(np.asarray(retriever.scores["indptr"])) if papers else np.zeros(0)
            )
        if self._delta is None:
            self.fingerprint = _hex(share)
            self.catalogue: Mapping[str, Paper] = self._built_catalogue
        else:
            gone = self._delta.removed
            self.fingerprint = _hex(share + self._delta.share)
            self._hidden = np.asarray([self._position[pid] for pid in gone], dtype=np.int64)
            self.catalogue = _Catalogue(self._built_catalogue, self._delta)

    @functools.cached_property
    def papers(self) -> list[Paper]:
        """Every paper, in paper id order (listed when first asked for: O(collection))."""
        if self._delta is None:
            return self._built
        gone = self._delta.removed
        kept = [p for p in self._built if p.paper_id not in gone]
        return list(heapq.merge(kept, self._delta.papers, key=operator.attrgetter("paper_id")))

    def __len__(self) -> int:
        if self._delta is None:
            return len(self._built)
        return len(self._built) - len(self._delta.removed) + len(self._delta.added)

    def written_since(self, other: LexicalIndex) -> list[Paper] | None:
        """The papers this index holds that ``other`` (an index of the same build) did not,
        or held otherwise; None when they are not of the same build."""
        if other._bm25 is not self._bm25:
            return None
        if self._delta is None:
            return []
        return [p for p in self._delta.papers if other.catalogue.get(p.paper_id) is not p]

    @property
    def pending(self) -> int:
        """Papers added or removed since the build (what ``compacted()`` folds in)."""
        return len(self._delta) if self._delta is not None else 0

    @property
    def worth_compacting(self) -> bool:
        """Whether the changes since the build have grown enough to build again: more than
        one paper in twenty, or 256 (a build of 100k papers takes about 40 s of bm25s on one
        core; searching 256 changed papers beside it costs under a millisecond)."""
        return self.pending > max(_COMPACT_MIN, len(self) // 20)

    @classmethod
    def build(cls, papers: Sequence[Paper], previous: LexicalIndex | None = None) -> LexicalIndex:
        """Index ``papers`` in memory. Given the ``previous`` index of a collection a few
        writes away, only the papers it had not seen are tokenised (most of a build's time:
        70 of 100 ms at 318 papers); their scores are recomputed whole, which bm25s does fast."""
        import bm25s

        ordered = sorted(papers, key=lambda p: p.paper_id)
        keys = [_key(p) for p in ordered]  # a content hash costs 25 us: once per paper
        terms = previous._all_terms() if previous is not None else None
        if terms is None:
            # Title counts twice. A generator, not a list: the texts of a 100k collection would
            # add about 150 MB to the peak of an ingest.
            corpus = (_document(p) for p in ordered)
            tokens = bm25s.tokenize(corpus, stopwords="en", stemmer=_stemmer(), show_progress=False)
            retriever = bm25s.BM25()
            if ordered:
                retriever.index(tokens, show_progress=False)
            terms = _Terms.of(tokens, keys)
        else:
            terms = terms.carried(ordered, keys)
            retriever = bm25s.BM25()
            if ordered:
                retriever.index(([terms.ids[k] for k in keys], terms.vocab), show_progress=False)
        lengths = [len(terms.ids[k]) for k in keys]
        return cls(
            retriever,
            ordered,
            sum(_mix(*k) for k in keys),
            terms,
            mean_length=float(np.mean(lengths)) if lengths else None,
        )

    def _all_terms(self) -> _Terms | None:
        """The terms of every paper this index knows (its build's, read from disk if need
        be, and its changes'), or None when the build's are not at hand."""
        terms = self._terms
        if terms is None and self._source is not None:
            terms = _Terms.load(self._source, [_key(p) for p in self._built], self._vocab)
            self._terms = terms
        if terms is None:
            return None
        if self._delta is None:
            return terms
        vocab = dict(terms.vocab)
        vocab.update(self._delta.extra)
        ids = dict(terms.ids)
        ids.update({(p.paper_id, p.content_hash): a for p, a, _ in self._delta.added.values()})
        return _Terms(vocab, ids)

    def with_changes(
        self, added: Sequence[Paper] = (), removed: Iterable[str] = ()
    ) -> LexicalIndex:
        """This index with ``added`` papers written (a paper of the same id is replaced) and
        the papers ``removed`` names gone: only the added papers are tokenised."""
        delta = self._delta or _Delta({}, {}, {})
        leaving = set(removed) | {p.paper_id for p in added}
        entries = {pid: e for pid, e in delta.added.items() if pid not in leaving}
        gone = dict(delta.removed)
        for pid in leaving:
            position = self._position.get(pid)
            if position is not None and pid not in gone:
                gone[pid] = _mix(*_key(self._built[position]))
        extra = dict(delta.extra)
        for paper, words in zip(added, _tokenize(added), strict=True):
            ids = np.fromiter((self._word_id(w, extra) for w in words), dtype=np.int32)
            entries[paper.paper_id] = (paper, ids, _mix(*_key(paper)))
        return LexicalIndex(
            self._bm25,
            self._built,
            self._built_share,
            self._terms,
            mean_length=self._mean_length,
            source=self._source,
            delta=_Delta(dict(sorted(entries.items())), gone, extra),
            like=self,
        )

    def _word_id(self, word: str, extra: dict[str, int]) -> int:
        found = self._vocab.get(word)
        if found is None:
            found = extra.setdefault(word, len(self._vocab) + len(extra))
        return found

    def compacted(self) -> LexicalIndex:
        """The same collection as one build (the changes since the last one folded in)."""
        if self._delta is None:
            return self
        return LexicalIndex.build(self.papers, self)

    # -- on disk: the build under lexical/, the changes since in lexical/delta.jsonl ---------

    def save(self, store_dir: Path) -> None:
        """Write the index under ``store_dir/lexical`` (replacing any older one atomically):
        its build, and the changes since it in a file of their own (see ``save_changes``)."""
        target = store_dir / INDEX_DIR
        staging = store_dir / (INDEX_DIR + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        if self._built:
            self._bm25.save(str(staging), show_progress=False)
        with (staging / "papers.jsonl").open("w", encoding="utf-8") as handle:
            for paper in self._built:
                handle.write(paper.model_dump_json() + "\n")
        if self._terms is not None:
            self._terms.save(staging, [_key(p) for p in self._built])
        meta = {
            "fingerprint": _hex(self._built_share),
            "mean_length": self._mean_length,
            "papers": len(self._built),
            "format": _FORMAT,
        }
        (staging / "meta.json").write_text(json.dumps(meta))
        if self._delta is not None:
            self._write_delta(staging)
        backup = store_dir / (INDEX_DIR + ".old")
        shutil.rmtree(backup, ignore_errors=True)
        if target.exists():
            target.rename(backup)
        staging.rename(target)
        shutil.rmtree(backup, ignore_errors=True)
        self._source = target
        _trusted(store_dir)

    def save_changes(self, store_dir: Path) -> None:
        """Write what changed since the build saved under ``store_dir/lexical``: costs what
        changed, not the collection (an index built since is saved whole)."""
        target = store_dir / INDEX_DIR
        meta = _saved_build(target)
        if meta is None or meta["fingerprint"] != _hex(self._built_share):
            # Built in memory since: saved whole.
            self.save(store_dir)
            return
        if self._delta is None:
            (target / DELTA_NAME).unlink(missing_ok=True)
        else:
            self._write_delta(target)
        _trusted(store_dir)

    def _write_delta(self, folder: Path) -> None:
        assert self._delta is not None
        staging = folder / (DELTA_NAME + ".tmp")
        with staging.open("w", encoding="utf-8") as handle:
            head = {
                "build": _hex(self._built_share),
                "fingerprint": self.fingerprint,
                "papers": len(self),
                "removed": sorted(self._delta.removed),
            }
            handle.write(json.dumps(head) + "\n")
            for paper in self._delta.papers:
                handle.write(paper.model_dump_json() + "\n")
        staging.replace(folder / DELTA_NAME)

    @staticmethod
    def stamp(store_dir: Path) -> int | None:
        """When the saved index last changed (ns), or None when there is none: lets a process
        notice that another one wrote to the collection."""
        times = []
        for name in ("meta.json", DELTA_NAME):
            with contextlib.suppress(FileNotFoundError):
                times.append((store_dir / INDEX_DIR / name).stat().st_mtime_ns)
        return max(times) if times else None

    @staticmethod
    def saved_fingerprint(store_dir: Path) -> str | None:
        """The fingerprint of the collection the saved index holds, without loading it; None
        when there is none, or when a write changed the store and stopped before the index."""
        saved = _saved_state(store_dir)
        return str(saved["fingerprint"]) if saved is not None else None

    @staticmethod
    def saved_size(store_dir: Path) -> int | None:
        """How many papers the saved index holds, without loading it (None as for
        ``saved_fingerprint``, or when it was saved before it counted them)."""
        saved = _saved_state(store_dir)
        count = saved.get("papers") if saved is not None else None
        return int(count) if isinstance(count, int) else None

    @staticmethod
    def mark_changing(store_dir: Path) -> None:
        """Before a write changes the store: until the index is saved again, it is not
        trusted (a crash in between leaves the mark, and the next reader rebuilds)."""
        (store_dir / STALE_NAME).touch()

    @classmethod
    def load(
        cls,
        store_dir: Path,
        papers: Sequence[Paper] | None = None,
        *,
        between: Callable[[], object] | None = None,
    ) -> LexicalIndex | None:
        """The saved index, or None when there is none (or it is not trusted, see
        ``mark_changing``). ``papers``, when the caller holds the papers of an index saved
        without changes since its build, spares reading (and holding) them twice.
        ``between`` is called after every thousand records read (a loader giving way)."""
        import bm25s

        if (store_dir / STALE_NAME).exists():
            return None
        target = store_dir / INDEX_DIR
        meta = _saved_build(target)
        if meta is None:
            return None
        try:
            if papers is not None and not (target / DELTA_NAME).exists():
                ordered = sorted(papers, key=lambda p: p.paper_id)
            else:
                # Read line by line, and only "\n" ends a record: str.splitlines() would also
                # split on U+2028 and the like, which JSON leaves unescaped inside strings.
                with (target / "papers.jsonl").open(encoding="utf-8", newline="\n") as handle:
                    ordered = []
                    for line in handle:
                        if line.strip():
                            ordered.append(Paper.stored(line))
                            if between is not None and len(ordered) % 1000 == 0:
                                between()
            bm25 = bm25s.BM25.load(str(target), show_progress=False) if ordered else bm25s.BM25()
            changes = _read_delta(target, str(meta["fingerprint"]))
        except (FileNotFoundError, KeyError, ValueError):
            return None  # a writer is swapping in a new index this instant: the caller rebuilds
        share = int(str(meta["fingerprint"]), 16)
        mean = meta.get("mean_length")
        index = cls(bm25, ordered, share, mean_length=mean, source=target)
        if changes is not None:
            written, removed = changes
            index = index.with_changes(written, removed)
        return index

    # -- search --------------------------------------------------------------------------

    def _sequences(self, texts: list[str]) -> list[list[str]]:
        """Each text's terms in the order written, repeats kept."""
        import bm25s

        tokens = bm25s.tokenize(
            [_joined(t) for t in texts],
            stopwords="en",
            stemmer=self._stemmer,
            show_progress=False,
            return_ids=False,
        )
        return [list(terms) for terms in tokens]

    def says(self, phrase: str, papers: Sequence[Paper]) -> bool:
        """Whether the title or abstract of one of ``papers`` has the terms of ``phrase`` in a
        row, as the index reads words (stemmed, stopwords left out): "Robotic Manipulation"
        says "robot manipulation", which :meth:`mentioning` wants written as it is."""
        texts = [text for paper in papers for text in (paper.title, paper.abstract)]
        asked, *written = self._sequences([phrase, *texts])
        return bool(asked) and any(_padded(asked) in _padded(terms) for terms in written)

    def _tokens(self, text: str) -> list[str]:
        return list(dict.fromkeys(self._sequences([text])[0]))

    def titled(self, query: str, papers: Sequence[Paper]) -> list[Paper]:
        """The papers of ``papers`` whose title ``query`` writes out: its terms in a row, of the
        whole title or of the part before a colon, three terms at least ("What does 'Old
        Optimizer, New Norm' argue?"). A title whose terms in a row also occur in the text of
        two of the others ("Conformal Risk Control" in papers that apply it) is a phrase of
        the field, not a name.
        """
        heads = [(p, h) for p in papers for h in dict.fromkeys([p.title, p.title.split(":")[0]])]
        asked, *titles = self._sequences([query, *(head for _, head in heads)])
        written = _padded(asked)
        named: dict[str, list[str]] = {}
        for (paper, _), terms in zip(heads, titles, strict=True):
            phrase = _padded(terms)
            if len(terms) >= _TITLE_TERMS and phrase in written:
                named.setdefault(paper.paper_id, []).append(phrase)
        if not named:  # the usual case: no abstract needs reading
            return []
        # A longer title holding the one written out, whose other words the question uses too,
        # is the paper meant ("How can conformal risk control be extended to non-exchangeable
        # data?": "Non-Exchangeable Conformal Risk Control", not "Conformal Risk Control").
        phrases = [phrase for found in named.values() for phrase in found]
        longer = {
            paper.paper_id: [_padded(terms)]
            for (paper, head), terms in zip(heads, titles, strict=True)
            if head == paper.title
            and paper.paper_id not in named
            and set(terms) <= set(asked)
            and any(phrase in _padded(terms) for phrase in phrases)
        }
        return self._named_alone(longer or named, papers)

    def restates(self, query: str, paper: Paper) -> bool:
        """Whether ``query`` uses three in four of the terms of ``paper``'s title, three at
        least, in any order: "Is a tighter variational bound always better?" asks what
        "Tighter Variational Bounds are Not Necessarily Better" answers.

        >>> index = LexicalIndex.build([Paper.create("Tighter Bounds are Not Always Better", "")])
        >>> paper = index.papers[0]
        >>> [index.restates(q, paper) for q in ("Is a tighter bound better?", "Are bounds better?")]
        [True, False]
        """
        title = set(self._tokens(paper.title))
        used = title & set(self._tokens(query))
        return len(used) >= _TITLE_TERMS and len(used) >= _RESTATED * len(title)

    def title_phrase(
        self, query: str, papers: Sequence[Paper], written: str | None = None
    ) -> list[Paper]:
        """The one paper of ``papers`` whose title holds two terms of ``query`` in a row that
        the text of at most one other paper holds in a row: "who wrote the rotation trick"
        names "Restructuring Vector Quantization with the Rotation Trick", which "Layer
        rotation: ..." outranked. Two terms in a row that more papers use ("language models")
        are a phrase of the field, and two papers' titles holding the question's terms name
        neither. Given the question as ``written``, the two terms must be in a row there, no
        small word between them: "the paper on music generation with diffusion" does not
        name "... Aligned Generation of Diffusion Models".

        >>> index = LexicalIndex.build([Paper.create("Generation of Diffusion Models", "")])
        >>> [len(index.title_phrase("generation diffusion", index.papers, written))
        ...     for written in ("generation with diffusion", "generation diffusion")]
        [0, 1]
        """
        asked = self._sequences([query])[0]
        pairs = {_padded(asked[i : i + 2]) for i in range(len(asked) - 1)}
        if written is not None:
            pairs &= {
                _padded(terms[i : i + 2])
                for run in _SMALL_WORDS.split(written)
                for terms in self._sequences([run])
                for i in range(len(terms) - 1)
            }
        titles = self._sequences([p.title for p in papers])
        named = {
            (paper.paper_id, phrase): paper
            for paper, terms in zip(papers, titles, strict=True)
            for phrase in pairs
            if phrase in _padded(terms)
        }
        if len({paper_id for paper_id, _ in named}) != 1:
            return []
        (paper_id, phrase), paper = next(iter(named.items()))
        # The phrase's terms are stemmed already: searched as text they would be stemmed twice.
        found = [
            p for p, _ in self._ranked(phrase.split(), _HEAD_POOL, None) if p.paper_id != paper_id
        ]
        texts = self._sequences([f"{p.title} {p.abstract}" for p in found])
        return [paper] if sum(phrase in _padded(t) for t in texts) <= 1 else []

    def _named_alone(self, named: dict[str, list[str]], papers: Sequence[Paper]) -> list[Paper]:
        """The papers of ``papers`` with a phrase in ``named`` (by paper id) that the text of
        one other paper of them holds at most: one that more use is a phrase of the field, not
        a name ("Conformal Risk Control" in papers that apply it)."""
        texts = self._sequences([f"{p.title} {p.abstract}" for p in papers])
        joined = {p.paper_id: _padded(t) for p, t in zip(papers, texts, strict=True)}
        return [
            paper
            for paper in papers
            if any(
                sum(phrase in text for i, text in joined.items() if i != paper.paper_id) < 2
                for phrase in named.get(paper.paper_id, [])
            )
        ]

    def headed(self, query: str, allowed: set[str] | None = None) -> list[Paper]:
        """The papers whose title's head the question writes as a name, each word capitalised.
        The head is the part before the title's colon ("Distribution Transformers: Fast
        Approximate ...", "Hera: Learning ..."), or without one the words before its first
        linking word ("Causal isotonic calibration for heterogeneous ..."). "Who wrote the
        Distribution Transformer paper?" had its paper ninth: two common words. One word alone
        counts where it does not open the question ("What is Hera?"). A head whose terms in a
        row occur in the text of two other papers is a phrase of the field, not a name.
        """
        named: dict[str, Paper] = {}
        for run in _CAPITALISED_RUN.finditer(query):
            terms = self._sequences([run.group(0)])[0]
            if not terms or (len(terms) == 1 and _opens(query, run)):
                continue
            written = _padded(terms)
            found = [paper for paper, _ in self.search(run.group(0), _HEAD_POOL, allowed)]
            heads = self._sequences([_head(paper.title) for paper in found])
            if len(terms) == 1 and self._frequency(terms[0]) > 2:
                # One word in more than two papers' texts fails the test below. Said as "the X
                # paper" (or asked "What is X?"), it still names the one paper whose title opens
                # with it and a colon ("Who wrote the Shampoo paper?": "Shampoo: Preconditioned
                # ...", not the four that build on Shampoo; "RL" is not "RL on Incorrect ...").
                own = [
                    paper
                    for paper, head in zip(found, heads, strict=True)
                    if head == terms and ":" in paper.title
                ]
                said = _PAPER_AFTER.match(query, run.end())
                if not own and said and self._frequency(terms[0]) <= DISTINCT_NAME:
                    # ... or, said as "the X paper", the one whose title opens with it, a name
                    # few papers use ("the Lion paper": "Lion Secretly Solves ...").
                    own = [
                        paper for paper, head in zip(found, heads, strict=True) if head[:1] == terms
                    ]
                called = said or (
                    _WHAT_IS.fullmatch(query[: run.start()])
                    and not query[run.end() :].strip(" ?.!")
                )
                if len(own) == 1 and called:
                    named[own[0].paper_id] = own[0]
                continue
            # A head of one term is the whole name: "ECCV22-FOSTER" is not "FOSTER: ...".
            phrases = {
                paper.paper_id: [_padded(head)]
                for paper, head in zip(found, heads, strict=True)
                if (len(head) > 1 and _padded(head) in written) or head == terms
            }
            if phrases:  # rarely: only then are abstracts read
                named.update((p.paper_id, p) for p in self._named_alone(phrases, found))
        return list(named.values())

    def coverage(self, query: str, paper: Paper) -> float:
        """Share of the query's term weight (IDF) found in ``paper``'s title and abstract.

        A term the collection never uses weighs most: a question about something no paper
        mentions cannot be covered by word overlap on its common words.
        """
        terms = self._tokens(query)
        if not terms or not len(self):
            return 0.0
        total = len(self)

        def idf(term: str) -> float:
            return float(np.log((total + 1) / (self._frequency(term) + 0.5)))

        text = f"{paper.title}\n{paper.abstract}"
        present = set(self._tokens(text))
        # An acronym of the question the paper writes out ("LLM", "large language models").
        present.update(
            token
            for acronym in names.acronyms(query)
            if any(names.written_out(text, e) for e in self.expansions(acronym))
            for token in self._tokens(acronym)
        )
        weights = {term: idf(term) for term in terms}
        return sum(w for t, w in weights.items() if t in present) / sum(weights.values())

    def expansions(self, acronym: str) -> tuple[str, ...]:
        """The long forms the collection defines ``acronym`` by ("large language model" for
        LLM), read from the papers that use it (the 50 it weighs most in); kept per index."""
        if acronym not in self._expansions:
            found = self.search(f"{acronym} {acronym}s", _DEFINERS)  # the stemmer keeps 'llms'
            forms = (
                form
                for paper, _ in found
                for form in names.definitions(f"{paper.title}\n{paper.abstract}", acronym)
            )
            self._expansions[acronym] = tuple(dict.fromkeys(forms))
        return self._expansions[acronym]

    def written(self, word: str) -> str | None:
        """How the papers write a name typed in lower case, where they always write it one
        way, with capitals ("simvq": "SimVQ", "tabpfn": "TabPFN"), read from the papers that
        use it; None where they also write it in lower case, or not at all. Kept per index."""
        if word not in self._written:
            forms: Counter[str] = Counter()
            for paper, _ in self.search(word, _SPELLERS):
                text = f"{paper.title}\n{paper.abstract}"
                forms.update(f for f in _NAME_TOKEN.findall(text) if f.lower() == word)
            first = forms.most_common(1)
            self._written[word] = first[0][0] if first and word not in forms else None
        return self._written[word]

    def cased(self, text: str) -> str:
        """``text`` with each acronym the collection defines, typed in lower case, in capitals:
        "rl for llms" reads "RL for LLMs", which is spelled out (:meth:`spelled`) and found as
        the papers write it; typed in lower case, "llms" had missed the papers that say "large
        language models". A name the papers always write with capitals is read so too
        ("how does it compare to simvq?": "SimVQ", a name, as :meth:`written`). A word English
        knows ("soap", "mars", "adam") stays as typed."""

        def case(match: re.Match[str]) -> str:
            word = match.group(0)
            one = word[:-1] if word.endswith("s") and len(word) > 3 else word
            if spelling.english_word(word) or spelling.english_word(one):
                return word
            if _LOWER_SHORT.fullmatch(word) and self.expansions(one.upper()):
                return one.upper() + word[len(one) :]
            return (self.written(word) if len(word) > 2 else None) or word

        return _LOWER_NAME.sub(case, text)

    def spelled(self, text: str) -> str:
        """``text`` with each acronym the collection defines followed by its long form in
        brackets' place: "offline RL" reads "offline reinforcement learning (RL)". The
        embedder reads a short acronym poorly: "What are the challenges of offline RL?" is at
        0.23 from the nearest chunk, spelled out at 0.53, above the coverage threshold."""

        def spell(match: re.Match[str]) -> str:
            forms = self.expansions(match.group(1))
            if not forms or any(names.written_out(text, form) for form in forms):
                return match.group(0)
            plural = "s" if match.group(0).endswith("s") else ""
            return f"{forms[0]}{plural} ({match.group(0)})"

        return names.ACRONYM.sub(spell, text)

    def corrections(self, text: str, known: Collection[str] = ()) -> dict[str, str]:
        """The misspelt words of ``text``, each with the word of the collection (or of
        ``known``) it is one edit from (see spelling.corrections): "rotaton trik" reads
        "rotation trick"."""
        from bm25s.stopwords import STOPWORDS_EN  # the stopwords "en" of _sequences

        stopwords = frozenset(STOPWORDS_EN)

        def used(word: str) -> int:
            # One word at a time, as _sequences reads it, without its call's overhead: the
            # hundreds of one-edit variants of a word are counted in about a millisecond.
            return self._frequency(self._stemmer.stemWord(word))

        return spelling.corrections(text, used, known, stopwords)

    def names(self, query: str, paper: Paper, rare: int = 3, *, part: bool = False) -> bool:
        """Whether ``query`` names ``paper``: a word of its title that at most ``rare`` papers
        use ("What are the limitations of SOAP?"; the question's other words may be common),
        or a name its title writes, capitalised in the question where it does not open it
        ("What is Shampoo?", a name five titles use), or anywhere in a ``part`` cut out of a
        longer text, which opens no sentence ("the Lion optimizer analysis" of a comparison).
        An acronym of the name counts as its long form where the title writes that out ("the
        KL Shampoo paper": "... Shampoo Optimizer via Kullback-Leibler Minimization"), beside
        a word the title holds itself.
        """
        title = set(self._tokens(paper.title))
        if any(0 < self._frequency(t) <= rare for t in self._tokens(query) if t in title):
            return True
        for run in _CAPITALISED_RUN.finditer(query):
            if _opens(query, run) and not part:
                continue
            spelled = {
                term
                for acronym in names.acronyms(run.group(0))
                if any(names.written_out(paper.title, f) for f in self.expansions(acronym))
                for term in self._tokens(acronym)
            }
            terms = set(self._tokens(run.group(0))) - spelled
            if terms and terms <= title:
                return True
        return False

    def mentioning(self, subject: str, allowed: set[str] | None = None) -> list[Paper]:
        """The papers (of ``allowed``) whose title or abstract mentions ``subject`` as a phrase
        (see records.mentions: any case, plural or hyphens aside), or with an acronym of it
        written out as the collection defines it ("LLM pruning": "large language model
        pruning"), in the index's order: the set a count within a topic is taken over."""
        phrases = [subject]
        for acronym in names.acronyms(subject):
            written = re.compile(rf"\b{re.escape(acronym)}s?\b")
            phrases += [
                written.sub(form.replace("\\", "\\\\"), subject)
                for form in self.expansions(acronym)
            ]
        ids: set[str] = set()
        for phrase in phrases:
            pattern = mention_pattern(phrase)
            if pattern is None:
                continue
            # The stemmer keeps some plurals apart ("llms", "llm"): the pattern takes either.
            one = re.sub(r"(?<=[sxz])es$|(?<=[cs]h)es$|(?<=\w\w\w)s$", "", phrase)
            forms = {phrase, one, f"{one}s", f"{one}es"}
            for paper_id in set().union(*(self._using(form, allowed) for form in forms)):
                paper = self.catalogue[paper_id]
                if pattern.search(paper.title) or pattern.search(paper.abstract):
                    ids.add(paper_id)
        # In paper id order, as ``papers`` lists them.
        return [self.catalogue[paper_id] for paper_id in sorted(ids)]

    def _using(self, text: str, allowed: set[str] | None) -> set[str]:
        """Ids of the papers (of ``allowed``) that use every term of ``text`` as the index
        reads words (stemmed, stopwords left out)."""
        ids: set[str] | None = None
        for term in self._tokens(text):
            found = self._holding(term)
            ids = found if ids is None else ids & found
            if not ids:
                return set()
        if ids is None:
            return set()
        return ids if allowed is None else ids & allowed

    def _holding(self, term: str) -> set[str]:
        """Ids of the papers that use the index's ``term`` (stemmed already): those it scores
        above 0."""
        ids: set[str] = set()
        if term in self._vocab and self._built:
            scores = np.asarray(self._bm25.get_scores([term]), dtype=np.float32)
            if self._delta is not None and len(self._hidden):
                scores[self._hidden] = 0.0
            ids.update(self._built[i].paper_id for i in np.flatnonzero(scores > 0))
        if self._delta is not None and self._delta.papers:
            changed = self._changed_scores([term])
            ids.update(self._delta.papers[i].paper_id for i in np.flatnonzero(changed > 0))
        return ids

    def title_uses(self, paper: Paper, words: Sequence[str]) -> bool:
        """Whether ``paper``'s title uses each of ``words`` in some form, as the index reads
        words ("the RLHF stabilization paper": "Stabilizing RLHF through ..."), or as a stem
        of five letters or more that begins the other ("discoveri" of "discovery" and "discov"
        of "Discovering": the stemmer cuts them apart); a word the index drops (a stopword)
        must be there as written.

        >>> index = LexicalIndex.build([Paper.create("Discovering Sparse Rewards", "")])
        >>> paper = index.papers[0]
        >>> [index.title_uses(paper, w) for w in (["sparse", "reward", "discovery"], ["rewarding"],
        ...     ["dense", "reward"], [])]
        [True, True, False, False]
        """
        title = set(self._tokens(paper.title))

        def used(term: str) -> bool:
            return term in title or any(
                min(len(term), len(t)) >= 5 and (t.startswith(term) or term.startswith(t))
                for t in title
            )

        return bool(words) and all(
            all(used(t) for t in terms) if (terms := self._tokens(w)) else mentions(paper.title, w)
            for w in words
        )

    def papers_writing(self, word: str) -> int:
        """:meth:`papers_using`, less the papers that use ``word`` only inside a link: "google"
        of "https://sites.google.com/view/..." is no mention of Google, and "Any papers from
        Google?" had been searched as a topic. A word more than ``_LINK_CHECKED`` papers use
        counts as written, links or not (the papers are not read)."""
        count = self.papers_using(word)
        if not 0 < count <= _LINK_CHECKED:
            return count
        linked = 0
        for paper, _ in self.search(word, count):
            text = f"{paper.title}\n{paper.abstract}"
            if mentions(text, word) and not mentions(_LINK.sub(" ", text), word):
                linked += 1
        return count - linked

    def papers_using(self, name: str) -> int:
        """How many papers at most use ``name``: the count of its rarest word (0 when a word of
        it is in no paper: "PHOENIX-2014T" when no paper says "phoenix")."""
        return min((self._frequency(t) for t in self._tokens(name)), default=len(self))

    def _frequency(self, term: str) -> int:
        """How many papers use ``term`` (0 for a term the index does not know). Papers removed
        since the build still count until the next one."""
        index = self._vocab.get(term)
        counts = self._document_counts
        built = int(counts[index]) if index is not None and index < len(counts) else 0
        if self._delta is None:
            return built
        if index is None:
            index = self._delta.extra.get(term)
        if index is None:
            return built
        return built + int(np.count_nonzero(self._delta.counts(index)))

    def search(
        self, query: str, k: int, allowed: set[str] | None = None
    ) -> list[tuple[Paper, float]]:
        """Up to ``k`` papers with a positive BM25 score for ``query``, best first."""
        return self._ranked(self._tokens(query), k, allowed)

    def _ranked(
        self, terms: Sequence[str], k: int, allowed: set[str] | None
    ) -> list[tuple[Paper, float]]:
        """``search`` for the index's own ``terms`` (stemmed already)."""
        if not len(self):
            return []
        found: list[tuple[Paper, float]] = []
        words = [t for t in terms if t in self._vocab]
        if words and self._built:
            scores = np.asarray(self._bm25.get_scores(words), dtype=np.float32)
            if self._delta is not None and len(self._hidden):
                scores[self._hidden] = 0.0
            if allowed is not None:  # built from the allowed papers: a few ms for a narrow filter
                mask = np.zeros(len(scores), dtype=bool)
                mask[[self._position[p] for p in allowed if p in self._position]] = True
                scores = np.where(mask, scores, 0.0)
            top = np.argsort(-scores)[:k]
            found += [(self._built[i], float(scores[i])) for i in top if scores[i] > 0]
        if self._delta is not None and self._delta.papers:
            scores = self._changed_scores(terms)
            if allowed is not None:
                scores *= [p.paper_id in allowed for p in self._delta.papers]
            top = np.argsort(-scores)[:k]
            found += [(self._delta.papers[i], float(scores[i])) for i in top if scores[i] > 0]
        return sorted(found, key=lambda hit: -hit[1])[:k]

    def _changed_scores(self, terms: Sequence[str]) -> np.ndarray:
        """BM25 (bm25s's "lucene" variant) of the papers written since the build, with the
        collection's document frequencies and the build's mean length."""
        assert self._delta is not None
        delta = self._delta
        total = len(self)
        mean = self._mean_length or float(delta.lengths.mean()) or 1.0
        norm = _K1 * ((1 - _B) + _B * delta.lengths / mean)
        scores = np.zeros(len(delta.papers), dtype=np.float64)
        for term in terms:
            index = self._vocab.get(term, delta.extra.get(term))
            if index is None:
                continue
            counts = delta.counts(index)
            if not counts.any():
                continue
            frequency = self._frequency(term)
            idf = math.log(1 + (total - frequency + 0.5) / (frequency + 0.5))
            scores += idf * counts / (norm + counts)
        return scores.astype(np.float32)


class _Catalogue(Mapping[str, Paper]):
    """Papers by id, of a build and the changes since it, without copying the build's."""

    def __init__(self, built: Mapping[str, Paper], delta: _Delta) -> None:
        self._built = built
        self._delta = delta

    def __getitem__(self, paper_id: str) -> Paper:
        entry = self._delta.added.get(paper_id)
        if entry is not None:
            return entry[0]
        if paper_id in self._delta.removed:
            raise KeyError(paper_id)
        return self._built[paper_id]

    def __iter__(self) -> Iterator[str]:
        # A paper replaced since the build is among the removed, and among the added.
        yield from (p for p in self._built if p not in self._delta.removed)
        yield from self._delta.added

    def __len__(self) -> int:
        return len(self._built) - len(self._delta.removed) + len(self._delta.added)


def _trusted(store_dir: Path) -> None:
    """The saved index follows the store again (see ``LexicalIndex.mark_changing``)."""
    (store_dir / STALE_NAME).unlink(missing_ok=True)


def _saved_build(folder: Path) -> dict[str, Any] | None:
    """What meta.json says of the build saved in ``folder``; None when there is none, or one
    saved in another format (it is not read: the caller rebuilds)."""
    try:
        meta: dict[str, Any] = json.loads((folder / "meta.json").read_text())
    except (FileNotFoundError, ValueError):
        return None
    if meta.get("format") != _FORMAT or "fingerprint" not in meta:
        return None
    return meta


def _saved_state(store_dir: Path) -> dict[str, Any] | None:
    """The fingerprint (and paper count) of what the saved index holds: its changes' head when
    they follow its build, else the build's meta.json; None when it is not trusted."""
    if (store_dir / STALE_NAME).exists():
        return None
    folder = store_dir / INDEX_DIR
    meta = _saved_build(folder)
    if meta is None:
        return None
    head = _delta_head(folder)
    return head if head is not None and head.get("build") == meta["fingerprint"] else meta


def _delta_head(folder: Path) -> dict[str, Any] | None:
    try:
        with (folder / DELTA_NAME).open(encoding="utf-8", newline="\n") as handle:
            head: dict[str, Any] = json.loads(handle.readline())
    except (FileNotFoundError, ValueError):
        return None
    return head


def _read_delta(folder: Path, built: str) -> tuple[list[Paper], list[str]] | None:
    """The papers written and removed since the build ``built`` names, or None."""
    try:
        with (folder / DELTA_NAME).open(encoding="utf-8", newline="\n") as handle:
            head = json.loads(handle.readline())
            if head.get("build") != built:
                return None
            written = [Paper.stored(line) for line in handle if line.strip()]
    except FileNotFoundError:
        return None
    return written, [str(pid) for pid in head.get("removed", [])]
