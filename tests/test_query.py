"""The question parser's rules, on a few papers built here: every field a paper carries and the
operators people use on it, in several wordings (no store, no model: milliseconds)."""

from __future__ import annotations

import datetime
import re

import pytest

from assistant.query import QueryParser
from assistant.records import Filters, Paper


def _paper(n: int, **fields: object) -> Paper:
    return Paper.model_validate(
        {"paper_id": f"p{n}", "title": f"Paper {n}", "abstract": "About things.", **fields}
    )


PAPERS = [
    _paper(1, authors=["Mayte Suárez-Fariñas", "Haoli Bai"], venue="ICLR 2026", date="2025-09-19"),
    _paper(
        2,
        author_count=1,
        sources=["Hugging Face Daily Papers"],
        date="2024-06-12",
        upvotes=7,
        doi="10.1234/x",
    ),
    _paper(3, organization="Harvard University", regions=["Asia > Middle East > Jordan"]),
    _paper(4, categories=["Health & Medicine > Diagnostic Medicine > Imaging"], date="2018"),
    _paper(
        5,
        sources=["Hugging Face Papers"],
        regions=["Europe > Germany > Bavaria", "North America > United States"],
    ),
]
PARSER = QueryParser(PAPERS)


def _ids(filters: Filters) -> set[str]:
    return {p.paper_id for p in PAPERS if filters.accepts(p)}


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # authors: equals, with accents, by surname, several wordings
        ("Which papers did Haoli Bai write?", {"p1"}),
        ("What papers did Haoli Bai co-author?", {"p1"}),
        ("Which paper is by Suárez-Fariñas?", {"p1"}),
        ("Which paper was co-authored by Mayte Suarez-Farinas?", {"p1"}),
        # author counts: exact, at least, "or more" before the noun, people
        ("Which papers have a single author?", {"p2"}),
        ("Which papers were written by 2 people?", {"p1"}),
        ("Which papers were written by a single person?", {"p2"}),
        ("Which papers have two or more authors?", {"p1"}),
        ("Papers with at most 1 author", {"p2"}),
        ("Which papers have between 2 and 4 authors?", {"p1"}),
        ("Which papers have fewer than a dozen authors?", {"p1", "p2"}),  # "dozen" was no count
        # alone: "solo" and "wrote alone" had listed an author's papers with coauthors too
        ("solo papers", {"p2"}),
        ("Which papers did Haoli Bai write alone?", set()),
        ("papers authored solely by Haoli Bai", set()),
        ("Which papers were written by large teams (2+ authors)?", {"p1"}),
        # dates: in a month, on a day, before, after, between
        ("Which papers were posted in June 2024?", {"p2"}),
        ("Which paper was posted on 2024-06-12?", {"p2"}),
        ("Which papers are dated earlier than 2019?", {"p4"}),
        ("Papers later than 2024", {"p1"}),
        ("Papers published between 2024 and 2025", {"p1", "p2"}),
        ("Which papers are dated between May and July 2024?", {"p2"}),
        ("Papers posted from January to March 2024", set()),
        # parts of a year
        ("Which papers were posted in the second half of 2025?", {"p1"}),
        ("Which papers were posted in Q2 2024?", {"p2"}),
        ("Which papers appeared in early 2024?", set()),
        ("Which papers are from mid-2024?", {"p2"}),
        ("Which papers are from the last four months of 2025?", {"p1"}),
        ("Which papers are from the last three months of 2025?", set()),
        ("Which papers were posted in the summer of 2024?", {"p2"}),
        # years not in a row: each of them (a span would take 2019-2024 too)
        ("Which papers are from 2018 or 2025?", {"p1", "p4"}),
        ("Papers posted in 2018, 2020 or 2024", {"p2", "p4"}),
        ("Which papers are from spring 2024?", set()),
        ("Which papers came out in the fall of 2025?", {"p1"}),
        # venue or listing, named in several ways
        ("Which papers appeared at ICLR 2026?", {"p1"}),
        ("List the ICLR 2026 papers.", {"p1"}),
        ("List the ICLR 2026 submissions.", {"p1"}),
        ("Which entries carry the Imaging category?", {"p4"}),
        # the venue's year is no count of listings or authors
        ("Which papers are in the ICLR 2026 listing?", {"p1"}),
        ("Which papers are on the ICLR 2026 list?", {"p1"}),
        ("Who are the ICLR 2026 authors?", {"p1"}),
        ("Which paper on the daily list has the most upvotes?", {"p2"}),
        # category, organization, region
        ("Which papers fall under the Imaging category?", {"p4"}),
        ("What did Harvard University publish?", {"p3"}),
        ("Which papers were written in Jordan?", {"p3"}),
        ("Which papers come from authors in Jordan?", {"p3"}),
        ("Which papers have an author at a university in Jordan?", {"p3"}),
        ("Which papers with authors in Jordan were published by Harvard?", {"p3"}),
        # two places: each of them, or either
        ("Which papers have authors from both Europe and North America?", {"p5"}),
        ("Which papers have authors from both Asia and North America?", set()),
        ("What has Harvard contributed?", {"p3"}),
        ("What has Harvard University produced?", {"p3"}),
        ("Which papers are from Jordan or Germany?", {"p3", "p5"}),
        ("Papers with authors in Jordan and Bavaria", {"p3", "p5"}),
        ("Which papers come from either the Middle East or the United States?", {"p3", "p5"}),
        # upvotes
        ("Which papers have more than 5 upvotes?", {"p2"}),
        ("Which papers have at least 5 but at most 6 upvotes?", set()),
        ("Which papers have more than 5 and fewer than 10 upvotes?", {"p2"}),
        ("Which papers have 5+ upvotes?", {"p2"}),
        # missing fields
        ("Which papers have no authors?", {"p3", "p4", "p5"}),
        ("Which papers are undated?", {"p3", "p5"}),
        ("Which papers lack a date?", {"p3", "p5"}),
        ("Papers whose authors are not listed", {"p3", "p4", "p5"}),
        ("Which papers don't list any region?", {"p1", "p2", "p4"}),
        ("Which papers have no author count?", {"p3", "p4", "p5"}),
        # fields given
        ("Which papers are dated?", {"p1", "p2", "p4"}),
        ("Which papers list their authors?", {"p1", "p2"}),
        ("Papers with categories and a date", {"p4"}),
        ("Which papers have a DOI?", {"p2"}),
        ("Which papers are without a DOI?", {"p1", "p3", "p4", "p5"}),
        ("Which papers have an arXiv id?", set()),
        ("Which papers are undated but list a region?", {"p3", "p5"}),  # "but" is no topic
        # a listing left out by the name people use
        ("Which papers are on a Hugging Face page but not the daily list?", {"p5"}),
        # a conference's papers: the listings that are a known conference's (they had named
        # nothing to search for, or been refused)
        ("Which conference papers are there?", {"p1"}),
        ("peer-reviewed papers", {"p1"}),
        # ... or said before its name: "non-ICLR" had been read as ICLR itself
        ("Which non-ICLR papers are dated?", {"p2", "p4"}),
        ("Which papers are outside the daily list?", {"p1", "p3", "p4", "p5"}),
        ("Which papers are not in the ICLR 2026 listing?", {"p2", "p3", "p4", "p5"}),
    ],
)
def test_metadata_question_lists_what_it_asks_for(question: str, expected: set[str]) -> None:
    query = PARSER.parse(question)
    assert query.listing, query.topic
    assert _ids(query.filters) == expected, query.recognised


@pytest.mark.parametrize(
    "question", ["What did Bai publish?", "Bai's papers", "What did Suárez-Fariñas propose?"]
)
def test_a_surname_alone_is_an_author_when_no_paper_uses_the_word(question: str) -> None:
    query = PARSER.parse(question, usage=lambda word: 0)
    assert query.listing and _ids(query.filters) == {"p1"}, (query.recognised, query.topic)
    # A word the papers use ("Newton" of Newton-Schulz) stays the topic, as it does when
    # nothing says how the papers use words, and a lowercase word is never a name.
    assert not PARSER.parse(question, usage=lambda word: 3).filters.authors
    assert not PARSER.parse(question).filters.authors
    assert not PARSER.parse(question.lower(), usage=lambda word: 0).filters.authors


def test_a_maker_no_paper_lists_nor_uses_as_a_word_is_said_unread() -> None:
    """ "What has DeepMind published?" had been searched as a word and answered from the
    nearest papers; one word the papers use ("What did BERT write?") may be a method's."""
    for question in ("What has DeepMind published?", "What did Jones write?"):
        query = PARSER.parse(question, usage=lambda word: 0)
        [word] = query.unread
        assert "as an author" in query.unread_reasons[word] and not query.subject, question
        assert not PARSER.parse(question, usage=lambda word: 2).unread
    assert PARSER.parse("What did Bai publish?", usage=lambda word: 0).filters.authors


def test_a_surname_before_et_al_is_an_author_even_when_papers_use_the_word() -> None:
    query = PARSER.parse("What did Bai et al. propose for pruning?", usage=lambda word: 3)
    assert _ids(query.filters) == {"p1"} and query.filters.authors == ["Bai"]
    assert "et al" not in query.topic and "pruning" in query.topic


def test_a_name_written_twice_is_one_author() -> None:
    for usage in (None, lambda word: 0):
        query = PARSER.parse(
            "Did Haoli Bai write more papers than Haoli Bai's students?", usage=usage
        )
        assert query.filters.authors == ["Haoli Bai"], query.recognised
    query = PARSER.parse("What did Bai publish, and what did Bai propose?", usage=lambda word: 0)
    assert query.filters.authors == ["Bai"] and query.recognised == ["authors: Bai"]


def test_code_beside_another_field_keeps_both() -> None:
    # Code is read first; the other field had replaced it.
    assert PARSER.parse("papers without code and without authors").filters.missing == [
        "code",
        "authors",
    ]
    assert PARSER.parse("Which papers have a date and have code?").filters.present == [
        "code",
        "date",
    ]


def test_code_made_available_in_any_word_order_is_the_field() -> None:
    # "make their code available" was searched as the topic "code available".
    for question in (
        "Which works make their code available?",
        "papers that made the code publicly available",
        "which papers make code open source",
    ):
        query = PARSER.parse(question)
        assert query.filters.present == ["code"], question
        assert not query.subject, question
    assert PARSER.parse("Which papers make code generation available?").filters.empty


def test_what_the_paper_found_is_about_is_no_topic() -> None:
    # "and what is it about?" had left "it" as the topic, searched among the papers ordered.
    for question in (
        "which paper has the most authors and what is it about?",
        "What is the newest paper, and what does it propose?",
        "Which paper has the most upvotes? and summarize it",
    ):
        query = PARSER.parse(question)
        assert query.sort is not None and not query.subject, question
    assert PARSER.parse("What is SOAP and what is it about?").subject == "SOAP"


def test_the_hot_topics_ask_for_the_themes() -> None:
    # "hot" had been searched as the topic, and the question marked uncertain.
    for question in (
        "What are the hot topics in these papers?",
        "what are the trending topics here?",
        "What are the emerging themes in the collection?",
    ):
        tally = PARSER.parse(question).tally
        assert tally is not None and tally.themes, question
    assert PARSER.parse("What's trending on the daily list?").tally is None


def test_names_joined_by_or_ask_for_either_author() -> None:
    papers = [
        _paper(1, authors=["Haoli Bai"]),
        _paper(2, authors=["Silin Gao", "Ada Lovelace"]),
        _paper(3, authors=["Haoli Bai", "Silin Gao"]),
    ]
    parser = QueryParser(papers)
    for question, expected in (
        ("Which papers are by Haoli Bai or Silin Gao?", {"p1", "p2", "p3"}),
        ("What did either Bai or Lovelace write?", {"p1", "p2", "p3"}),  # by surnames
        ("papers by Haoli Bai and Silin Gao", {"p3"}),  # both had matched, and still do
    ):
        query = parser.parse(question, usage=lambda word: 0)
        assert {p.paper_id for p in papers if query.filters.accepts(p)} == expected, question


def test_a_name_from_a_question_matches_whole_words_and_the_box_matches_any_part() -> None:
    paper = _paper(9, authors=["Xuyang Cao", "Mayte Suárez-Fariñas"])
    assert not Filters(authors=["Yang"]).accepts(paper)
    assert Filters(authors=["Cao"]).accepts(paper)
    assert Filters(authors=["Suarez-Farinas", "xuyang cao"]).accepts(paper)
    assert Filters(author="yang").accepts(paper)  # the UI's "Author contains" box


def test_a_name_typed_without_its_middle_names_or_initials_is_the_author() -> None:
    papers = [
        _paper(1, authors=["Michael S. Albergo", "Xinyue Annie Yang", "S. Alireza Seyyed Mousavi"]),
        _paper(2, authors=["Cathy H. Xia"]),
        _paper(3, authors=["Lu A. Hou"]),
        _paper(4, authors=["Lu B. Hou"]),
        _paper(5, authors=["Michaela Albergo"]),
    ]
    parser = QueryParser(papers)
    for question, name, ids in [
        ("Which papers were written by Michael Albergo?", "Michael S. Albergo", {"p1"}),
        ("Papers by Cathy Xia?", "Cathy H. Xia", {"p2"}),  # not the surname alone
        ("What did Xinyue Yang write?", "Xinyue Annie Yang", {"p1"}),
        ("Which papers did Alireza Mousavi write?", "S. Alireza Seyyed Mousavi", {"p1"}),
        # Two authors are "Lu Hou" without their initials: the name as typed, matching both.
        ("Which papers were written by Lu Hou?", "Lu Hou", {"p3", "p4"}),
    ]:
        query = parser.parse(question, usage=lambda word: 0)
        assert query.listing and query.filters.authors == [name], query.recognised
        assert {p.paper_id for p in query.filters.passing(papers)} == ids, question
    # Two names share "Michael ... Albergo": the name as typed, which leaves out initials
    # only (a middle name, or another first name, is someone else's).
    papers.append(_paper(6, authors=["Michael Sam Albergo"]))
    query = QueryParser(papers).parse("Which papers were written by Michael Albergo?")
    assert query.filters.authors == ["Michael Albergo"]
    assert {p.paper_id for p in query.filters.passing(papers)} == {"p1"}


@pytest.mark.parametrize(
    ("question", "authors"),
    [
        ("Which ICLR 2026 paper was co-written by Haoli Bai?", ["Haoli Bai"]),
        (
            "Which papers did Haoli Bai and Mayte Suarez-Farinas write together?",
            ["Haoli Bai", "Mayte Suárez-Fariñas"],
        ),
    ],
)
def test_more_wordings_of_authorship_leave_no_topic(question: str, authors: list[str]) -> None:
    query = PARSER.parse(question)
    assert query.listing and query.filters.authors == authors and not query.subject


@pytest.mark.parametrize(
    ("question", "key", "descending"),
    [
        ("Which Hugging Face daily paper has the most upvotes?", "upvotes", True),
        ("Which of the daily papers has the fewest authors?", "author_count", False),
        # which came first or last, as a follow-up asks it of the last answer's papers
        ("Which one came first?", "date", False),
        ("Which of them was published first?", "date", False),
        ("Which came out later, SOAP or MARS?", "date", True),
        ("which of them came out most recently?", "date", True),  # no order read before
        # or by a comparative
        ("Which of them is newer?", "date", True),
        ("Which of the two is more recent?", "date", True),
        ("Which one was published most recently?", "date", True),
        ("Which of these is older?", "date", False),
        ("Which one has more authors?", "author_count", True),
        ("Which of the two got fewer upvotes?", "upvotes", False),
        ("Which of them is more popular?", "upvotes", True),
        # A question that is a noun phrase of one paper.
        ("most liked daily paper", "upvotes", True),
        ("newest RL paper?", "date", True),
        ("oldest paper in the collection", "date", False),
        ("Who is on the biggest team?", "author_count", True),
    ],
)
def test_one_paper_asked_for_by_an_order_is_the_first_and_those_tied(
    question: str, key: str, descending: bool
) -> None:
    sort = PARSER.parse(question).sort
    assert sort is not None and (sort.key, sort.descending, sort.first) == (key, descending, True)


def test_one_paper_asked_for_by_its_place_in_an_order() -> None:
    for question, key, descending, place in (
        ("what is the second newest paper?", "date", True, 2),
        ("the 3rd most upvoted paper", "upvotes", True, 3),
        ("which is the second-oldest ICLR 2026 paper?", "date", False, 2),
        ("What is the fifth newest paper?", "date", True, 5),  # it had raised KeyError
    ):
        sort = PARSER.parse(question).sort
        assert sort is not None and (sort.key, sort.descending, sort.place) == (
            key,
            descending,
            place,
        ), question
        assert "second" not in PARSER.parse(question).topic
    assert PARSER.parse("the three newest papers").sort.place is None  # type: ignore[union-attr]


def test_an_arxiv_id_asked_of_a_paper_names_no_listing_and_a_ranking_spans_a_venue() -> None:
    # "arXiv" had been read as the arXiv listing, which SOAP is not on.
    for question in ("What's the arXiv id of SOAP?", "arxiv link for MARS"):
        query = PARSER.parse(question)
        assert query.filters.empty and "arxiv" not in query.topic.lower(), question
    # The venue's words between had left the order unread.
    ranked = PARSER.parse("rank the ICLR 2026 papers by number of authors")
    assert ranked.sort is not None and ranked.sort.key == "author_count"
    assert ranked.filters.venue == "ICLR 2026"


def test_the_title_of_a_paper_an_order_names_is_no_topic() -> None:
    # "title" had been searched as a topic, and papers saying "title" sorted.
    for question in (
        "What is the title of the newest paper?",
        "Give me the title of the oldest paper",
    ):
        query = PARSER.parse(question)
        assert query.listing and query.sort is not None and query.sort.first, question


@pytest.mark.parametrize(
    "question",
    [
        "Which papers are older than 2020?",
        "Which is newer than X?",
        "Which has more authors than SOAP?",
        "Which papers have four or more authors?",
    ],
)
def test_a_comparative_with_than_is_no_order(question: str) -> None:
    assert PARSER.parse(question).sort is None


def test_membership_across_listings() -> None:
    papers = [
        _paper(1, sources=["Hugging Face Daily Papers", "Hugging Face Papers"]),
        _paper(2, sources=["Hugging Face Papers"]),
        _paper(3, sources=["Hugging Face Daily Papers"], venue="ICLR 2026"),
    ]
    parser = QueryParser(papers)

    def ids(question: str) -> set[str]:
        query = parser.parse(question)
        assert query.listing, (question, query.topic)
        return {p.paper_id for p in papers if query.filters.accepts(p)}

    assert ids("Which papers are listed both on the daily list and on Hugging Face Papers?") == {
        "p1"
    }
    assert ids("Which papers were both at ICLR 2026 and on the Hugging Face daily list?") == {"p3"}
    assert ids("Which papers appear in more than one listing?") == {"p1", "p3"}
    assert ids("Papers found in several listings") == {"p1", "p3"}
    assert ids("Which papers were on both Hugging Face lists?") == {"p1"}
    assert ids("Which papers are in both listings?") == {"p1", "p3"}
    assert ids("Papers on exactly one list") == {"p2"}
    # ... and a listing said to be the only one: on no other.
    assert ids("Which papers are only on Hugging Face Papers?") == {"p2"}
    assert ids("Papers that appear exclusively on Hugging Face Papers") == {"p2"}
    # Without "both", two venues joined by "and" or "or" take the papers of either.
    assert ids("Which papers are from ICLR 2026 or Hugging Face Papers?") == {"p1", "p2", "p3"}
    assert ids("Papers from ICLR 2026 and the Hugging Face daily list") == {"p1", "p3"}
    assert ids("Which papers are in either ICLR 2026 or Hugging Face Papers?") == {
        "p1",
        "p2",
        "p3",
    }
    # A name written out in full leaves none of its words to the topic.
    query = QueryParser([_paper(4, sources=["arXiv.org Machine Learning"])]).parse(
        "Which papers are from arXiv.org Machine Learning?"
    )
    assert query.listing and query.filters.venue == "arXiv.org Machine Learning", query.topic
    # The name written out in full is that listing, not every one it begins like.
    assert ids("Which papers are on Hugging Face Papers?") == {"p1", "p2"}


def test_a_topic_beside_the_constraints_is_kept() -> None:
    query = PARSER.parse("Which ICLR 2026 papers are about reinforcement learning?")
    assert query.filters.venue == "ICLR 2026" and not query.listing
    assert "reinforcement learning" in query.topic


def test_a_constraint_no_field_holds_is_reported_not_dropped() -> None:
    query = PARSER.parse("Which papers have more than 100 citations?")
    assert query.filters.empty and query.unread == ["more than 100 citations"]
    assert PARSER.parse("the most cited paper on diffusion").unread == ["most cited"]
    assert PARSER.parse("Which papers have more than 5 upvotes?").unread == []
    # A year before those read as dates is said so, not taken for nothing asked.
    old = PARSER.parse("Which papers are from 1850?")
    assert old.unread == ["from 1850"] and old.filters.empty
    assert old.unread_reasons["from 1850"] == "years before 1900 are not read as dates"
    assert PARSER.parse("Which models were trained in 1500 steps?").unread == []


def test_a_yes_or_no_question_of_one_papers_listing_or_date_is_no_filter() -> None:
    for question, topic in (
        ("Is MARS from ICLR 2026?", "Is MARS"),
        ("Was SOAP published in 2024?", "Was SOAP published"),
        ("Is the rotation trick paper an ICLR 2026 paper?", "Is the rotation trick paper"),
    ):
        query = PARSER.parse(question)
        assert query.filters.empty and query.topic == topic and not query.constraints, question
    # Neither a listing nor a date: the question as it stands.
    assert PARSER.parse("Is MARS an optimizer?").topic == "Is MARS an optimizer?"
    # Any paper: a filter.
    assert not PARSER.parse("Is there a paper from 2024?").filters.empty


def test_an_order_or_count_no_field_holds_is_taken_out_of_the_topic() -> None:
    # Searched with "most cited", "the most cited papers on optimizers" had been uncertain.
    for question, phrase, searched in (
        ("the most cited papers on optimizers", "most cited", "papers on optimizers"),
        ("papers on RL with the most citations", "most citations", "papers on RL"),
        (
            "papers with more than 100 citations on diffusion",
            "more than 100 citations",
            "papers on diffusion",
        ),
        ("diffusion papers sorted by GitHub stars", "sorted by GitHub stars", "diffusion papers"),
    ):
        query = PARSER.parse(question)
        assert query.unread == [phrase] and query.topic == searched, question
        assert "ordered by date, upvotes or number of authors" in query.unread_reasons[phrase]
    # With nothing else to search, the question is searched as asked: never refused for it.
    alone = PARSER.parse("Which papers have more than 100 citations?")
    assert alone.topic == alone.text and alone.unheld_only == "more than 100 citations"
    assert PARSER.parse("which is the most cited?").unheld_only == "most cited"
    # "citation" in a topic is no order: searched.
    assert "citation" in PARSER.parse("papers on citation recommendation").topic


def test_citations_between_papers_are_said_to_be_unread_and_searched_as_words() -> None:
    for question, phrase in (
        ("Which papers cite SOAP?", "cite"),
        ("papers citing the rotation trick", "citing"),
        ("Which papers are cited by SOAP?", "cited by"),
    ):
        query = PARSER.parse(question)
        assert query.unread == [phrase] and query.filters.empty, question
        assert "reference lists are not in the collection" in query.unread_reasons[phrase]
        assert "SOAP" in query.searched or "rotation trick" in query.searched
    assert PARSER.parse("How do I cite SOAP?").unread == []


def test_an_average_of_authors_or_upvotes_is_read_and_others_said_unread() -> None:
    # "What is the average number of authors?" had been said unread.
    query = PARSER.parse("What is the average number of authors?")
    assert query.average == "authors" and query.listing and query.unread == [] and query.bare
    iclr = PARSER.parse("average number of upvotes of ICLR 2026 papers")
    assert iclr.average == "upvotes" and iclr.filters.venue == "ICLR 2026" and iclr.listing
    per = PARSER.parse("average number of authors per paper on reinforcement learning")
    assert per.average == "authors" and per.subject == "reinforcement learning"
    assert PARSER.parse("How many authors does a paper have on average?").average == "authors"
    year = PARSER.parse("What is the average year?")
    assert year.unread == ["average year"] and year.average is None and year.bare
    assert "of the number of authors or of upvotes only" in year.unread_reasons["average year"]
    assert PARSER.parse("Which method lowers the mean squared error?").unread == []


def test_an_order_by_length_is_said_to_be_unread_and_not_searched() -> None:
    query = PARSER.parse("Which paper has the longest abstract?")
    assert query.unread == ["longest abstract"] and query.bare
    assert "no paper's length is a field" in query.unread_reasons["longest abstract"]
    diffusion = PARSER.parse("Which is the shortest paper about diffusion?")
    assert diffusion.unread == ["shortest paper"] and "shortest" not in diffusion.searched
    # Lengths a paper is about are its topic.
    assert PARSER.parse("Which papers use fewer tokens for reasoning?").unread == []
    assert PARSER.parse("longer context windows for LLMs").unread == []


def test_a_question_in_capitals_is_searched_in_lower_case() -> None:
    assert PARSER.parse("PAPERS ABOUT ROBOTICS").searched == "robotics"
    assert PARSER.parse("What is SOAP?").searched == "What is SOAP?"


@pytest.mark.parametrize(
    ("question", "phrase", "topic"),
    [
        ("Which papers were published at NeurIPS about diffusion?", "NeurIPS", "diffusion"),
        ("NeurIPS papers on diffusion", "NeurIPS", "papers on diffusion"),
        ("Which ICML 2019 papers study optimizers?", "ICML 2019", "optimizers"),
        ("What appeared in the Journal of Robot Learning?", "Journal of Robot Learning", "What"),
        ("What was published in Nature about protein folding?", "Nature", "protein folding"),
    ],
)
def test_a_venue_no_paper_gives_is_said_and_taken_out_of_the_topic(
    question: str, phrase: str, topic: str
) -> None:
    query = PARSER.parse(question)
    assert query.filters.empty and query.unread == [phrase]
    assert "no paper here gives it as its venue" in query.unread_reasons[phrase]
    assert "ICLR 2026" in query.unread_reasons[phrase]  # the venues it could have used
    assert topic in query.topic and phrase not in query.topic


def test_a_venue_the_papers_give_in_another_year_is_not_taken_for_it() -> None:
    """The papers give ICLR 2026: "ICLR 2024" is a venue none of them gives, not ICLR 2026."""
    for question, phrase in (
        ("Which papers appeared at ICLR 2024?", "ICLR 2024"),
        ("Which ICLR '25 papers are about optimizers?", "ICLR '25"),
    ):
        query = PARSER.parse(question)
        assert query.filters.empty and query.unread == [phrase], question
    assert PARSER.parse("Which ICLR 2026 papers are about optimizers?").filters.venue == "ICLR 2026"


def test_a_venue_the_papers_give_or_a_date_is_not_taken_for_an_unknown_venue() -> None:
    assert PARSER.parse("Which papers appeared at ICLR 2026?").filters.venue == "ICLR 2026"
    query = PARSER.parse("Which papers were published in March 2024?")
    assert query.unread == [] and query.filters.since == "2024-03"
    assert PARSER.parse("Which papers were published in May?").unread == []
    # A name that does not look like a venue stays the topic.
    field = PARSER.parse("Which papers were published in Computer Vision?")
    assert field.unread == [] and "Computer Vision" in field.topic
    assert PARSER.parse("Which papers were published in English?").unread == []
    # A venue's name where it does not read as one: a dataset, a word.
    assert PARSER.parse("How well do models do on the KDD Cup data?").unread == []
    assert PARSER.parse("How does an ACL tear heal?").unread == []
    assert PARSER.parse("papers accepted to the Conference on Robot Learning").unread == [
        "Conference on Robot Learning"
    ]


def test_an_organization_no_paper_lists_is_said_so_and_leaves_the_topic() -> None:
    """ "Which papers did Google researchers write?" was searched for "Google researchers" and
    refused with nearest papers at similarity 0.18; now the answer says why it cannot filter."""
    for question, topic in (
        ("Which papers did Google researchers write?", ""),
        ("What have people at Google done on reasoning?", "reasoning"),
        ("Any work by the DeepMind team on RL?", "RL"),
    ):
        query = PARSER.parse(question)
        assert len(query.unread) == 1 and query.unread[0] in ("Google", "DeepMind"), question
        assert "organization" in query.unread_reasons[query.unread[0]]
        assert query.subject == topic, question
    # Not a place, a listing, the asker, or the paper whose authors are asked for.
    for question in (
        "Papers by researchers from France",
        "Which ICLR authors study pruning?",
        "Which authors wrote the most papers?",
        "Who are the authors of SoftStep?",
    ):
        assert not any(
            "organization" in why for why in PARSER.parse(question).unread_reasons.values()
        ), question
    # Said as where papers come from, a name no paper uses as a word: "any papers from MIT?"
    # (a name papers use, "papers from Transformers", stays what is searched).
    for question, used, unread in (
        ("any papers from MIT?", 0, ["MIT"]),
        ("papers from Stanford University on pruning", 0, ["Stanford University"]),
        ("papers from Transformers", 5, []),
        # ... also as what they are or where they were written: both had been searched, and
        # the first answered from a paper whose link is at sites.google.com
        ("Which papers are from Google?", 0, ["Google"]),
        ("Which papers come from Google?", 0, ["Google"]),
        ("What papers were written at Google?", 0, ["Google"]),
        ("papers that came out of DeepMind on RL", 0, ["DeepMind"]),
    ):
        query = PARSER.parse(question, usage=lambda word, n=used: n)
        assert query.unread == unread, question


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("Which papers are from 2025 or later?", "2025", None),
        ("papers from 2024 onwards on agents", "2024", None),
        ("Papers on robots from 2024 on", "2024", None),
        ("Which papers are from 2019 or earlier?", None, "2019"),
        ("papers posted in June 2024 or later", "2024-06", None),
        ("Which papers from 2025 on reinforcement learning?", "2025", "2025"),  # a topic
        # A date that qualifies the papers asked for; a venue's year is no date.
        ("2024 papers on pruning", "2024", "2024"),
        ("show me March 2024 work on steering", "2024-03", "2024-03"),
        ("ICLR 2026 papers on pruning", None, None),
        # ... said of them as a follow-up says it: the year alone had been searched as a word
        ("only 2025 ones", "2025", "2025"),
        ("just the 2024 ones", "2024", "2024"),
        ("2025 only", "2025", "2025"),
        ("what about March 2024?", "2024-03", "2024-03"),
        # ... also as "the year 2025" and "2025's": they had been searched as words
        ("papers from the year 2025", "2025", "2025"),
        ("2025's papers on reasoning", "2025", "2025"),
        # Two years in a row named as either: the second had been dropped.
        ("Which papers are from 2024 or 2025?", "2024", "2025"),
        ("Which year has more papers, 2024 or 2025?", "2024", "2025"),
        # "older than", "newer than", "pre-" and "post-" (the last two had been the year itself)
        ("papers older than 2020", None, "2019"),
        ("pre-2020 papers", None, "2019"),
        ("post-2024 papers on agents", "2025", None),
        ("Which papers are more recent than March 2025?", "2025-04", None),
        ("pre-training papers from 2024", "2024", "2024"),
        # the edges of a year, its halves as H1 and H2, and a year give or take one: searched
        # as words, "around 2024" had been refused and "the end of 2025" read as all of it
        ("papers from the end of 2025", "2025-09", "2025-12"),
        ("papers from the beginning of 2024", "2024-01", "2024-04"),
        ("papers from H1 2025", "2025-01", "2025-06"),
        ("papers from around 2024", "2023", "2025"),
        ("papers from 2020ish on GANs", "2019", "2021"),
    ],
)
def test_a_date_open_at_one_end(question: str, since: str | None, until: str | None) -> None:
    filters = PARSER.parse(question).filters
    assert (filters.since, filters.until) == (since, until)


def test_a_date_relative_to_a_paper_named_by_its_title() -> None:
    # Searched as words, these had found the named paper's neighbours.
    parser = QueryParser(
        [
            _paper(6, title="Hi-Agent: Hierarchical Agents", date="2025-10-16"),
            _paper(7, title="SOAP: Improving Shampoo"),
        ]
    )
    newer = parser.parse("Which papers are newer than Hi-Agent?")
    assert (newer.filters.since, newer.filters.until) == ("2025-10-17", None)
    assert newer.recognised == ["dates: newer than Hi-Agent"]
    before = parser.parse("papers published before the Hi-Agent paper on agents")
    assert before.filters.until == "2025-10-15" and before.topic.split()[-1] == "agents"
    # A paper that gives no date: said so, not read as one.
    undated = parser.parse("papers newer than SOAP")
    assert undated.filters.empty and undated.unread == ["newer than SOAP"]
    assert undated.unread_reasons == {"newer than SOAP": "its paper gives no date"}
    # Words after "after" that name no paper are no date.
    assert parser.parse("What happens after training?").filters.empty


def test_the_subject_leaves_the_frame_of_the_question_out() -> None:
    query = PARSER.parse("What did ICLR 2026 papers say about protein folding?")
    assert query.subject == "protein folding"
    # A letter beyond ASCII is one of its word's: "naïve" had been "na ve".
    assert PARSER.parse("papers on naïve Bayes and Lévy flights").subject == (
        "naïve Bayes Lévy flights"
    )
    assert PARSER.parse("Which papers from 2024 are there?").bare
    # A verb of the frame is no topic: a title naming "optimal transport" names what it asks.
    for question in (
        "Which papers use optimal transport?",
        "Which papers apply optimal transport?",
    ):
        assert PARSER.parse(question).subject == "optimal transport"
    # Nor is a request around it: its words were said to be a topic no paper covers ("None of
    # the 15 papers matching dates: from 2025 seems to be about 'good reads reinforcement ...'").
    for question in (
        "Any good reads from 2025 on reinforcement learning?",
        "Give me an overview of papers about reinforcement learning published in 2024",
        "What should I read first on reinforcement learning from 2025?",
    ):
        assert PARSER.parse(question).subject == "reinforcement learning", question


def test_ordinary_words_stay_the_topic() -> None:
    for question in (
        "How does the rotation trick work?",
        "What happens when a prior is placed on the scale of the last-layer parameters?",
        "Which papers prune LLM layers without retraining?",
    ):
        query = PARSER.parse(question)
        assert query.filters.empty and query.sort is None and not query.listing, question


@pytest.mark.parametrize(
    ("question", "searched"),
    [
        ("Find me papers about layer pruning for LLMs", "layer pruning for LLMs"),
        ("Could you please list research on reward hacking?", "reward hacking?"),
        ("I'm looking for work on diffusion policies", "diffusion policies"),
        ("I need papers on federated learning", "federated learning"),
        # ... and what the papers do with it ("study", "use"), as "Which papers study X?"
        ("Are there any papers that study speculative decoding?", "speculative decoding?"),
        ("Tell me about learning rate schedules", "learning rate schedules"),
        ("Give me an overview of the Muon optimizer", "the Muon optimizer"),
        ("what's known about negative groups in GRPO", "negative groups in GRPO"),
        ("Papers on symbolic regression", "symbolic regression"),
        ("Explain the consciousness prior", "the consciousness prior"),
        ("What's the paper about VICReg?", "VICReg?"),
        ("What are the papers on model merging?", "model merging?"),
        ("is there anything on graph neural networks?", "graph neural networks?"),
        ("Hi! Do you have anything on tilt matching? Thanks", "tilt matching?"),
        ("Hey there, are there papers on KANs?", "KANs?"),
        ("Could you help me find research about edge of stability, please", "edge of stability"),
        ("I was wondering if there are any studies of continual learning", "continual learning"),
        ("Does the collection have anything about TabPFN?", "TabPFN?"),
        ("Is there a paper on tabular data generation?", "tabular data generation?"),
        ("Any recent work on diffusion models?", "diffusion models?"),
        ("What do recent papers say about diffusion?", "diffusion?"),
        ("whats the paper on vlm region reasoning", "vlm region reasoning"),
        # Requests made of words that frame a topic, in any order, up to "about" or "on".
        ("What can you tell me about prior-data fitted networks?", "prior-data fitted networks?"),
        (
            "Which paper should I read to understand the edge of stability?",
            "the edge of stability?",
        ),
        ("Where should I start if I want to learn about task arithmetic?", "task arithmetic?"),
        ("What have people done on activation steering?", "activation steering?"),
        ("Any good reads on heterogeneous treatment effects?", "heterogeneous treatment effects?"),
        ("Looking for papers that use successor features", "successor features"),
        ("I want to understand vector quantization, where do I start?", "vector quantization?"),
        # ... and a topic worked on, then a request with none: "I'm", "working" and "read"
        # had been searched beside it, and the question marked uncertain.
        (
            "I'm working on dead codes in VQ-VAE training; what should I read?",
            "dead codes in VQ-VAE training?",
        ),
        ("we work on model merging, any recommendations?", "model merging?"),
        ("I'm researching reward hacking. What do you suggest?", "reward hacking?"),
        # ... or said as what the asker's paper is about: the request alone had been searched
        (
            "My paper is about conformal prediction under distribution shift. What should I cite?",
            "conformal prediction under distribution shift?",
        ),
        (
            "Here is my abstract: we compress optimizer states. Which papers in the collection "
            "are related?",
            "Here is my abstract: we compress optimizer states?",
        ),
        # ... or as what the asker does, before a request with no topic of its own: the request
        # alone had been searched ("Which papers should I include?" found a survey on prompts).
        ("I'm writing a survey on model merging. Which papers should I include?", "model merging"),
        (
            "We train VQ-VAEs and half the codebook is dead. Any papers that help?",
            "We train VQ-VAEs and half the codebook is dead",
        ),
        ("Overview of in-context learning research in this collection.", "in-context learning."),
        ("What's the state of the art in image compression?", "image compression?"),
        # ... and progress asked after, whose "recent advances" had held a third of the terms
        ("What are recent advances in RLHF?", "RLHF?"),
        ("What progress has been made on model merging?", "model merging?"),
        # ... and papers asked for by what they do to a topic: "study" had weighed a third
        ("Which papers study grokking?", "grokking?"),
        ("which paper mentions Thompson sampling", "Thompson sampling"),
        ("whats the deal with the rotation trick", "the rotation trick"),
        ("Which papers talk about imitation learning?", "imitation learning?"),
        ("Give me three papers on speculative decoding.", "speculative decoding."),
        ("explain like im five: tabpfn", "tabpfn"),
        ("explain like I am 5 what SOAP does", "what SOAP does"),
        # A word that is not a request's stops it: these are asked as written.
        ("How does learning on graphs work?", "How does learning on graphs work?"),
        (
            "What is On Sequential Bayesian Inference about?",
            "What is On Sequential Bayesian Inference about?",
        ),
        # The order asked for is read out first, the frame around it after.
        ("What is the most recent article about diffusion?", "diffusion?"),
        ("latest work on optimizers", "optimizers"),
        # Questions keep their words: the calibration's and the dev set's are asked this way.
        ("Which papers prune LLM layers?", "Which papers prune LLM layers?"),
        ("How does CoLSTIM work?", "How does CoLSTIM work?"),
        ("Is there a method that learns priors?", "Is there a method that learns priors?"),
        # A request with nothing after it is searched as it is.
        ("Find papers", "Find papers"),
    ],
)
def test_a_request_opening_a_question_is_not_searched(question: str, searched: str) -> None:
    assert PARSER.parse(question).searched == searched


def test_an_order_asked_of_any_kind_of_work() -> None:
    for question, descending in (
        ("latest work on optimizers", True),
        ("the earliest research on Bayesian optimization", False),
        ("What is the most recent article about diffusion?", True),
        # last, or before "one(s)" or "on": "which of them is the newest?"
        ("Which papers about layer pruning are the newest?", True),
        ("Which of those is the most recent one?", True),
        ("And the oldest?", False),
        ("What's the latest on diffusion policies?", True),
    ):
        sort = PARSER.parse(question).sort
        assert sort is not None and sort.key == "date" and sort.descending is descending
    assert PARSER.parse("What's the latest on diffusion policies?").searched == (
        "diffusion policies?"
    )
    assert PARSER.parse("Which papers discuss the newest optimizers?").sort is None


@pytest.mark.parametrize(
    ("question", "descending", "searched"),
    [
        ("Papers on learned image compression, newest first", True, "learned image compression"),
        ("papers on diffusion, most recent first", True, "diffusion"),
        (
            "Papers on symbolic regression, sorted by date (oldest first)",
            False,
            "symbolic regression",
        ),
        ("Papers about time series, ordered by year", True, "time series"),
        ("Sort by date: papers on model merging", True, "model merging"),
        (
            "List the papers about Bayesian optimization in chronological order",
            False,
            "Bayesian optimization",
        ),
        (
            "Papers about Bayesian optimization from oldest to newest",
            False,
            "Bayesian optimization",
        ),
        ("Papers on GANs in reverse chronological order", True, "GANs"),
    ],
)
def test_an_order_stated_as_a_clause_of_its_own(
    question: str, descending: bool, searched: str
) -> None:
    query = PARSER.parse(question)
    assert query.sort is not None and query.sort.key == "date"
    assert query.sort.descending is descending and query.searched == searched
    assert not query.listing  # a topic is left: it ranks, then orders


@pytest.mark.parametrize(
    ("question", "key", "count"),
    [
        ("What are the three newest papers?", "date", 3),
        ("Show me the top 5 most upvoted papers", "upvotes", 5),
        ("the 2 oldest papers on Bayesian optimization", "date", 2),
        ("Which paper has the most authors?", "author_count", None),
        ("Which ICLR 2026 paper has the largest author list?", "author_count", None),
        ("How many upvotes did the most popular daily paper get?", "upvotes", None),
        ("newest 3 papers on LLM reasoning", "date", 3),
        ("Any newer ones?", "date", None),
        ("the newest 2024 papers on pruning", "date", None),  # a year, not 2024 papers
        ("List the five most recent ICLR 2026 papers about language models.", "date", 5),
    ],
)
def test_an_order_keeps_how_many_it_asks_for(question: str, key: str, count: int | None) -> None:
    query = PARSER.parse(question)
    assert query.sort is not None and (query.sort.key, query.sort.count) == (key, count)
    assert "three" not in query.subject and "5" not in query.subject


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Which papers were published last year?", {"p2"}),
        ("What was posted this year?", {"p1"}),
        ("papers from the past two years", {"p1", "p2"}),
        ("Which papers appeared in the last 6 months?", {"p1"}),
        ("What came out over the past year?", {"p1"}),
        # decades had been searched as words, and refused
        ("papers from the last decade", {"p1", "p2", "p4"}),
        ("Which papers are from this decade?", {"p1", "p2"}),
    ],
)
def test_dates_counted_back_from_the_day_asked(question: str, expected: set[str]) -> None:
    query = QueryParser(PAPERS, today=datetime.date(2025, 12, 10)).parse(question)
    assert query.listing and _ids(query.filters) == expected, query.recognised


def test_a_calendar_month_counted_back_crosses_the_year() -> None:
    parser = QueryParser(PAPERS, today=datetime.date(2026, 1, 15))
    last = parser.parse("Which papers were posted last month?").filters
    assert (last.since, last.until) == ("2025-12", "2025-12")
    this = parser.parse("What came out this month?").filters
    assert (this.since, this.until) == ("2026-01", "2026-01")


def test_a_season_said_from_today_is_a_span_of_months() -> None:
    parser = QueryParser(PAPERS, today=datetime.date(2026, 12, 6))
    for question, span in (
        ("Anything published this spring?", ("2026-03", "2026-05")),
        ("papers from last summer", ("2026-06", "2026-08")),
        ("What came out last winter?", ("2025-12", "2026-02")),
    ):
        found = parser.parse(question).filters
        assert (found.since, found.until) == span, question
    # Before, "this spring" was searched as words and refused.
    assert parser.parse("How does a spring-mass model learn?").filters.empty


def test_a_decade_and_a_month_without_its_year_are_dates() -> None:
    parser = QueryParser(PAPERS, today=datetime.date(2026, 12, 6))
    for question, span in (
        # Decades had been searched as words, and refused.
        ("papers from the 2010s", ("2010", "2019")),
        ("Which papers are from the early 2020s?", ("2020", "2023")),
        ("anything before the 2000s?", (None, "1999")),
        # A month alone is the latest one papers are dated in (p2: June 2024), else the
        # latest by the day asked; "papers from May" had named nothing to search for.
        ("Which papers were posted in June?", ("2024-06", "2024-06")),
        ("papers from May", ("2026-05", "2026-05")),
        ("What came out last December?", ("2025-12", "2025-12")),
    ):
        query = parser.parse(question)
        assert (query.filters.since, query.filters.until) == span, question
        assert query.listing, question
    assert (
        "dates: posted in June (2024)"
        in parser.parse("Which papers were posted in June?").recognised
    )
    # "may" the verb is no month.
    assert parser.parse("Which methods may help with pruning?").filters.empty


def test_a_team_and_votes_said_in_other_words_are_orders() -> None:
    for question, key, descending in (
        ("Which paper has the biggest team?", "author_count", True),
        ("the paper with the most collaborators", "author_count", True),
        ("Which paper has the smallest team?", "author_count", False),
        ("Which are the top-voted daily papers?", "upvotes", True),
        ("What is trending on the daily list?", "upvotes", True),
        ("Anything recent on RLHF?", "date", True),
        ("whats new in reinforcement learning", "date", True),  # searched unordered before
        ("What's new with diffusion models?", "date", True),
    ):
        sort = PARSER.parse(question).sort
        assert sort is not None and (sort.key, sort.descending) == (key, descending), question
    assert PARSER.parse("show me stuff from last month").bare


def test_what_is_new_in_one_paper_asks_what_it_brings() -> None:
    # "Newest first was asked": what a paper brings had been read as an order of papers.
    parser = QueryParser([_paper(6, title="SOAP: Improving Shampoo"), *PAPERS])
    for question in (
        "what's new about SOAP?",
        "What is new in SOAP compared to prior work?",
        "whats new in the rotation trick paper",
        "what is novel about it?",
    ):
        assert parser.parse(question).sort is None, question
    sort = parser.parse("what's new in optimizers?").sort  # a topic: the newest papers on it
    assert sort is not None and sort.key == "date" and sort.descending


def test_an_order_asked_by_its_field_is_an_order() -> None:
    for question, key, descending, count in (
        ("sort them by number of authors", "author_count", True, None),
        ("rank them by how many authors they have", "author_count", True, None),
        ("sort by upvotes, fewest first", "upvotes", False, None),
        ("ICLR papers ranked by upvotes (ascending)", "upvotes", False, None),
        # A year before the clause is no count; "top 3" is.
        ("papers from ICLR 2026 sorted by number of authors", "author_count", True, None),
        ("top 3 papers sorted by upvotes", "upvotes", True, 3),
        # "papers" alone between: they had been left unsorted
        ("rank papers by number of authors", "author_count", True, None),
        ("order papers by date", "date", True, None),
    ):
        query = PARSER.parse(question)
        sort = query.sort
        assert sort is not None, question
        assert (sort.key, sort.descending, sort.count) == (key, descending, count), question
        assert not re.search(r"sort|rank|top|upvotes|authors", query.topic), question
    assert PARSER.parse("papers sorted by authorship").sort is None


def test_the_last_layer_is_no_date() -> None:
    assert PARSER.parse("How does the last layer affect calibration?").filters.empty


def test_new_and_first_in_a_topic_are_no_order() -> None:
    for question in (
        "How do old methods compare with new first-order optimizers?",
        "What do recent papers say about diffusion?",
        "Which method was proposed first for layer pruning?",
    ):
        assert PARSER.parse(question).sort is None, question


def test_a_request_beside_constraints_leaves_the_topic() -> None:
    query = PARSER.parse("Find me papers from 2024 about protein folding")
    assert query.recognised and query.searched == "protein folding"


@pytest.mark.parametrize(
    ("question", "excluding", "topic"),
    [
        ("Papers on reinforcement learning that are not about LLMs", ["LLMs"], "reinforcement"),
        (
            "Which papers about pruning don't use large language models?",
            ["large language models"],
            "pruning",
        ),
        ("Which papers are not on arXiv?", ["arXiv"], ""),
        ("Optimizers, excluding Shampoo, in 2024", ["Shampoo"], "Optimizers"),
        # "without" says how a method works, not what to leave out.
        ("How is a face added to an image model without fine-tuning?", [], "without fine-tuning"),
        ("Is it not obvious that Adam works?", [], "not obvious"),
        # Said of a method, it describes the paper asked for, which may say "without labels".
        ("Which method does not use labels?", [], "does not use labels"),
        ("Which optimizer is not about momentum?", [], "not about momentum"),
        # "non-" and "outside" leave out a listing alone: a topic stays a topic
        ("non-convex optimization papers", [], "non-convex"),
        ("papers on generalization outside the training data", [], "outside the training"),
    ],
)
def test_what_a_question_leaves_out_is_a_filter(
    question: str, excluding: list[str], topic: str
) -> None:
    query = PARSER.parse(question)
    assert query.filters.excluding == excluding, query.recognised
    assert topic in query.topic
    assert query.filters.venue is None  # "not on arXiv" asks for no venue


def test_a_paper_that_mentions_what_is_left_out_does_not_pass() -> None:
    pruning = _paper(7, title="Layer pruning for LLMs", abstract="We prune layers.")
    spelt = _paper(8, abstract="We prune large language models.", sources=["arXiv.org"])
    plain = _paper(9, abstract="We prune convolutional networks.", categories=["Vision"])
    for excluding, passing in [
        (["LLM"], {"p8", "p9"}),
        (["llms", "large language model"], {"p9"}),
        (["arxiv"], {"p7", "p9"}),  # a listing counts
        (["vision"], {"p7", "p8"}),  # and a category
    ]:
        accepted = {
            p.paper_id for p in (pruning, spelt, plain) if Filters(excluding=excluding).accepts(p)
        }
        assert accepted == passing, excluding


def test_a_date_to_leave_out_is_said_to_be_unread_not_taken_as_asked() -> None:
    query = PARSER.parse("Which papers are not from 2024?")
    assert query.filters.since is None and query.filters.until is None
    assert query.unread_reasons == {"are not from 2024": "no filter leaves out a date"}


def test_a_venue_no_paper_gives_beside_one_they_give_is_said() -> None:
    for question in (
        "Which papers appeared at both ICLR 2026 and NeurIPS?",
        "Papers from ICLR 2026 or NeurIPS on pruning",
    ):
        query = PARSER.parse(question)
        assert query.filters.venue == "ICLR 2026" and query.unread == ["NeurIPS"], question
        assert "NeurIPS" not in query.topic and "both" not in query.subject, question


@pytest.mark.parametrize(
    ("question", "author"),
    [
        ("anything by Yann LeCun", "Yann LeCun"),
        ("publications by Haoli Bai", "Haoli Bai"),
        ("What did Jeremy Bernstein write?", "Jeremy Bernstein"),
        ("Which papers has Jeremy Bernstein co-authored?", "Jeremy Bernstein"),
        ("Which paper has Yann LeCun as a co-author?", "Yann LeCun"),
        ("Which papers list Jeremy Bernstein among the authors?", "Jeremy Bernstein"),
        # ... and asked the way people chat, where "Kaiming He" had been searched as words
        ("any by Kaiming He?", "Kaiming He"),
        ("papers about diffusion models (by Kaiming He)", "Kaiming He"),
        ("stuff by Yann LeCun", "Yann LeCun"),
        ("What else has Sham Kakade written?", "Sham Kakade"),
    ],
)
def test_an_author_asked_about_in_conversational_words(question: str, author: str) -> None:
    """Named whether or not a paper lists them: none does, and the answer says so."""
    query = PARSER.parse(question)
    assert query.filters.authors == [author] and author not in query.topic


def test_an_organization_or_a_method_is_no_author() -> None:
    query = PARSER.parse("What did Harvard University publish?")
    assert query.filters.authors == [] and query.filters.organization
    assert PARSER.parse("What did Adam Optimizer do?").filters.authors == []


def test_a_name_the_collection_lists_typed_in_lower_case_is_an_author() -> None:
    assert PARSER.parse("papers by haoli bai").filters.authors == ["Haoli Bai"]
    assert PARSER.parse("work by bai on pruning").filters.authors == ["Bai"]
    assert PARSER.parse("methods inspired by nature").filters.authors == []


def test_what_is_said_of_an_author_beside_the_name_is_no_topic() -> None:
    # Searched, "last author" and "et al." had left the author's papers uncertain.
    role = PARSER.parse("papers where Haoli Bai is the last author")
    assert role.filters.authors == ["Haoli Bai"] and role.unread == ["last author"]
    assert "author" not in role.topic and "led the work" in role.unread_reasons["last author"]
    for question in ("papers by Bai et al.", "anything from Bai et al.?"):
        query = PARSER.parse(question, usage=lambda word: 0)
        assert query.filters.authors == ["Bai"] and "et al" not in query.topic, question
        assert query.unread == [], question  # "from Bai": no organization either
    # Coauthors asked for: the author's papers listed, "else" and "collaborated" no topic.
    for question in ("who else worked with Haoli Bai?", "Who has Haoli Bai collaborated with?"):
        assert PARSER.parse(question).listing, question


def test_a_category_no_paper_carries_is_said_and_stays_the_topic() -> None:
    for question in (
        "Which ICLR 2026 papers are in the Robotics category?",
        "Which papers are tagged Robotics?",
    ):
        query = PARSER.parse(question)
        assert query.unread == ["Robotics"] and "Robotics" in query.topic, question
        # The words around it are not searched: "category" had found "new categories".
        assert not re.search(r"categor|tagged|\bin the\b", query.topic), question
        assert "carries it as a category" in query.unread_reasons["Robotics"]
        assert "Imaging" in query.unread_reasons["Robotics"]
    assert PARSER.parse("Which papers are tagged Imaging?").unread == []
    # One of the two words a label joins is that label ("Health" of "Health & Medicine"): it
    # had been said to be no category.
    health = PARSER.parse("Which papers are in the Health category?")
    assert health.filters.category == "Health & Medicine" and health.unread == []


def test_a_place_no_paper_gives_is_said_and_stays_the_topic() -> None:
    for question, place in (
        ("Which papers are from France?", "France"),
        ("Which papers on pruning come from authors in the Netherlands?", "Netherlands"),
        ("Which papers use data from South Korea?", "South Korea"),
    ):
        query = PARSER.parse(question)
        assert query.unread == [place] and place in query.topic, question
        assert "lists authors there" in query.unread_reasons[place]
        assert "Jordan" in query.unread_reasons[place]  # the places papers give
    for known in ("Which papers are from Jordan?", "Papers from the Middle East"):
        assert PARSER.parse(known).unread == [] and PARSER.parse(known).listing
    assert PARSER.parse("How do transformers generalize in practice?").unread == []
    # Beside one the papers give, the other filters ("from Africa or Jordan").
    query = PARSER.parse("Which papers are from Africa or Jordan?")
    assert query.filters.region == "Jordan" and query.unread == ["Africa"]
    assert _ids(query.filters) == {"p3"} and query.listing
    assert query.recognised == ["region: Jordan"]  # what filters, not "from africa or jordan"


def test_a_venue_named_by_its_initials_and_a_category_by_its_tag() -> None:
    arxiv = _paper(6, sources=["arXiv.org Machine Learning"], authors=["Niao He", "Liang Zhang"])
    parser = QueryParser([*PAPERS, arxiv])
    query = parser.parse("Which arXiv ML papers list Niao He as an author?")
    assert query.listing and query.filters.venue == "arXiv.org Machine Learning", query.topic
    daily = parser.parse("Which HF daily papers are from 2024?")
    assert daily.listing and daily.filters.venue == "Hugging Face Daily Papers", daily.topic
    # Not beside the rest of the name: initials that are a topic stay one.
    assert parser.parse("Which arXiv papers use ML?").subject == "ML"
    assert parser.parse("Which Hugging Face daily papers discuss DP?").subject == "DP"
    tagged = PARSER.parse("Which papers carry the Imaging tag?")
    assert tagged.listing and _ids(tagged.filters) == {"p4"}, tagged.topic


def test_a_category_is_read_in_the_plural_and_a_topic_can_be_one() -> None:
    study = _paper(7, categories=["Research Report > Experimental Study"], venue="ICLR 2026")
    parser = QueryParser([*PAPERS, study])
    query = parser.parse("ICLR papers categorised as experimental studies")
    assert query.filters.category == "Experimental Study" and query.bare, query.topic
    assert query.listing and query.unread == []
    # Said without the word "category": classified, falling under, or what papers are.
    for question in (
        "Which ICLR 2026 papers are experimental studies?",
        "Which papers are classified as experimental studies?",
        "Which papers fall under Experimental Study?",
    ):
        said = parser.parse(question)
        assert said.filters.category == "Experimental Study" and said.listing, question
        assert said.subject == "", question
    # ... but a question about the topic asks for no category.
    for question in ("What is an experimental study?", "Which papers are about imaging?"):
        assert parser.parse(question).filters.category is None, question
    named = parser.category_named
    assert named("imaging") == named("Imaging") == "Imaging"
    assert named("experimental studies") == "Experimental Study"
    # One of the two a label joins, and a topic with a word saying it is one ("-related").
    assert named("Health-related") == named("medicine") == "Health & Medicine"
    assert named("medical imaging") is None and named("health care") is None
    assert named("") is None


@pytest.mark.parametrize(
    ("question", "count", "subject"),
    [
        ("give me 3 papers on bandits", 3, "bandits"),
        ("List five recent papers about diffusion", 5, "diffusion"),
        ("top 5 papers on pruning", 5, "pruning"),
        ("2 papers on conformal prediction?", 2, "conformal prediction"),
        ("Give me one paper about bandits", 1, "bandits"),
        # ... after "the", with words of praise, which are no topic either (they had been
        # searched, and "what are the top 3 papers about RLHF?" left uncertain)
        ("what are the top 3 papers about RLHF?", 3, "RLHF"),
        ("the 3 best papers on bandits", 3, "bandits"),
        ("the 3 most relevant papers on bandits", 3, "bandits"),
        ("the two papers on bandits", None, "bandits"),  # named: no number asked for
        # a count of something else, or papers already named, asks for no number of papers
        ("Tell me about the two papers", None, None),
        ("Which five bodies of work point toward a theory of deep learning?", None, None),
        ("Which papers have 2 authors?", None, None),
        ("show me the three newest papers on RL", None, None),  # an order's own count
    ],
)
def test_a_number_of_papers_asked_for(question: str, count: int | None, subject: str) -> None:
    query = PARSER.parse(question)
    assert query.count == count
    if subject:
        assert query.subject == subject and not query.listing and not query.constraints


def test_what_a_title_opens_with_is_a_filter() -> None:
    papers = [
        _paper(1, title="Towards Safer Agents"),
        _paper(2, title="Agents, Towards Safety"),
        _paper(3, title="Towardsness"),
    ]
    parser = QueryParser(papers)
    for question, said, topic in (
        # It had been searched as words, and refused.
        ("papers whose title starts with Towards", "Towards", "papers"),
        ("Which titles begin with 'towards safer'?", "towards safer", "Which ?"),
        ("papers whose title starts with Towards on agents", "Towards", "papers on agents"),
    ):
        query = parser.parse(question)
        assert query.filters.title_opens == said and query.topic == topic, question
        assert [p.paper_id for p in papers if query.filters.accepts(p)] == ["p1"], question
    assert parser.parse("How do agents start with a plan?").filters.title_opens is None


def test_a_nationality_of_the_authors_is_a_place() -> None:
    for question, region in (
        # "Chinese" had been read as an author, and the question refused.
        ("papers by German authors", "Germany"),
        ("Which papers come from American universities?", "United States"),
        ("papers by Jordanian researchers on agents", "Jordan"),
        # a place by its short name, and a nationality of the papers themselves
        ("papers by authors in the US", "United States"),
        ("German papers", "Germany"),
    ):
        query = PARSER.parse(question)
        assert query.filters.region == region and not query.filters.authors, question
        assert not query.unread, question  # nor an organization no paper lists
    french = PARSER.parse("papers by French authors")
    assert "French" in french.unread and not french.filters.authors
    assert PARSER.parse("Which papers classify Chinese text?").filters.empty


def test_a_field_named_after_its_value_is_no_topic() -> None:
    # "its organization" had been a topic no paper was about: the paper found was doubted.
    for question in (
        "Which paper lists Harvard University as its organization?",
        "Which papers give Harvard as their affiliation?",
    ):
        query = PARSER.parse(question)
        assert query.filters.organization and query.bare, (question, query.subject)


def test_no_upvotes_is_a_count_of_none_or_zero() -> None:
    papers = [_paper(1, upvotes=0), _paper(2, upvotes=3), _paper(3)]
    parser = QueryParser(papers)
    # "daily papers without upvotes" had matched none: every daily paper gives a count.
    for question, expected in (
        ("Which papers have no upvotes?", ["p1", "p3"]),
        ("Which papers have upvotes?", ["p2"]),
    ):
        filters = parser.parse(question).filters
        assert [p.paper_id for p in papers if filters.accepts(p)] == expected, question


def test_a_missing_arxiv_id_names_no_listing() -> None:
    papers = [_paper(1, venue="arXiv.org Machine Learning"), _paper(2, arxiv_id="2401.01234")]
    query = QueryParser(papers).parse("Which papers are without an arXiv id?")
    # It had kept the arXiv listing's papers alone, as if the listing were asked for.
    assert query.filters.venue is None and query.filters.missing == ["arxiv_id"]
    assert [p.paper_id for p in papers if query.filters.accepts(p)] == ["p1"]


def test_conference_papers_where_no_listing_is_a_conference_are_said_unread() -> None:
    query = QueryParser([_paper(1, venue="arXiv.org Machine Learning")]).parse(
        "conference papers on pruning"
    )
    assert query.unread == ["conference papers"] and query.filters.venue is None
    assert "no listing here is a conference's" in query.unread_reasons["conference papers"]
    # "into" frames the question: "What got into ICLR 2026?" had been doubted as not about it.
    assert PARSER.parse("What got into ICLR 2026?").bare


def test_code_beside_another_field_is_read() -> None:
    papers = [
        _paper(1, abstract="Code: https://github.com/a/b", date="2024"),
        _paper(2, abstract="Code is at https://github.com/c/d"),
        _paper(3, date="2024"),
    ]
    parser = QueryParser(papers)
    # "both" before it and "but" after it had left code unread (the first had been refused).
    for question, expected in (
        ("papers with both code and a date", ["p1"]),
        ("papers with code but no date", ["p2"]),
    ):
        filters = parser.parse(question).filters
        assert [p.paper_id for p in papers if filters.accepts(p)] == expected, question
