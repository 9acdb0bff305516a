"""Questions as people ask them: lists that show every match, conversations that do not leak."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.answer import Answerer, Delta, Final
from assistant.cli import main
from assistant.config import RetrievalSettings, Settings
from assistant.conversation import condense_rule, refers_back
from assistant.ingest import ingest
from assistant.records import Turn
from assistant.retrieve import Retriever, SearchResponse

from .conftest import ANIMALS


def test_listing_answer_shows_every_match(venue_store: Settings) -> None:
    answer = Answerer(venue_store).ask("Which papers are from ICLR 2026?")
    assert "12 papers match" in answer.answer and "all are listed" in answer.answer
    assert sorted(c.n for c in answer.citations) == list(range(1, 13))
    one = Answerer(venue_store).ask("Which papers were posted on 2026-01-01?")
    assert "1 paper matches (dates: on 2026-01-01); it is listed." in one.answer, one.answer


def test_listing_answer_says_how_many_it_left_out(venue_store: Settings) -> None:
    capped = venue_store.model_copy(update={"retrieval": RetrievalSettings(list_max=5)})
    answer = Answerer(capped).ask("Which papers are from ICLR 2026?")
    assert "12 papers match" in answer.answer and "5 are listed" in answer.answer
    assert len(answer.citations) == 5


def test_listing_search_in_the_cli_lists_all_without_fake_scores(venue_store: Settings) -> None:
    store = ["--store", str(venue_store.store.path)]
    env = {"ASSISTANT_EMBED__MODEL": "minilm"}
    shown = CliRunner().invoke(
        main, [*store, "search", "Which papers are from ICLR 2026?"], env=env
    )
    assert shown.exit_code == 0, shown.output
    assert "12 papers match; 12 listed." in shown.output and "0.000" not in shown.output
    cut = CliRunner().invoke(
        main, [*store, "search", "-k", "3", "Which papers are from ICLR 2026?"], env=env
    )
    assert "12 papers match; 3 listed (-k 12 shows them all)." in cut.output


@pytest.mark.parametrize(
    ("question", "back"),
    [
        ("What are its limitations?", True),
        ("What about those papers?", True),
        ("Tell me more about the second one", True),
        ("What data does the paper use?", True),
        ("And that?", True),
        ("Which papers were posted in 2024?", False),
        ("Which paper trains a network that stands in for the software of a shooter?", False),
        ("Which is the paper that proposes SOAP?", False),
    ],
)
def test_conversation_refers_back_only_when_it_points_at_the_last_turn(
    question: str, back: bool
) -> None:
    assert refers_back(question) is back


def test_conversation_a_new_question_starts_fresh() -> None:
    turn = Turn(
        question="Which papers are by Vincent Fortuin?",
        answer="...",
        rewritten_query="Which papers are by Vincent Fortuin?",
        sources={1: "Amortising Inference"},
    )
    dated = "Which papers were posted in 2024?"
    assert condense_rule(dated, [turn], self_contained=True) == dated
    described = "Which paper trains a network that stands in for the software of a shooter?"
    assert condense_rule(described, [turn]) == described
    assert "Vincent Fortuin" in condense_rule("What are its limitations?", [turn])


@pytest.mark.parametrize(
    ("question", "asked"),
    [
        ("And what about Lion?", "Lion"),
        ("how about the Muon optimizer", "the Muon optimizer"),
        ("Same for diffusion models.", "diffusion models"),
        ("OK, and for GANs?", "GANs"),
        ("What about its limitations?", None),  # about the last turn's paper
        ("Any newer ones?", None),
        ("And what about them?", None),
    ],
)
def test_conversation_the_same_asked_of_something_new_is_about_that(
    question: str, asked: str | None
) -> None:
    turn = Turn(question="How does SOAP improve Shampoo?", answer="...", sources={1: "SOAP"})
    condensed = condense_rule(question, [turn])
    if asked is None:
        assert condensed.startswith(question) and "SOAP" in condensed
    else:
        assert condensed == asked


def test_conversation_constraints_of_an_earlier_turn_do_not_leak(venue_store: Settings) -> None:
    answerer = Answerer(venue_store)
    first = answerer.ask("Which papers are from NeurIPS 2025?")
    assert "3 papers match" in first.answer
    second = answerer.ask("Which papers are from ICLR 2026?", [Turn.of(first)])
    assert "12 papers match" in second.answer
    assert second.receipt.rewritten_query == "Which papers are from ICLR 2026?"
    # A constraint no field holds is still its own: "from France" asks afresh.
    third = answerer.ask("Which papers are from France?", [Turn.of(first)])
    assert third.receipt.rewritten_query == "Which papers are from France?"


def test_conversation_an_order_alone_is_asked_of_the_last_answer(venue_store: Settings) -> None:
    answerer = Answerer(venue_store)
    first = answerer.ask("Which papers are from ICLR 2026?")
    history = [Turn.of(first)]
    for question, title in [
        ("Which of those is the newest?", "Dugong"),  # dated 2026-01-12, the last of twelve
        # its place kept: it had been asked as "(newest first)", and all twelve listed
        ("which is the second newest?", "Cassowary"),
        ("And the oldest?", "Wombat"),  # the order of the turn before is replaced
    ]:
        follow = answerer.ask(question, history)
        assert follow.receipt.rewritten_query.startswith("Which papers are from ICLR 2026? (")
        assert follow.receipt.rewritten_query.count("(") == 1
        assert follow.citations[0].title.startswith(title)
        history.append(Turn.of(follow))
    fresh = answerer.ask("Which are the newest papers?", [Turn.of(first)])
    assert fresh.receipt.rewritten_query == "Which are the newest papers?"
    assert fresh.citations[0].title.startswith("Dugong")  # also the newest of the collection
    # Turns given as their text alone (an OpenAI client's messages) get the question each was
    # searched as back: "And the oldest?" had been asked of "Which of those is the newest?".
    bare = [Turn(question=t.question, answer=t.answer, sources=t.sources) for t in history[:2]]
    restored = answerer.restored(bare)
    assert [t.rewritten_query for t in restored] == [
        "Which papers are from ICLR 2026?",
        "Which papers are from ICLR 2026? (newest first)",
    ]
    oldest = answerer.ask("And the oldest?", restored)
    assert oldest.receipt.rewritten_query == "Which papers are from ICLR 2026? (oldest first)"


def test_a_yes_or_no_question_of_one_papers_listing_answers_with_it(venue_store: Settings) -> None:
    answerer = Answerer(venue_store)
    # Read as a filter, no ICLR 2026 paper was about the glacier: the Glacier paper had been
    # said to lie outside them, and an animal paper quoted.
    answer = answerer.ask("Is the Glacier paper from ICLR 2026?")
    assert not any(r.startswith("venue") for r in answer.receipt.recognised)
    first = answer.answer.split("\n- ")[1]
    assert first.startswith("**Glacier Dynamics** (NeurIPS 2025 · 2025-12-01"), first
    assert answer.coverage.verdict == "covered"


def test_papers_like_a_named_one_keep_the_constraints_said_after_it(
    venue_store: Settings,
) -> None:
    answerer = Answerer(venue_store)
    # "the Dingo paper but from 2025" had named no paper, and been searched as words.
    like = answerer.ask("Find papers similar to the Dingo paper but from 2025")
    assert (
        like.receipt.rewritten_query
        == 'Papers similar to "Dingo Behaviour in the Wild" (from 2025)'
    )
    dated = {"Glacier Dynamics", "Dune Dynamics", "Tide Dynamics"}  # the papers from 2025
    assert like.citations and {c.title for c in like.citations} <= dated
    # An order asked of them keeps the constraint: two in parentheses had named no paper.
    newest = answerer.ask("Which of those is the newest?", [Turn.of(like)])
    assert newest.receipt.rewritten_query.endswith("(from 2025) (newest first)")
    assert newest.citations and {c.title for c in newest.citations} <= dated


def test_papers_like_the_last_one_keep_the_constraints_said_of_them(
    venue_store: Settings,
) -> None:
    answerer = Answerer(venue_store)
    first = answerer.ask("How does the dingo behave in the wild?")
    # "from 2025" had been dropped: the nearest papers of any year were listed.
    dated = answerer.ask("similar papers from 2025?", [Turn.of(first)])
    assert (
        dated.receipt.rewritten_query
        == 'Papers similar to "Dingo Behaviour in the Wild" (papers from 2025)'
    )
    from_2025 = {"Glacier Dynamics", "Dune Dynamics", "Tide Dynamics"}
    assert dated.citations and {c.title for c in dated.citations} <= from_2025
    # None of them is near it (its nearest are the other animal papers, from 2026): said so,
    # with those nearest, rather than the papers from 2025 given as like it.
    assert dated.coverage.verdict == "uncertain"
    assert dated.coverage.caveat is not None
    assert 'nearest to "Dingo Behaviour in the Wild"' in dated.coverage.caveat
    assert "Behaviour in the Wild" in dated.coverage.caveat.split("nearest to")[1]
    # Where the nearest meet the constraint, they are simply listed.
    near = answerer.ask("similar papers from 2026?", [Turn.of(first)])
    assert near.coverage.verdict == "covered" and near.coverage.caveat is None
    assert near.citations and all("Behaviour" in c.title for c in near.citations)
    # "on the same topic" asks for them too, here newest first: searched as words, it had
    # found papers on other topics.
    newer = answerer.ask("any newer papers on the same topic?", [Turn.of(first)])
    assert newer.receipt.rewritten_query.startswith('Papers similar to "Dingo Behaviour')
    assert any(r.startswith("sort by date") for r in newer.receipt.recognised)


def test_constraints_on_papers_like_one_narrow_that_search(venue_store: Settings) -> None:
    answerer = Answerer(venue_store)
    first = answerer.ask("How does the dingo behave in the wild?")
    like = answerer.ask("anything similar?", [Turn.of(first)])
    assert like.receipt.rewritten_query == 'Papers similar to "Dingo Behaviour in the Wild"'
    # "similar ones from 2026?" asks for those, from 2026: it had asked for papers like the
    # first of them instead, another animal paper.
    dated = answerer.ask("similar ones from 2026?", [Turn.of(first), Turn.of(like)])
    assert dated.receipt.rewritten_query.startswith(
        'Papers similar to "Dingo Behaviour in the Wild" ('
    )
    assert dated.citations and "Dingo Behaviour in the Wild" not in {
        c.title for c in dated.citations
    }
    # Without constraints, "anything similar?" again asks about the first of those listed.
    again = answerer.ask("anything similar?", [Turn.of(first), Turn.of(like)])
    assert again.receipt.rewritten_query == f'Papers similar to "{like.citations[0].title}"'


def test_the_paper_at_a_place_in_an_order_is_that_one(venue_store: Settings) -> None:
    # "second" had been searched as a topic, and the question refused.
    second = Answerer(venue_store).ask("What is the second newest paper?")
    assert [c.title for c in second.citations] == ["Cassowary Behaviour in the Wild"]
    assert "the one in that place is listed" in second.answer
    third = Answerer(venue_store).ask("the 3rd oldest paper from ICLR 2026")
    assert [c.title for c in third.citations] == ["Emu Behaviour in the Wild"]


def test_an_order_no_field_holds_is_asked_of_the_last_topic(venue_store: Settings) -> None:
    answerer = Answerer(venue_store)
    first = answerer.ask("How does the dingo behave in the wild?")
    # Asked afresh, it had searched "which is the most cited?" as words and lost the dingo.
    cited = answerer.ask("which is the most cited?", [Turn.of(first)])
    assert cited.receipt.rewritten_query == "How does the dingo behave in the wild? (most cited)"
    assert "I could not use 'most cited' as a filter" in (cited.coverage.caveat or "")
    assert cited.citations[0].title == "Dingo Behaviour in the Wild"
    assert not cited.refused


def test_conversation_asks_for_papers_like_the_last_one(venue_store: Settings) -> None:
    answerer = Answerer(venue_store)
    first = answerer.ask("How does the dingo behave in the wild?")
    assert first.citations[0].title == "Dingo Behaviour in the Wild"
    like = answerer.ask("Are there similar papers?", [Turn.of(first)])
    assert like.receipt.rewritten_query == 'Papers similar to "Dingo Behaviour in the Wild"'
    # "Other papers on that" asks the same: it had found the dingo paper again, first.
    other = answerer.ask("Are there other papers on that?", [Turn.of(first)])
    assert other.receipt.rewritten_query == like.receipt.rewritten_query
    # The nearest papers are what was asked for: no verdict of a question's thresholds.
    assert like.coverage.verdict == other.coverage.verdict == "covered"
    cited = [c.title for c in like.citations]
    # Its neighbours, without the paper itself.
    assert cited and "Dingo Behaviour in the Wild" not in cited
    assert all(title.endswith("Behaviour in the Wild") for title in cited), cited
    assert not like.refused
    # The paper named in the question itself: it had been searched, and found first.
    named = answerer.ask("Find papers similar to the Dingo paper")
    assert named.receipt.rewritten_query == like.receipt.rewritten_query
    assert "Dingo Behaviour in the Wild" not in [c.title for c in named.citations]
    # An order asked of them sorts them, still without the paper they are like.
    newest = answerer.ask("Which of those is the newest?", [Turn.of(first), Turn.of(like)])
    assert newest.receipt.rewritten_query.endswith('Wild" (newest first)')
    dates = {f"{a.title()} Behaviour in the Wild": i for i, a in enumerate(ANIMALS)}
    ranked = [c.title for c in newest.citations]
    assert "Dingo Behaviour in the Wild" not in ranked
    assert [dates[t] for t in ranked] == sorted((dates[t] for t in ranked), reverse=True), ranked


def test_more_gives_the_papers_after_those_shown(venue_store: Settings) -> None:
    answerer = Answerer(venue_store)
    first = answerer.ask("Which papers study how animals behave in the wild?")
    shown = {c.title for c in first.citations}
    more = answerer.ask("give me 2 more", [Turn.of(first)])
    asked = f"Which papers study how animals behave in the wild? (papers {max(Turn.of(first).sources) + 1} to"
    assert more.receipt.rewritten_query.startswith(asked)
    assert len(more.citations) == 2 and not shown & {c.title for c in more.citations}
    again = answerer.ask("Any others?", [Turn.of(first), Turn.of(more)])
    assert not (shown | {c.title for c in more.citations}) & {c.title for c in again.citations}
    # After a listing of every paper that matches, there is no more to give, and it says so.
    listed = answerer.ask("Which papers are from NeurIPS 2025?")
    none = answerer.ask("more", [Turn.of(listed)])
    assert none.refused and none.answer.startswith("No more papers: the 3 already shown")


def test_a_constraint_after_a_number_asked_for_keeps_to_those_papers(venue_store: Settings) -> None:
    # "which ones are from NeurIPS 2025?" after "the two newest papers" had listed the two
    # newest NeurIPS papers, none of which had been shown.
    answerer = Answerer(venue_store)
    newest = answerer.ask("What are the two newest papers?")
    shown = [c.title for c in newest.citations]
    assert shown == ["Dugong Behaviour in the Wild", "Cassowary Behaviour in the Wild"]
    narrowed = answerer.ask("which ones are from NeurIPS 2025?", [Turn.of(newest)])
    assert all(t in narrowed.receipt.rewritten_query for t in shown)
    assert not [c.title for c in narrowed.citations if c.title.endswith("Dynamics")]
    kept = answerer.ask("which ones are from ICLR 2026?", [Turn.of(newest)])
    assert sorted(c.title for c in kept.citations) == sorted(shown)


def test_more_after_a_number_asked_for_gives_the_next_ones(venue_store: Settings) -> None:
    # The number the question asked for is the first page's: "more" had found nothing
    # after it, and said that the papers shown were all that match.
    answerer = Answerer(venue_store)
    first = answerer.ask("Give me 2 papers on animals in the wild")
    assert len(first.citations) == 2
    more = answerer.ask("show me more", [Turn.of(first)])
    assert not more.refused and len(more.citations) >= 2, more.answer
    assert not {c.title for c in first.citations} & {c.title for c in more.citations}
    # An order with a number: the papers after those, in the same order.
    newest = answerer.ask("What are the two newest papers?")
    after = answerer.ask("show me more", [Turn.of(newest)])
    dates = {f"{a.title()} Behaviour in the Wild": i for i, a in enumerate(ANIMALS)}
    ranked = [dates[c.title] for c in newest.citations + after.citations]
    assert len(ranked) > 2 and ranked == sorted(ranked, reverse=True), ranked


def test_constraints_alone_narrow_the_last_question(venue_store: Settings) -> None:
    answerer = Answerer(venue_store)
    first = answerer.ask("Which papers are about differential equations?")
    narrowed = answerer.ask("And what about from 2026?", [Turn.of(first)])
    assert narrowed.receipt.rewritten_query == (
        "Which papers are about differential equations? (from 2026)"
    )
    # None of the 2026 papers is on the topic, and the answer says where those that are stand.
    assert narrowed.coverage.verdict == "uncertain"
    assert "Outside them, 3 papers say it" in (narrowed.coverage.caveat or "")
    # A new topic is still a new question.
    assert answerer.ask("What about glaciers?", [Turn.of(first)]).receipt.rewritten_query == (
        "glaciers"
    )


def test_conversation_compare_it_with_the_second_one(venue_store: Settings) -> None:
    from assistant.compare import Comparer

    answerer = Answerer(venue_store)
    listed = answerer.ask("Which papers are from NeurIPS 2025?")
    numbered = Turn.of(listed).sources
    papers, how = Comparer.beside(answerer).resolve(
        "Compare it with the second one", history=[Turn.of(listed)]
    )
    assert [p.title for p in papers] == [numbered[1], numbered[2]]
    assert sorted(how.values()) == [
        '"it" of the last answer',
        '"the second one" of the last answer',
    ]


def test_cli_papers_piped_keeps_titles_whole(venue_store: Settings) -> None:
    shown = CliRunner().invoke(
        main,
        ["--store", str(venue_store.store.path), "papers"],
        env={"ASSISTANT_EMBED__MODEL": "minilm"},
    )
    assert shown.exit_code == 0
    assert any("Kookaburra Behaviour in the Wild" in line for line in shown.output.splitlines())


def test_cli_config_says_when_no_model_answers() -> None:
    shown = CliRunner().invoke(main, ["config"])
    assert shown.output.startswith("# answers: extracted from the abstracts (no model configured")
    configured = CliRunner().invoke(
        main, ["config"], env={"ASSISTANT_LLM__BASE_URL": "http://127.0.0.1:9/v1"}
    )
    assert configured.output.startswith("# answers: model 'gpt-4o-mini' at http://127.0.0.1:9/v1")


def test_extracted_answer_streams_in_pieces_and_counts_tokens(venue_store: Settings) -> None:
    from assistant.records import Answer

    events = list(Answerer(venue_store).stream("Which papers are from NeurIPS 2025?"))
    pieces = [e.text for e in events if isinstance(e, Delta)]
    assert isinstance(events[-1], Final)
    final = events[-1].answer
    assert isinstance(final, Answer) and len(pieces) > 3
    assert "".join(pieces) == final.answer
    assert final.receipt.token_source == "tiktoken" and final.receipt.completion_tokens


def test_limitations_question_quotes_the_limitation_or_says_there_is_none(
    settings: Settings, tmp_path: Path
) -> None:
    from assistant.extract import NO_LIMITATION

    rows = [
        {
            "title": "Memory Compaction for Long-Context Transformers",
            "abstract": (
                "Long contexts make transformer memory grow without bound. "
                "We introduce memory compaction, which merges old key-value entries into "
                "summaries. Compaction cuts memory by 8x on long-document benchmarks. "
                "A limitation is that compaction is lossy for exact copy tasks."
            ),
        },
        {
            "title": "Wombat Burrow Mapping with Ground Radar",
            "abstract": (
                "We map wombat burrows with ground-penetrating radar across three sites. "
                "The radar finds burrows up to two metres deep with high accuracy."
            ),
        },
    ]
    source = tmp_path / "papers.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows))
    ingest([source], settings)
    answerer = Answerer(settings)
    stated = answerer.ask("What are the limitations of memory compaction for transformers?")
    assert "compaction is lossy for exact copy tasks [1]" in stated.answer
    assert "cuts memory by 8x" not in stated.answer  # the result is not the limitation
    none = answerer.ask("What are the limitations of mapping wombat burrows with ground radar?")
    assert "Wombat Burrow Mapping" in none.answer and NO_LIMITATION in none.answer
    assert "two metres deep" not in none.answer


def test_a_question_on_a_papers_metadata_shows_it(venue_store: Settings) -> None:
    answerer = Answerer(venue_store)
    for question, shown in (
        ("When was the Wombat Behaviour in the Wild paper published?", ")"),
        # What it asks and the listing does not give is said so, not left out.
        ("Who wrote Wombat Behaviour in the Wild?", " · no authors listed)"),
        # Who works on a topic asks for the people too: the abstract had been quoted alone.
        ("Who works on wombat behaviour in the wild?", " · no authors listed)"),
        ("Which researchers study wombat behaviour?", " · no authors listed)"),
    ):
        answer = answerer.ask(question)
        assert f"**Wombat Behaviour in the Wild** (ICLR 2026 · 2026-01-01{shown}" in answer.answer
    plain = answerer.ask("How does the wombat behave in the wild?").answer
    assert "**Wombat Behaviour in the Wild**:" in plain


def test_counts_of_papers_per_author_year_and_listing(settings: Settings, tmp_path: Path) -> None:
    """ "Which author has the most papers?" counts over the papers' metadata and lists the
    papers of the values it names; a name spelt two ways is one author, and a bracketed number
    in a name does not read as a citation."""
    written = {
        "wombat": ["Ana Suárez", "Bo Li"],
        "quokka": ["Ana Suarez", "Eve [2] Roe"],
        "emu": ["Ana Suárez", "Bo Li"],
        "dingo": ["Cy Ng", "Eve [2] Roe"],
        "numbat": [],
    }
    rows = [
        {
            "title": f"{animal.title()} Behaviour in the Wild",
            "abstract": f"We study how the {animal} behaves in the wild with field cameras. " * 3,
            "venue": "ICLR 2026" if i < 3 else "NeurIPS 2025",
            "authors": names,
        }
        for i, (animal, names) in enumerate(written.items())
    ]
    for row, date in zip(rows, ["2026-01-01"] * 3 + ["2025-06-01", "2024-01-01"], strict=True):
        row["date"] = date
    source = tmp_path / "papers.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows))
    ingest([source], settings)
    answerer = Answerer(settings)

    most = answerer.ask("Which author has the most papers?")
    assert not most.refused and most.coverage.verdict == "covered"
    assert (
        "Authors with the most papers (of the 4 papers that give one): Ana Suárez (3 papers). "
        "Their papers (3) are listed." in most.answer
    )
    assert sorted(c.title.split()[0] for c in most.citations) == ["Emu", "Quokka", "Wombat"]
    # The other end, as a follow-up: the last question asked of the fewest.
    fewest = answerer.ask("And the fewest?", [Turn.of(most)])
    assert fewest.receipt.rewritten_query == "Which author has the fewest papers?"
    assert "Authors with the fewest papers (of the 4 papers that give one): Cy Ng (1 paper)." in (
        fewest.answer
    )

    several = answerer.ask("Which authors appear on more than one paper?")
    note = several.answer.split("\n\n")[1]
    assert note.startswith("Authors with at least 2 papers (of the 4 papers that give one): ")
    assert "Ana Suárez (3 papers), Bo Li (2 papers), Eve (2) Roe (2 papers)." in note
    assert "Cy Ng" not in note and len(several.citations) == 4
    # A listing's "[2]" in an author's name cites nothing, on the paper's line either.
    assert "Eve [2] Roe" not in several.answer and "Eve (2) Roe ·" in several.answer

    # How many authors there are: it had named nothing to search for.
    authors = answerer.ask("How many authors are there?")
    assert authors.answer.split("\n\n")[1].startswith(
        "4 authors (of the 4 papers that give one): Ana Suárez (3 papers), Bo Li (2 papers), "
    )
    assert "2 listings (of the 5 papers that give one)" in (
        answerer.ask("how many distinct venues are in the collection?").answer
    )

    years = answerer.ask("How many papers are there per year?").answer
    assert (
        "Papers per year (of the 5 papers that give one): 2024 (1 paper), 2025 (1 paper), "
        "2026 (3 papers). The papers of 2026 (3) are listed." in years
    )

    # Within other constraints, and where none of the papers gives the field.
    at = answerer.ask("Who wrote the most papers at NeurIPS 2025?").answer
    assert (
        "No author has more than one paper (of the 1 paper (venue: NeurIPS 2025) that gives "
        "one): Cy Ng (1 paper), Eve (2) Roe (1 paper). Their papers (1) are listed." in at
    )
    undated = answerer.ask("Which author has the most papers from 2024?")
    assert (
        "Of the 1 paper (dates: from 2024), none lists its authors, so there is nothing to "
        "count; it is listed." in undated.answer
    )
    assert [c.title for c in undated.citations] == ["Numbat Behaviour in the Wild"]

    # Per month, of the dates that give one, in order of time ("each month" had been read as
    # nothing, and a paper listed).
    months = answerer.ask("How many papers were published each month?").answer
    assert (
        "Papers per month (of the 5 papers that give one): 2024-01 (1 paper), 2025-06 (1 paper)"
        ", 2026-01 (3 papers). The papers of 2026-01 (3) are listed." in months
    )

    # A share of the collection: said beside the count, where "proportion" had been searched.
    share = answerer.ask("What proportion of papers are from ICLR 2026?").answer
    assert "3 papers match (venue: ICLR 2026), 60% of the 5 papers in the collection; all are" in (
        share
    )
    wombats = answerer.ask("What percentage of papers mention wombats?").answer
    assert "1 paper mentions 'wombats', 20% of the 5 papers in the collection; per listing" in (
        wombats
    )
    # A mean of the number of authors, over the papers that give it (had been said unread).
    averaged = answerer.ask("What is the average number of authors?")
    mean = averaged.answer
    # Of papers on a topic none mentions: said, and the topic searched (it had raised).
    koalas = answerer.ask("What is the average number of authors of papers about koalas?")
    assert "mentions 'koalas' as written, so no average was taken" in (koalas.coverage.caveat or "")
    assert (
        "The 4 papers (of 5 papers) that give their number of authors have 2.0 authors on "
        "average (each has 2)." in mean
    )
    searched = SearchResponse.of(Retriever(settings).retrieve("average number of authors"))
    assert searched.average is not None and (searched.average.mean, searched.average.giving) == (
        2.0,
        4,
    )
    # A count no paper reaches: refused, with the range the papers span.
    many = answerer.ask("papers with more than 4 authors").answer
    assert "No paper matches its constraints (authors: more than 4 authors). The papers that " in (
        many
    )
    assert "give their number of authors have 2 authors each." in many
    # An author no paper lists: refused, and said that a paper listing no authors may be theirs.
    nobody = answerer.ask("papers by Zed Quill on the wild")
    assert nobody.refused and "No paper matches its constraints (authors: Zed Quill)." in (
        nobody.answer
    )
    assert "1 of the 5 papers lists no author names, so theirs may be among those" in nobody.answer

    total = answerer.ask("How many papers are there in the collection?").answer
    assert (
        "The collection holds 5 papers; per listing: ICLR 2026 (3 papers), NeurIPS 2025 "
        "(2 papers). The newest (5) are listed." in total
    )

    # Within a topic: over the papers whose title or abstract mentions it, said so.
    topical = answerer.ask("Who wrote the most papers about the wild?")
    assert topical.coverage.verdict == "covered" and topical.coverage.caveat is None
    assert (
        "Authors with the most papers (of the 5 papers mentioning 'wild', the 4 that give "
        "one): Ana Suárez (3 papers). Their papers (3) are listed." in topical.answer
    )
    # The same count within another topic, as a follow-up.
    again = answerer.ask("And what about wombats?", [Turn.of(topical)])
    assert again.receipt.rewritten_query == "Who wrote the most papers about wombats?"
    assert "(of the 1 paper mentioning 'wombats' that gives one): Ana Suárez (1 paper)" in (
        again.answer
    )
    wombats = answerer.ask("How many papers about wombats are in each listing?").answer
    assert "Papers per listing (of the 1 paper mentioning 'wombats' that gives one): ICLR" in (
        wombats
    )
    wild = answerer.ask("How many papers mention the wild?").answer
    assert (
        "5 papers mention 'wild'; per listing: ICLR 2026 (3 papers), NeurIPS 2025 (2 papers). "
        "The newest (5) are listed." in wild
    )
    # None mentions it (a description, or a topic not there): searched instead, said so.
    # Other constraints between the count and the topic are read too.
    iclr = answerer.ask("How many NeurIPS 2025 papers mention the wild?").answer
    assert "2 papers mention 'wild' (venue: NeurIPS 2025); per listing: NeurIPS 2025 (2" in iclr
    koalas = answerer.ask("Which venue has the most papers about koalas?")
    assert "mentions 'koalas' as written, so nothing was counted" in (koalas.coverage.caveat or "")
    assert "Listings or venues with the most papers" not in koalas.answer

    shown = CliRunner().invoke(
        main,
        ["--store", str(settings.store.path), "search", "Which listing has the most papers?"],
        env={"ASSISTANT_EMBED__MODEL": "minilm"},
    )
    assert shown.exit_code == 0, shown.output
    assert (
        "Listings or venues with the most papers (of the 5 papers that give one): ICLR 2026"
        in shown.output
    )
    as_json = CliRunner().invoke(
        main,
        [
            *("--store", str(settings.store.path), "search", "--format", "json"),
            "Which year has the most papers about the wild?",
        ],
        env={"ASSISTANT_EMBED__MODEL": "minilm"},
    )
    body = json.loads(as_json.output)
    assert (body["within"], body["counted"], body["counts"]) == (5, 5, [["2026", 3]])


def test_one_paper_asked_by_an_order_lists_the_first_and_those_tied(venue_store: Settings) -> None:
    answerer = Answerer(venue_store)
    newest = answerer.ask("What is the newest paper?")
    assert "15 papers match (sort by date: newest); the first is listed." in newest.answer
    assert [c.title for c in newest.citations] == ["Dugong Behaviour in the Wild"]
    # Three papers share the oldest date: all three, not one of them picked at random.
    oldest = answerer.ask("Which paper is the oldest?")
    assert "the 3 that share the first place are listed." in oldest.answer
    assert sorted(c.title for c in oldest.citations) == [
        "Dune Dynamics",
        "Glacier Dynamics",
        "Tide Dynamics",
    ]
    # Papers, plural: the whole listing in that order.
    assert len(answerer.ask("What are the newest papers?").citations) == 15


def test_a_paper_asked_for_by_its_doi_or_arxiv_id(settings: Settings, tmp_path: Path) -> None:
    """A DOI or an arXiv identifier pasted into a question names its paper (neither is in the
    text that is searched); "Which papers have a DOI?" lists those that give one."""
    rows = [
        {
            "title": f"{animal.title()} Behaviour in the Wild",
            "abstract": f"We study how the {animal} behaves in the wild with field cameras. " * 3,
            **ids,
        }
        for animal, ids in [
            ("wombat", {"doi": "https://doi.org/10.1234/Wombat.7"}),
            ("quokka", {"arxiv_id": "arXiv:2401.01234v2"}),
            ("emu", {}),
        ]
    ]
    source = tmp_path / "papers.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows))
    ingest([source], settings)
    answerer = Answerer(settings)
    for question, title in [
        ("Which paper has the DOI 10.1234/wombat.7?", "Wombat"),
        ("Who wrote doi:10.1234/WOMBAT.7", "Wombat"),
        ("What is arXiv:2401.01234 about?", "Quokka"),
        ("Summarize 2401.01234v3", "Quokka"),
    ]:
        answer = answerer.ask(question)
        assert [c.title.split()[0] for c in answer.citations] == [title], question
        assert answer.coverage.verdict == "covered", question
    assert [c.title.split()[0] for c in answerer.ask("Which papers have a DOI?").citations] == [
        "Wombat"
    ]
    unknown = answerer.ask("Which paper has the DOI 10.9999/none?")
    assert unknown.refused and "No paper matches its constraints (doi: 10.9999/none)" in (
        unknown.answer
    )


def test_other_papers_by_the_same_authors_share_one_of_them(
    settings: Settings, tmp_path: Path
) -> None:
    people = {
        "Wombat Burrows": ["Ada Lovelace", "Alan Turing"],
        "Quokka Smiles": ["Alan M. Turing"],
        "Emu Flight": ["Grace Hopper", "Ada Lovelace"],
        "Dingo Packs": ["Grace Hopper"],
        "Bilby Tunnels": ["Mary Shelley"],
        "Numbat Diets": [],
        "Possum Nights": ["Alana Turingsson"],  # no author of the wombat paper
        "Echidna Spines": ["Mallory [2] Smith"],  # a name that writes a citation marker
    }
    rows = [
        {
            "title": title,
            "abstract": f"We study {title.lower()} in the field. " * 3,
            "authors": names,
        }
        for title, names in people.items()
    ]
    source = tmp_path / "people.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows))
    ingest([source], settings)
    answerer = Answerer(settings)

    def after(question: str, follow_up: str) -> tuple[str, list[str], bool]:
        first = answerer.ask(question)
        answer = answerer.ask(follow_up, [Turn.of(first)])
        return answer.answer, [c.title for c in answer.citations], answer.refused

    text, cited, refused = after(
        "What is known about wombat burrows?", "any other papers by the same authors?"
    )
    assert sorted(cited) == ["Emu Flight", "Quokka Smiles"] and not refused, text
    assert 'an author of "Wombat Burrows": Ada Lovelace, Alan Turing' in text, text
    text, cited, _ = after("What about dingo packs?", "what else did they write?")
    assert cited == ["Emu Flight"], text
    text, cited, refused = after("Tell me about echidna spines", "anything else by them?")
    assert "Mallory (2) Smith" in text and "[2]" not in text, text
    text, cited, refused = after("Tell me about bilby tunnels", "anything else by them?")
    assert refused and not cited, text
    assert 'No other paper in the collection lists an author of "Bilby Tunnels"' in text
    text, cited, refused = after(
        "What about numbat diets?", "any other papers by the same authors?"
    )
    assert refused and '"Numbat Diets" does not name its authors' in text, text
    # Asked of a paper named in the question, without a turn before it.
    for asked in (
        "What else have the authors of the Wombat Burrows paper written?",
        "Any papers by the same authors as Wombat Burrows?",
    ):
        named = answerer.ask(asked)
        assert sorted(c.title for c in named.citations) == ["Emu Flight", "Quokka Smiles"], asked


def test_papers_whose_abstract_gives_code_are_a_field(settings: Settings, tmp_path: Path) -> None:
    said = {
        "Wombat Burrows": "Code is available at https://github.com/wombat/burrows.",
        "Quokka Smiles": "The source code will be made available.",
        "Emu Flight": "We release our implementation to the community.",
        "Dingo Packs": "It takes a few lines of code, and we study code generation.",
        "Bilby Tunnels": "We dig tunnels by hand.",
    }
    rows = [
        {"title": title, "abstract": f"We study {title.lower()} in the field. {text}"}
        for title, text in said.items()
    ]
    source = tmp_path / "code.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows))
    ingest([source], settings)
    answerer = Answerer(settings)
    given = answerer.ask("Which papers release their code?")
    assert sorted(c.title for c in given.citations) == [
        "Emu Flight",
        "Quokka Smiles",
        "Wombat Burrows",
    ]
    assert "3 papers match (has code" in given.answer, given.answer
    assert "its abstract links https://github.com/wombat/burrows" in given.answer
    lacking = answerer.ask("Which papers have no code?")
    assert sorted(c.title for c in lacking.citations) == ["Bilby Tunnels", "Dingo Packs"]
    topic = answerer.ask("Which papers are about code generation?")  # a topic, not the field
    assert topic.citations[0].title == "Dingo Packs" and "has code" not in topic.answer
    # Asked of papers an answer cited: those of them that give code, not others that do.
    cited = answerer.ask('Tell me about "Wombat Burrows" and "Bilby Tunnels"')
    which = answerer.ask("which ones have code?", [Turn.of(cited)])
    assert [c.title for c in which.citations] == ["Wombat Burrows"], which.answer
    none = answerer.ask('Tell me about "Dingo Packs" and "Bilby Tunnels"')
    neither = answerer.ask("which ones have code?", [Turn.of(none)])
    assert neither.refused and not neither.citations, neither.answer
    assert neither.answer.startswith('None of the papers the question names ("Dingo Packs"')
    # "and which don't?" after "which ones have code?": the others, on the same topic.
    field = answerer.ask("papers that study animals in the field")
    coded = answerer.ask("which ones have code?", [Turn.of(field)])
    rest = answerer.ask("and which don't?", [Turn.of(field), Turn.of(coded)])
    assert rest.receipt.rewritten_query.endswith("in the field (without code)"), rest.receipt
    assert {c.title for c in rest.citations} <= {"Dingo Packs", "Bilby Tunnels"}, rest.answer
    # "Does it have code?" asks it of one paper: no filter, and the answer says.
    bilby = answerer.ask("Tell me about bilby tunnels")
    asked = answerer.ask("does it have code?", [Turn.of(bilby)])
    assert [c.title for c in asked.citations] == ["Bilby Tunnels"], asked.answer
    assert "its abstract gives no code" in asked.answer, asked.answer


def test_follow_ups_narrow_a_listing_to_a_topic_or_another_year(venue_store: Settings) -> None:
    answerer = Answerer(venue_store)
    listed = answerer.ask("Which papers are from ICLR 2026?")
    about = answerer.ask("and which of those are about the quokka?", [Turn.of(listed)])
    assert about.receipt.rewritten_query == "Which papers are from ICLR 2026? (about the quokka)"
    assert about.citations[0].title == "Quokka Behaviour in the Wild", about.answer
    topic = answerer.ask("papers on differential equations")
    narrowed = answerer.ask("any from 2025?", [Turn.of(topic)])
    assert narrowed.receipt.rewritten_query == "papers on differential equations (from 2025)"
    # A year alone asks instead of 2025, not within it: before, "2026" was searched as a word.
    other = answerer.ask("what about 2026?", [Turn.of(topic), Turn.of(narrowed)])
    assert other.receipt.rewritten_query == "papers on differential equations (from 2026)"
    # ... and in the question's own words, where it says a year: it had kept 2025.
    dated = answerer.ask("papers on differential equations from 2025")
    then = answerer.ask("what about 2026?", [Turn.of(dated)])
    assert then.receipt.rewritten_query == "papers on differential equations from 2026"


def test_a_paper_asked_whether_it_is_from_a_year_it_is_not_says_when_it_is_from(
    venue_store: Settings,
) -> None:
    answerer = Answerer(venue_store)
    first = answerer.ask("Tell me about Glacier Dynamics")
    assert first.citations[0].title == "Glacier Dynamics"
    # It had said only that the paper does not match, not when it is from.
    later = answerer.ask("Is it from 2026?", [Turn.of(first)])
    assert later.refused and "Glacier Dynamics" in later.answer
    assert "(2025-12-01, NeurIPS 2025)" in later.answer, later.answer
