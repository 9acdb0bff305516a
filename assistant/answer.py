"""question (+ history) -> Answer: retrieve, answer from the sources, check every citation."""

from __future__ import annotations

import re
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError

from assistant import names
from assistant.bibliography import fenced, to_bibtex
from assistant.chunk import count_tokens
from assistant.cite import (
    ModelJudge,
    SentenceBank,
    check_answer,
    content_words,
    parse_markers,
    strip_citations,
)
from assistant.config import Settings
from assistant.conversation import (
    STANDALONE_WORDS,
    authors_asked,
    authors_of,
    condense_rule,
    earlier_turn,
    like_asked,
    like_clause,
    listed_turn,
    missing_reference,
    more_request,
    named_subject,
    narrowed_by,
    narrowing,
    own_words,
    paged,
    quoted_titles,
    refers_back,
    same_authors_request,
    similar_request,
    similar_to,
    spelled_ordinals,
    topic_among,
)
from assistant.embed import load_embedder
from assistant.errors import AssistantError, LLMError, LLMResponseError, ResolutionError
from assistant.extract import EXTRACTED_LABEL, average_note, extract_answer, tally_note
from assistant.llm import ChatModel, Message, Sampling, Usage
from assistant.markup import inert_markers
from assistant.prompts import Prompt, load_prompt
from assistant.query import (
    MAY_CONSTRAIN,
    Query,
    Reading,
    Sort,
    bibtex_request,
    social,
    sort_papers,
    sort_value,
)
from assistant.records import (
    Answer,
    Coverage,
    Filters,
    Hit,
    Paper,
    Receipt,
    Turn,
    clean_text,
    count_of,
    counted,
    fold,
    papers_named,
    title_name,
    within,
)
from assistant.retrieve import WORDS_LOADING, Retrieval, Retriever

REFUSAL_MARK = "NOT_IN_SOURCES"
#: A short question's subject that this many papers or fewer mention, none of them cited last,
#: names something new (``Answerer._said_where``).
_FEW_NAME = 3


@dataclass(frozen=True)
class Sources:
    """The first event of an answer: what was retrieved, shown even if the model then fails."""

    retrieval: Retrieval


@dataclass(frozen=True)
class Delta:
    """A piece of the answer's text, as it is produced (a model's raw output)."""

    text: str


@dataclass(frozen=True)
class Final:
    """The last event: the checked answer (invalid markers removed, claims judged)."""

    answer: Answer


#: What :meth:`Answerer.stream` yields: one Sources, Deltas, one Final.
Event = Sources | Delta | Final


def _source_block(hits: Sequence[Hit]) -> str:
    blocks = []
    for n, hit in enumerate(hits, 1):
        paper = hit.paper
        venue = paper.listed_in or "unknown venue"
        text = paper.abstract
        blocks.append(
            f'<source id="{n}">\n[{n}] {paper.title} ({venue}, {paper.date or "undated"})\n'
            f"{text}\n</source>"
        )
    return "\n\n".join(blocks)


#: How many of the papers a name finds by its words are searched for the one it heads.
_NAME_POOL = 10


class Answerer:
    """Answers from the collection: generative with a configured model, else extractive."""

    def __init__(
        self,
        settings: Settings,
        retriever: Retriever | None = None,
        model: ChatModel | None = None,
    ) -> None:
        self.settings = settings
        self.retriever = retriever or Retriever(settings)
        if model is None and settings.llm.configured:
            model = ChatModel(settings.llm)
        self.model = model
        # Sentence scoring and the support thresholds are calibrated on MiniLM's similarities,
        # so the bank keeps MiniLM whichever model retrieval embeds with.
        self.bank = SentenceBank(
            load_embedder(settings.embed.model_copy(update={"model": "minilm"}))
        )

    def close(self) -> None:
        self.retriever.close()
        if self.model is not None:
            self.model.close()

    def ask(
        self,
        question: str,
        history: Sequence[Turn] = (),
        filters: Filters | None = None,
        sampling: Sampling | None = None,
    ) -> Answer:
        """The whole answer (see :meth:`stream`)."""
        for event in self.stream(question, history, filters, sampling):
            if isinstance(event, Final):
                return event.answer
        raise AssertionError("stream() always ends with an Answer")

    def stream(
        self,
        question: str,
        history: Sequence[Turn] = (),
        filters: Filters | None = None,
        sampling: Sampling | None = None,
    ) -> Iterator[Event]:
        """:class:`Sources` (what was retrieved), then :class:`Delta` pieces of the answer's
        text as it is produced, then :class:`Final` with the checked :class:`Answer`.
        ``sampling`` (temperature, a lower token limit) applies to the answer's generation
        when a model writes it.

        The streamed text is the model's raw output; the Answer's text has invalid citation
        markers removed. The sources come first so that a caller can show them even if the
        model then fails.
        """
        with self.retriever.answering():  # a word index loading behind the server waits
            yield from self._stream(question, history, filters, sampling)

    def _stream(
        self,
        question: str,
        history: Sequence[Turn],
        filters: Filters | None,
        sampling: Sampling | None,
    ) -> Iterator[Event]:
        question = clean_text(question)
        if not question.strip():
            raise AssistantError(
                "The question is empty",
                hint='ask something about the papers, e.g. "which papers prune layers of LLMs?"',
            )
        asked = spelled_ordinals(question)  # "the secnd one": the question as shown keeps it
        check_references(asked, history)
        laps = _Stopwatch()
        standalone = self._condense(asked, history)
        laps.lap("condense")
        found, receipt = self._search(question, standalone, history, filters, laps)
        coverage = _coverage(found)
        yield Sources(found)

        def refusal(text: str) -> Final:
            return Final(
                Answer(
                    question=question,
                    answer=text,
                    extractive=self.model is None,
                    refused=True,
                    coverage=coverage,
                    receipt=receipt,
                )
            )

        if self.model is not None and self.settings.llm.coverage == "model" and found.hits:
            # The model reads the sources and says NOT_IN_SOURCES when they do not answer:
            # a better judge than a similarity threshold, which refuses some paraphrased
            # questions and lets some absent topics through.
            coverage.decided_by, coverage.threshold_verdict = "model", found.covered
            coverage.covered, coverage.verdict = True, "covered"
            coverage.caveat = found.unread_note
        page = paged(standalone)
        if page is not None and not found.hits:  # "more" after every paper that matches
            text = (
                f"No more papers: the {page[1] - 1} already shown are all that match the "
                "question. Ask it with fewer constraints, or about another topic."
            )
            yield Delta(text)
            yield refusal(text)
            return
        if not coverage.covered:
            text = self._refusal_text(found)
            yield Delta(text)
            laps.lap("refuse")
            yield refusal(text)
            return
        if self.model is None:
            raw = self._extracted(standalone, found)
            # Line by line, as a model would stream it, so that clients see it arrive.
            yield from map(Delta, raw.splitlines(keepends=True))
            laps.lap("extract")
            # No model read a prompt; the counts say what the question and the answer weigh.
            receipt.prompt_tokens, receipt.completion_tokens = (
                count_tokens(question),
                count_tokens(raw),
            )
            receipt.token_source = "tiktoken"
        else:
            generated = yield from self._generate(
                self.model, question, history, found, receipt, laps, sampling
            )
            if generated is None:
                yield refusal(
                    "The model began repeating its own instructions instead of answering, so "
                    "its answer was withheld. Ask about the papers themselves."
                )
                return
            raw = generated
            if raw.strip().startswith(REFUSAL_MARK):
                laps.lap("check")
                coverage.covered, coverage.verdict = False, "not_covered"
                yield refusal(self._refusal_text(found, by_model=True))
                return
        answer = self._checked(question, raw, found, coverage, receipt)
        laps.lap("check")  # includes "judge", the model's part of the check, when it ran
        if not answer.grounded:
            answer.extracted = self._extracted(standalone, found).replace(
                EXTRACTED_LABEL, "Extracted from the same abstracts:", 1
            )
            laps.lap("extract")
        if bibtex_request(question) is not None:  # "How do I cite it?": the records' entries
            entries = _bibtex_of(answer, found)
            answer.answer += entries
            yield Delta(entries)
        yield Final(answer)

    def _search(
        self,
        question: str,
        standalone: str,
        history: Sequence[Turn],
        filters: Filters | None,
        laps: _Stopwatch,
    ) -> tuple[Retrieval, Receipt]:
        """Read the question's constraints, expand it and retrieve; the receipt says how."""
        # "give me 2 more": the last question again, for the papers after those shown.
        page = paged(standalone)
        asked, k = (page[0], page[2]) if page else (standalone, self.settings.retrieval.top_k)
        cited = bibtex_request(asked)
        if cited is not None and content_words(cited):
            asked = cited  # "Give me the BibTeX for SOAP" searches "SOAP": no paper says BibTeX
        reading, read_error = self.read(asked)
        if reading is not None or read_error is not None:
            laps.lap("read")
        expansion, expand_error = self.expand(asked)
        if expansion is not None or expand_error is not None:
            laps.lap("expand")
        similar = similar_to(asked)
        like = self._paper_titled(similar[0] if similar else None)
        written = self._paper_titled(authors_of(asked))
        if written is not None:  # "any other papers by the same authors?"
            found = self._by_authors_of(written, filters)
        elif similar is not None and like is not None:
            # Papers like it: its title and abstract searched as they are, itself left out.
            # The nearest are what was asked for: no verdict (the thresholds are a question's,
            # and the others need not say its name, "VICReg", to be like it).
            # "(from 2025)", "(newest first)": constraints or an order on the papers like it
            said = [self.retriever.parser().parse(part) for part in similar[1]]
            found = self._like(like, k, filters, said)
            # "Which of those is the newest?": those with the value first
            self._in_order(found, next((p.sort for p in reversed(said) if p.sort), None))
        else:
            found = self.retriever.retrieve(
                asked,
                k,
                filters,
                expansion=expansion or "",
                listing_k=k if page else self.settings.retrieval.list_max,
                reading=reading,
                paging=page is not None,
            )
        among = topic_among(standalone)
        if among is not None and found.quoted:
            found = self._among_named(found, among, k, filters)
        if page:  # those after the papers shown, all of them quoted, as a count asked for
            found.hits = [
                h.model_copy(update={"rank": rank})
                for rank, h in enumerate(found.hits[page[1] - 1 : page[2]], 1)
            ]
            found.query.count = len(found.hits) or None
            if found.query.sort is not None:  # "the three newest", then "more": these five
                found.query.sort.count = None
        laps.lap("retrieve")
        receipt = Receipt(
            question=question,
            rewritten_query=standalone,
            expansion=expansion,
            expand_error=expand_error,
            constraints_by="model" if reading is not None else "rules",
            read_error=read_error,
            recognised=found.query.recognised,
            unread=found.query.unread,
            corrected=found.query.corrected,
            retrieved=[
                {
                    "n": h.rank,
                    "paper_id": h.paper.paper_id,
                    "title": h.paper.title,
                    "score": h.score,
                    "similarity": h.similarity,
                }
                for h in found.hits
            ],
            model=self.model.name if self.model else "extractive",
            stage_ms=laps.stages,
        )
        laps.stages = receipt.stage_ms  # the receipt holds a copy; later laps go there
        if (
            not found.covered
            and history
            and standalone != question
            and found.hits
            and found.hits[0].paper.title in history[-1].cited_titles
        ):
            # A follow-up about a paper the last answer cited is covered by that paper.
            found.covered, found.uncertain = True, False
        return found, receipt

    def _generate(
        self,
        model: ChatModel,
        question: str,
        history: Sequence[Turn],
        found: Retrieval,
        receipt: Receipt,
        laps: _Stopwatch,
        sampling: Sampling | None,
    ) -> Generator[Delta, None, str | None]:
        """Stream the model's answer; return its whole text, or None when it began reciting
        its instructions (streaming stops there). Token counts go into ``receipt``."""
        prompt = load_prompt(self.settings, "answer")
        receipt.prompt_file, receipt.prompt_sha256 = prompt.path, prompt.digest
        messages = self._messages(prompt, question, history, found)
        laps.lap("prompt")
        parts: list[str] = []
        usage = Usage()
        guard = _InstructionGuard(prompt.text)
        try:
            for raw_piece in model.stream(messages, usage, sampling):
                # A model's output is as untrusted as the abstracts it read: no control
                # characters reach a terminal or a log.
                piece = clean_text(raw_piece)
                if not parts:
                    laps.lap("first_token")
                parts.append(piece)
                if guard.repeated("".join(parts)):  # stop streaming before it goes further
                    laps.lap("generate")
                    return None
                yield Delta(piece)
            laps.lap("generate")
            raw = "".join(parts)
            if not raw.strip():
                raise LLMResponseError(
                    f"The model at {model.where} sent an empty answer",
                    hint="ask again, or try another model",
                )
        except LLMError as exc:  # every caller can still show what was retrieved
            exc.sources = found.hits
            raise
        if usage.prompt_tokens is not None:
            receipt.prompt_tokens, receipt.completion_tokens = (
                usage.prompt_tokens,
                usage.completion_tokens,
            )
            receipt.token_source = "server"
        else:
            receipt.prompt_tokens = sum(count_tokens(m["content"]) for m in messages)
            receipt.completion_tokens = count_tokens(raw)
            receipt.token_source = "tiktoken"
        return raw

    def _checked(
        self, question: str, raw: str, found: Retrieval, coverage: Coverage, receipt: Receipt
    ) -> Answer:
        """The answer with its markers checked, its claims judged and its grounding decided."""
        text, receipt.invalid_citations = parse_markers(raw, len(found.hits))
        judge = (
            ModelJudge(self.model, self.settings)
            if self.model is not None and self.settings.llm.judge
            else None
        )
        checked = check_answer(
            text,
            found.hits,
            self.bank,
            question=question,
            generated=self.model is not None,
            judge=judge,
            preamble=EXTRACTED_LABEL,
        )
        receipt.added_citations, receipt.uncited_sentences = checked.added, checked.uncited
        receipt.support_checker, receipt.judge_error = checked.checker, checked.judge_error
        if checked.judge_ms is not None:
            receipt.stage_ms["judge"] = checked.judge_ms
        answer = Answer(
            question=question,
            answer=checked.text,
            extractive=self.model is None,
            refused=False,
            citations=checked.citations,
            claims=checked.claims,
            coverage=coverage,
            receipt=receipt,
        )
        held, judged = answer.held_claims()
        if judged:
            answer.grounded_share = round(held / judged, 3)
            answer.grounded = self.model is None or held / judged >= self.settings.llm.grounded_at
        return answer

    # -- steps ------------------------------------------------------------------------------

    def _extracted(self, standalone: str, found: Retrieval) -> str:
        """The answer extracted from ``found``'s abstracts, without a model."""
        asked = _asked(standalone)
        return extract_answer(asked, found, self.bank, own_words(asked))

    @staticmethod
    def _in_order(found: Retrieval, sort: Sort | None) -> None:
        """Reorder ``found``'s hits as ``sort`` asks; those without its value keep their
        order after the others, and the answer says so (``query.sort``)."""
        if sort is None:
            return
        known = [h for h in found.hits if sort_value(h.paper, sort) is not None]
        order = {p.paper_id: i for i, p in enumerate(sort_papers([h.paper for h in known], sort))}
        known.sort(key=lambda h: order[h.paper.paper_id])
        found.hits = known + [h for h in found.hits if sort_value(h.paper, sort) is None]
        for rank, hit in enumerate(found.hits, 1):
            hit.rank = rank
        found.query.sort = sort

    def _like(
        self, paper: Paper, k: int, filters: Filters | None, said: Sequence[Query]
    ) -> Retrieval:
        """The ``k`` papers nearest ``paper`` that meet ``filters`` and the constraints
        ``said`` of them ("from 2025"). Where none of the three nearest of all meets those
        constraints, the answer says so and names them: the papers that do may not be close."""
        wanted = filters
        for part in said:
            wanted = (wanted or Filters()).merged(part.filters)

        def nearest(within: Filters | None, n: int) -> Retrieval:
            return self.retriever.retrieve(
                f"{paper.title}\n{paper.abstract}",
                n,
                within,
                parse=False,
                exclude=frozenset({paper.paper_id}),
                judge=False,
            )

        found = nearest(wanted, k)
        constraints = [c for part in said for c in part.constraints]
        found.query.recognised += constraints
        if found.hits and constraints and any(not part.filters.empty for part in said):
            closest = nearest(filters, 3).hits
            if not {h.paper.paper_id for h in closest} & {h.paper.paper_id for h in found.hits}:
                titles = "; ".join(f'"{inert_markers(h.paper.title)}"' for h in closest)
                found.uncertain = True
                found.doubt = (
                    f'None of the papers nearest to "{inert_markers(paper.title)}" ({titles}) '
                    f"matches {'; '.join(constraints)}: those that do may not be close to it."
                )
        return found

    def _by_authors_of(self, paper: Paper, filters: Filters | None) -> Retrieval:
        """The other papers that list an author of ``paper``, all of them (up to
        ``list_max``), those nearest it first: listed as papers matching a filter are, each
        with its authors. Where there are none, ``doubt`` says why."""
        names = paper.authors
        rest = len(names) - 6
        # Names are the listing's text: a "[2]" in one must not read as a citation.
        shown = inert_markers(", ".join(names[:6])) + (
            f" and {counted(rest, 'other')}" if rest > 0 else ""
        )
        title = inert_markers(paper.title)
        shared = Filters(any_author=names)
        if filters is not None:
            shared = filters.merged(shared)
        said = f'an author of "{title}"' + (f": {shown}" if names else "")
        query = Query(text=said, topic="", filters=shared, recognised=[said])
        if not names:
            return Retrieval(
                query=query,
                hits=[],
                covered=False,
                matching=0,
                doubt=f'"{title}" does not name its authors, so no other papers by them can '
                'be found. Ask for papers like it instead: "any similar papers?"',
            )
        found = self.retriever.retrieve(
            f"{paper.title}\n{paper.abstract}",
            self.settings.retrieval.list_max,
            shared,
            parse=False,
            exclude=frozenset({paper.paper_id}),
            judge=False,
        )
        found.query = query
        if not found.hits:
            found.doubt = (
                f'No other paper in the collection lists an author of "{title}" ({shown}).'
            )
        return found

    def _among_named(
        self, found: Retrieval, topic: str, k: int, filters: Filters | None
    ) -> Retrieval:
        """For "which of those uses X?" asked of papers named by their titles: those of them
        whose title or abstract mentions X; where none does, the collection's papers on X,
        the answer saying first that none of those named mentions it. Before, the named
        papers were quoted whether they said X or not."""
        named = [h.paper for h in found.hits if h.paper.paper_id in found.quoted]
        saying = {p.paper_id for p in self.retriever.lexical().mentioning(topic, set(found.quoted))}
        if saying:
            kept = (h for h in found.hits if h.paper.paper_id in saying)
            found.hits = [h.model_copy(update={"rank": n}) for n, h in enumerate(kept, 1)]
            found.quoted = [i for i in found.quoted if i in saying]
            return found
        other = self.retriever.retrieve(topic, k, filters)
        titles = ", ".join(f'"{inert_markers(p.title)}"' for p in named)
        other.aside = (
            f"None of the papers the question names ({titles}) mentions '{topic}'; the "
            "answer is taken from the collection's papers on it."
        )
        return other

    def _named(self, named: str | None, *, strict: bool = False) -> Paper | None:
        """The one paper ``named`` names ("SOAP", "the rotation trick"), else None. ``strict``:
        a word in lower case short of a title names none, since it may be in one title and
        describe another paper ("papers like pruning")."""
        papers = papers_named(named, self.retriever.lexical().papers) if named else []
        if named and len(papers) > 1:  # "Shampoo" is in five titles; "Shampoo: ..." names it
            papers = [p for p in papers if p.title.lower().startswith(f"{named.lower()}:")]
        if len(papers) != 1 or (strict and (named or "").islower() and len(named or "") < 12):
            return None
        return papers[0]

    def _paper_titled(self, title: str | None) -> Paper | None:
        if title is None:
            return None
        return next((p for p in self.retriever.lexical().papers if p.title == title), None)

    def restored(self, history: Sequence[Turn]) -> list[Turn]:
        """``history`` with the standalone question each turn was searched as, where a client
        sent only the turns' text (an OpenAI client's messages): rebuilt in order, offline, as
        the rules made it then, so that "and the oldest?" after "Which of those is the
        newest?" asks the first topic again. With a model, condensing reads the turns
        themselves, and none is rebuilt."""
        if self.model is not None:
            return list(history)
        turns: list[Turn] = []
        for turn in history:
            if not turn.rewritten_query:
                standalone = self._condense(spelled_ordinals(turn.question), turns)
                turn = turn.model_copy(update={"rewritten_query": standalone})
            turns.append(turn)
        return turns

    def _condense(self, question: str, history: Sequence[Turn]) -> str:
        written = self._named(authors_asked(question))  # "the authors of SOAP"
        if written is not None:
            return f'Papers by the authors of "{written.title}"'
        named = like_asked(question)
        liked = self._named(named, strict=True)  # "papers similar to SOAP"
        clause = like_clause(named) if named and liked is None else None
        constrains = self.retriever.parser().parse(clause[1]) if clause else None
        if constrains and clause and not (constrains.filters.empty and constrains.sort is None):
            # "papers similar to SOAP but from 2025": those like it that meet the constraints,
            # where "SOAP but from 2025" had named no paper and been searched
            liked = self._named(clause[0], strict=True)
            if liked is not None:
                return f'Papers similar to "{liked.title}" ({clause[1]})'
        if liked is not None:  # searched without it (_search), as "any similar papers?"
            return f'Papers similar to "{liked.title}"'
        # "Thanks!" asks nothing of the last turn, and "Hi" gives the next one no topic.
        history = [turn for turn in history if not social(turn.question)]
        if not history or social(question):
            return question
        parsed = self.retriever.parser().parse(question)
        # it states constraints of its own, even one that no field holds ("from France")
        self_contained = (
            not parsed.filters.empty
            or parsed.sort is not None
            or parsed.tally is not None  # "Which author has the most papers?"
            or bool(parsed.unread)
        )
        like = similar_request(question, history) or same_authors_request(question, history)
        if like is not None:
            return like  # searched without the paper it is like or whose authors (_search)
        more = more_request(question, history, self.settings.retrieval.top_k)
        if more is not None:
            return more  # the same question, the papers after those shown (see _search)
        # "What about from 2025?": constraints and no topic narrow the last question.
        narrower = narrowed_by(question)  # "narrow it down to 2025": what after "to"
        probe = self.retriever.parser().parse(narrower) if narrower else parsed
        constraints_only = not probe.filters.empty and probe.bare
        # "which of those are about reasoning?" after a list by metadata alone
        narrowed = narrowing(
            question,
            history[-1],
            constraints_only=constraints_only,
            listing=lambda asked: self.retriever.parser().parse(asked).listing,
        )
        if narrowed is not None:
            last = history[-1]
            before = self.retriever.parser().parse(last.rewritten_query or last.question)
            few = before.count or (before.sort.count if before.sort else None)
            if few and 1 < len(last.cited_titles) <= few:
                # "which one has code?" after "the three newest papers": of those three,
                # where the three newest with code had been listed
                return f"{question} (about: {quoted_titles(last.cited_titles)})"
            return narrowed
        said = self._said_where(question, history[-1])
        if said == "elsewhere":
            return question  # "What is the rotation trick?" after SOAP: asked afresh
        if self.model is None:
            # "Which of those is the newest?": an order and nothing else to search.
            sort = parsed.sort if parsed.filters.empty and parsed.listing else None
            # "which is the most cited?": an order no field holds, said so over the same topic
            order = sort.phrase() if sort is not None else parsed.unheld_only
            standalone = condense_rule(
                question,
                history,
                self_contained=self_contained,
                order=order,
                follows=said == "last",
            )
            return self._also_named(question, standalone, history[-1])
        if not refers_back(question) and (
            self_contained or len(content_words(question)) >= STANDALONE_WORDS
        ):
            return question  # a new question: no model call, and nothing of the last turn
        condense = load_prompt(self.settings, "condense")
        transcript = "\n".join(
            f"User: {t.question}\nAssistant: {strip_citations(t.answer)[:600]}"
            for t in history[-3:]
        )
        prompt = condense.fill(history=transcript, question=question)
        rewritten = self.model.complete([{"role": "user", "content": prompt}]).strip()
        return rewritten.splitlines()[0].strip() if rewritten else question

    def _also_named(self, question: str, standalone: str, last: Turn) -> str:
        """``standalone`` asked of the last answer's papers, with a paper ``question`` names
        by the name its title begins with first among them: "how does SOAP fix that?" after
        Shampoo's limitations had been asked of Shampoo alone."""
        if not standalone.startswith(f"{question} (about: "):
            return standalone
        cited = set(last.cited_titles)
        index = self.retriever.lexical()
        titles = [
            paper.title
            for name in names.names(question)
            for paper, _ in index.search(name, _NAME_POOL)  # not a scan of every title
            if fold(title_name(paper.title)) == fold(name) and paper.title not in cited
        ]
        if not titles:
            return standalone
        about = standalone[len(question) + len(" (about: ") :]
        joint = " and " if about.startswith('"') else "; "
        return f"{question} (about: {quoted_titles(titles)}{joint}{about}"

    def _said_where(self, question: str, last: Turn) -> Literal["last", "elsewhere"] | None:
        """Where the thing a short question asks about ("What is X?", "tell me about X") is
        said: "last" where a paper the last answer cited mentions it ("what is the mean
        radial error?", "tell me about the large batch regime": counted by their words, they
        had started afresh), "elsewhere" where it does not and at most three other papers do
        ("What is the rotation trick?", "What is SimVQ?" after an answer about SOAP: read as
        follow-ups, they had been searched with SOAP's title and answered with SOAP); else
        None ("what are the limitations?": many papers say it, none of them cited)."""
        subject = named_subject(question)
        if subject is None:
            return None
        # By title, as the turn holds its papers: no scan of the collection for each.
        saying = {p.title for p in self.retriever.lexical().mentioning(subject)}
        if saying & set(last.cited_titles):
            return "last"
        return "elsewhere" if 0 < len(saying) <= _FEW_NAME else None

    def read(self, question: str) -> tuple[Reading | None, str | None]:
        """(the model's reading of the question's constraints, or None; why it is missing, if
        the model was asked and its reply did not check out).

        Asked only with a model configured, ``llm.read_filters`` on, and a question that may
        state a constraint (the rules recognised one, or it names a field or a year). The reply
        must be the JSON of a :class:`Reading`, dates and counts valid; otherwise the rules read
        the question.
        """
        if self.model is None or not self.settings.llm.read_filters:
            return None, None
        parsed = self.retriever.parser().parse(question)
        if not (parsed.constraints or parsed.unread or MAY_CONSTRAIN.search(question)):
            return None, None
        if parsed.tally is not None:  # a count per value is not a filter: the rules read it
            return None, None
        fields = "\n".join(
            f"  - {name}: {info.description}" for name, info in Filters.model_fields.items()
        )
        venues = ", ".join(self.retriever.parser().vocab.venues) or "none"
        try:
            prompt = load_prompt(self.settings, "filters").fill(
                fields=fields, venues=venues, question=question
            )
            reply = self.model.complete([{"role": "user", "content": prompt}])
        except AssistantError as exc:
            return None, f"{exc.describe()} (the rules read the question)"
        start, end = reply.find("{"), reply.rfind("}")  # past a ```json fence or a preamble
        text = reply[start : end + 1] if start >= 0 else reply
        try:
            return Reading.model_validate_json(text), None
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(part) for part in problem["loc"]) or "the reply"
            return None, (
                f"The model's reading of the constraints did not check out ({where}: "
                f"{problem['msg']}); the rules read the question"
            )

    def expand(self, question: str, *, always: bool = False) -> tuple[str | None, str | None]:
        """(the model's sketch of a matching paper, or None; why it is missing, if it failed).

        Asked only with ``llm.expand`` on (or ``always``) and a model configured. A failed
        expansion does not stop the answer: retrieval then uses the question alone.
        """
        if self.model is None or not (self.settings.llm.expand or always):
            return None, None
        try:
            prompt = load_prompt(self.settings, "expand").fill(question=question)
            sketch = self.model.complete([{"role": "user", "content": prompt}]).strip()
        except AssistantError as exc:
            return None, f"{exc.describe()} (searched with the question alone)"
        return (sketch or None), (None if sketch else "The model's expansion was empty")

    def _messages(
        self, prompt: Prompt, question: str, history: Sequence[Turn], found: Retrieval
    ) -> list[Message]:
        sources = _source_block(found.hits)
        if found.query.tally is not None:  # the counts come from every paper, not the sources
            sources = f"<counts>\n{tally_note(found)}\n</counts>\n\n{sources}"
        elif found.average is not None:  # ... and so does a mean
            sources = f"<counts>\n{average_note(found)}\n</counts>\n\n{sources}"
        system = prompt.fill(sources=sources)
        messages: list[Message] = [{"role": "system", "content": system}]
        for turn in history[-3:]:
            messages.append({"role": "user", "content": turn.question})
            messages.append({"role": "assistant", "content": turn.answer})
        messages.append({"role": "user", "content": question})
        return messages

    def _refusal_text(self, found: Retrieval, *, by_model: bool = False) -> str:
        reason = (
            "The retrieved papers do not answer this question."
            if by_model
            else "The collection does not seem to cover this question."
        )
        if not found.hits:
            if found.partial is not None:
                return (
                    f"Nothing found yet: the collection is still being indexed "
                    f"({found.partial}). Ask again once it is done."
                )
            papers = self.retriever.lexical().papers
            if not papers:
                return (
                    "The collection is empty: add papers first (`assistant ingest FILES`, the "
                    "Collection tab, or POST /v1/papers/upload)."
                )
            if found.doubt is not None:  # "Hi!": nothing to search for, and what to ask
                return found.doubt
            if found.query.filters.empty and found.query.unread:
                return (
                    "Nothing in the collection can be matched to this question: none of the "
                    "constraints it states could be used, and it names no topic to search."
                )
            said = (
                f"{reason} No paper matches its constraints "
                f"({'; '.join(found.query.constraints) or 'none recognised'})."
            )
            filters = found.query.filters
            said += _range_said(filters, papers)  # "more than 10 upvotes": the most any has
            if filters.authors or filters.any_author:  # "Papers by Sergey Levine on RL"
                unlisted = sum(1 for paper in papers if not paper.authors)
                if unlisted:
                    verb = "lists" if unlisted == 1 else "list"
                    said += (
                        f" {unlisted} of the {len(papers)} papers {verb} no author names, so "
                        "theirs may be among those: ask about the topic alone to search them."
                    )
            return said
        nearest = "; ".join(
            f'"{inert_markers(h.paper.title)}" ('
            # A paper found by its words alone was not among the nearest by meaning: it has no
            # similarity to show, which is not a similarity of 0.
            + ("found by its words" if h.similarity is None else f"similarity {h.similarity:.2f}")
            + ")"
            for h in found.hits[:3]
        )
        related = sum(1 for h in found.hits if (h.similarity or 0.0) >= (found.threshold or 1.0))
        if found.doubt is not None:
            # Why, where the question's names tell: "Papers in the collection use FLEURS, but
            # none of them introduces it."
            reason = f"{reason} {found.doubt}"
        return (
            f"{reason} The nearest papers are {nearest}; {related} of the "
            f"{len(found.hits)} closest papers reach the collection's relevance threshold. "
            "Nothing here is answered from general knowledge."
        )


def _range_said(filters: Filters, papers: Sequence[Paper]) -> str:
    """Where a count constraint matched nothing ("more than 10 upvotes"), the range the
    papers' values span, so that the next question can ask within it. Where some paper meets
    it, the other constraints left nothing, and the range is not said: "single-author papers
    from 2024" had been told the papers have 1 to 15 authors.

    >>> papers = [Paper(paper_id="a", title="A", abstract="x", upvotes=2)]
    >>> [_range_said(Filters(min_upvotes=n), papers) for n in (11, 1)]
    [' The papers that give upvotes have 2 upvotes each.', '']
    """
    said = ""
    fields: list[tuple[int | None, int | None, str, Literal["authors", "upvotes"]]] = [
        (filters.min_upvotes, filters.max_upvotes, "give upvotes", "upvotes"),
        (filters.min_authors, filters.max_authors, "give their number of authors", "authors"),
    ]
    for low, high, giving, field in fields:
        if low is None and high is None:
            continue
        values = [v for v in (count_of(paper, field) for paper in papers) if v is not None]
        if values and not any(within(v, low, high) for v in values):
            low_high = f"{min(values)} to {max(values)}" if min(values) < max(values) else ""
            span = f"{low_high} {field}" if low_high else f"{max(values)} {field} each"
            said += f" The papers that {giving} have {span}."
    return said


class _Stopwatch:
    """Milliseconds per stage of an answer, each lap since the one before."""

    def __init__(self, stages: dict[str, float] | None = None) -> None:
        self.stages = stages if stages is not None else {}
        self._clock = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.stages[name] = round((now - self._clock) * 1000, 2)
        self._clock = now


class _InstructionGuard:
    """Notices a model reciting its system prompt (asked to by an injected question or
    abstract): any run of ``words`` consecutive words of the prompt's instructions, the part
    before the sources, found in the answer."""

    def __init__(self, template: str, words: int = 6) -> None:
        head = re.findall(r"\w+", template.split("$sources")[0].lower())
        self.words = words
        self.runs = {tuple(head[i : i + words]) for i in range(len(head) - words + 1)}

    def repeated(self, text: str) -> bool:
        found = re.findall(r"\w+", text.lower())
        return any(
            tuple(found[i : i + self.words]) in self.runs
            for i in range(len(found) - self.words + 1)
        )


def _bibtex_of(answer: Answer, found: Retrieval) -> str:
    """The BibTeX entries of the papers ``answer`` cites, in its order, as a code block to
    copy (without abstracts: an entry to cite by), after a line that says whence they come."""
    by_id = {hit.paper.paper_id: hit.paper for hit in found.hits}
    papers = [by_id[c.paper_id] for c in answer.citations if c.paper_id in by_id]
    if not papers:
        return "\n\nNo paper is cited above, so there is no BibTeX entry to give."
    which = "the paper" if len(papers) == 1 else f"the {len(papers)} papers"
    # The entries hold titles: their own "[2]" must not read as a citation on the page.
    entries = inert_markers(to_bibtex(papers, abstracts=False))
    return (
        f"\n\nBibTeX for {which} cited above, from what the collection holds (no fields "
        f"are looked up elsewhere):\n\n{fenced(entries, 'bibtex')}"
    )


def _partial_note(found: Retrieval) -> str | None:
    """What an answer given while papers are still being indexed says first."""
    if found.partial is None:
        return None
    if found.partial == WORDS_LOADING:
        return (
            "The server is still loading its word index: papers were found by meaning alone, "
            "and constraints in the question (years, authors, venues) were not read."
        )
    unjudged = "" if found.verdict else ", and no coverage verdict is given until it is done"
    return (
        f"The collection is still being indexed ({found.partial}): this may miss papers{unjudged}."
    )


def _unjudged_note(found: Retrieval) -> str | None:
    """What an answer given before the collection's thresholds are saved says (just after an
    ingest, or after a crash left them stale): no verdict, so the reader is told."""
    if found.verdict or found.partial is not None:
        return None
    return (
        "No coverage verdict yet: the collection's thresholds are being built, so this answer "
        "was not checked against them."
    )


def _coverage(found: Retrieval) -> Coverage:
    verdict = found.coverage_verdict
    caveat = None
    if verdict == "uncertain":
        closest = "; ".join(f'"{h.paper.title}"' for h in found.hits[:3])
        caveat = f"The collection may not cover this question; the closest papers are {closest}."
        if found.doubt:
            caveat = f"{found.doubt} {caveat}"
    for note in (found.aside, found.unread_note, _partial_note(found), _unjudged_note(found)):
        if note:
            caveat = f"{note} {caveat}" if caveat else note
    return Coverage(
        partial=found.partial,
        covered=found.covered,
        verdict=verdict,
        caveat=caveat,
        relevance=found.relevance,
        threshold=found.threshold,
        lexical_coverage=found.lexical_coverage,
        lexical_threshold=found.lexical_threshold,
        matching=found.matching,
        available=found.verdict,
        nearest=[
            {"paper_id": h.paper.paper_id, "title": h.paper.title, "similarity": h.similarity}
            for h in found.hits[:3]
        ],
    )


def check_references(question: str, history: Sequence[Turn]) -> None:
    """Raise :class:`ResolutionError` when ``question`` points at a paper the last answer does
    not cite ("the second one" after an answer citing one): searched as words, it had been
    answered about whatever they found."""
    if not history:
        return
    listed = listed_turn(history)
    missing = missing_reference(question, history[-1], earlier_turn(history), listed)
    if missing is None:
        return
    both = missing.lower().startswith("both")
    # A place counts in the list walked down one paper a turn (listed_turn), if any.
    counted = history[-1] if both else listed
    whose = "The last answer" if counted is history[-1] else "The list"
    cited = len(counted.sources)
    said = f"cites {cited} paper{'s' if cited != 1 else ''}" if cited else "cites no paper"
    if both and cited > 2:
        raise ResolutionError(
            f'The last answer {said}, so "{missing}" does not say which two',
            hint='name them, e.g. "the first and the third", or by their titles',
        )
    raise ResolutionError(
        f'{whose} {said}, so "{missing}" names none',
        hint="name the paper by its title" + (', or ask about "the first one"' if cited else ""),
    )


def _asked(standalone: str) -> str:
    """What the answer's sentences are chosen for: the question, or for papers like one or
    by its authors, that paper's title."""
    similar = similar_to(standalone)
    return similar[0] if similar else authors_of(standalone) or standalone
