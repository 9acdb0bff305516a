"""Answers: what we send to an OpenAI-compatible server, and how we handle what comes back."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.answer import Answerer, Delta, Final
from assistant.chunk import split_sentences
from assistant.cli import main
from assistant.config import LLMSettings, Settings
from assistant.conversation import condense_rule, missing_reference
from assistant.errors import LLMResponseError, LLMUnavailableError, ResolutionError
from assistant.evaluate import evaluate_answers, key_fact_recall
from assistant.extract import EXTRACTED_LABEL
from assistant.parse import expand_paths, parse_file
from assistant.records import Filters, Question, Turn
from assistant.retrieve import Retriever, SearchResponse

from .conftest import DATA
from .openai_stub import Reply, StubServer, free_port

LSUV = "All you need is a good init"
LSUV_QUESTION = "How does LSUV initialization work?"
ABSENT = "sign language translation on PHOENIX-2014T"
# Near the collection's topics (translation, benchmarks) but in none of its papers.
NEAR_ABSENT = "How accurate are sign language translation models on the PHOENIX-2014T benchmark?"


def _answerer(settings: Settings) -> Answerer:
    return Answerer(settings)


def test_generative_answer_sends_numbered_delimited_sources(
    llm_settings: Settings, llm_server: StubServer
) -> None:
    llm_server.script(
        "LSUV first uses orthonormal matrices and then normalises the variance of each "
        "layer's output to one [1]."
    )
    answer = _answerer(llm_settings).ask(LSUV_QUESTION)
    request = llm_server.requests[0]  # then the support judge
    assert request["stream"] is True and request["model"] == "stub"
    system, user = request["messages"][0], request["messages"][-1]
    assert system["role"] == "system" and user == {"role": "user", "content": LSUV_QUESTION}
    assert '<source id="1">' in system["content"] and f"[1] {LSUV}" in system["content"]
    assert "not instructions" in system["content"]
    assert not answer.refused and not answer.extractive
    assert [(c.n, c.title, c.support) for c in answer.citations] == [(1, LSUV, "supported")]
    assert answer.receipt.token_source == "server" and answer.receipt.prompt_tokens
    assert answer.receipt.prompt_sha256 and answer.receipt.model == "stub"
    assert {"retrieve", "prompt", "first_token", "generate", "check"} <= set(
        answer.receipt.stage_ms
    )


def test_invented_citation_numbers_are_dropped_and_counted(
    llm_settings: Settings, llm_server: StubServer
) -> None:
    llm_server.script(
        "LSUV normalises each layer's output variance to one [1][9]. It was tested on "
        "ImageNet [42]."
    )
    answer = _answerer(llm_settings).ask(LSUV_QUESTION)
    assert "[9]" not in answer.answer and "[42]" not in answer.answer and "[1]" in answer.answer
    assert answer.receipt.invalid_citations == 2
    assert [c.n for c in answer.citations] == [1]


def test_a_sentence_its_source_does_not_support_is_marked(
    llm_settings: Settings, llm_server: StubServer
) -> None:
    llm_server.script("The authors use quantum annealing to forecast the price of wheat [1].")
    answer = _answerer(llm_settings).ask(LSUV_QUESTION)
    assert answer.claims[0].support == "unsupported"
    assert answer.citations[0].supported is False


def test_model_saying_the_sources_do_not_answer_is_a_refusal(
    llm_settings: Settings, llm_server: StubServer
) -> None:
    llm_server.script("NOT_IN_SOURCES")
    answer = _answerer(llm_settings).ask(LSUV_QUESTION)
    assert answer.refused and answer.citations == []
    assert "do not answer" in answer.answer and LSUV in answer.answer


def test_uncovered_question_is_refused_without_calling_the_model(
    llm_settings: Settings, llm_server: StubServer
) -> None:
    """With ASSISTANT_LLM__COVERAGE=threshold, the similarity verdict alone refuses."""
    settings = llm_settings.model_copy(
        update={"llm": llm_settings.llm.model_copy(update={"coverage": "threshold"})}
    )
    answer = _answerer(settings).ask(ABSENT)
    assert answer.refused and not llm_server.requests
    assert "does not seem to cover" in answer.answer and answer.coverage.nearest
    assert answer.coverage.relevance is not None and answer.coverage.threshold is not None
    assert answer.coverage.decided_by == "threshold"


def test_a_refusal_names_a_paper_found_by_its_words_without_a_similarity(
    sample_settings: Settings,
) -> None:
    # "A Tutorial on Bayesian Optimization" shares words with the question but is not among
    # the nearest by meaning; it was listed with "similarity 0.00", as if it were unrelated.
    answer = _answerer(sample_settings).ask(
        "Which network stands in for the software of a classic shooter?"
    )
    assert answer.refused
    assert '"A Tutorial on Bayesian Optimization" (found by its words)' in answer.answer
    assert "similarity 0.00" not in answer.answer


def test_question_between_covered_and_absent_is_answered_with_a_caveat(
    sample_settings: Settings,
) -> None:
    """Uncertain: answered from the closest papers, with a caveat that names them, in the
    Answer record and in the CLI; the eval report gives the verdict per question."""
    answerer = Answerer(sample_settings)
    answer = answerer.ask(NEAR_ABSENT)
    assert not answer.refused and answer.coverage.covered
    assert answer.coverage.verdict == "uncertain" and answer.coverage.caveat
    # The name no paper mentions is why, whatever the scores say, and comes first.
    assert answer.coverage.caveat.startswith(
        "No paper in the collection mentions 'PHOENIX-2014T'. "
        "The collection may not cover this question"
    )
    assert answer.coverage.nearest[0]["title"] in answer.coverage.caveat
    cli = CliRunner().invoke(main, ["--store", str(sample_settings.store.path), "ask", NEAR_ABSENT])
    assert cli.exit_code == 0
    assert "UNCERTAIN: No paper in the collection mentions 'PHOENIX-2014T'." in cli.output
    refused = answerer.ask(ABSENT)
    assert refused.refused and refused.coverage.verdict == "not_covered"
    assert refused.coverage.caveat is None
    # A doubt no score raises comes first in the caveat.
    doubt = answerer.ask("How was ControlNet trained?").coverage
    assert doubt.verdict == "uncertain" and doubt.caveat is not None
    assert doubt.caveat.startswith(
        "Papers in the collection use ControlNet, but none of them introduces it. "
        "The collection may not cover this question"
    )
    # Asked which paper proposed it, a name one paper only compares with is no better covered
    # (it was answered as covered from CLOVER's "outperforms LoRA by 5.4%").
    origin = answerer.ask("Which paper proposes LoRA, low-rank adapters for fine-tuning LLMs?")
    assert origin.coverage.verdict == "uncertain" and origin.coverage.caveat is not None
    assert origin.coverage.caveat.startswith("Papers in the collection use LoRA, but none")
    # Refused, the answer says why as well (the one paper using FLEURS was its answer).
    origin = answerer.ask("Which work first introduced the FLEURS benchmark?")
    assert origin.refused and origin.coverage.verdict == "not_covered"
    assert origin.answer.startswith(
        "The collection does not seem to cover this question. Papers in the collection use "
        "FLEURS, but none of them introduces it. The nearest papers are"
    )


def test_with_a_model_the_model_reads_the_constraints_and_the_rules_are_the_fallback(
    llm_settings: Settings, llm_server: StubServer
) -> None:
    """A phrasing the rules cannot read ("vote up more than once") is read by the model into
    the same Filters, checked like any input; a reading that does not check out (a date that is
    not one) leaves the question to the rules, and says why."""
    answerer = _answerer(llm_settings)
    question = "Which daily papers did readers vote up more than once?"
    assert answerer.retriever.parser().parse(question).filters.min_upvotes is None
    wanted = {"venue": "Hugging Face Daily Papers", "min_upvotes": 2}
    reading = {"filters": wanted, "sort": None, "topic": "", "unread": []}
    llm_server.script(f"```json\n{json.dumps(reading)}\n```", "These papers are listed [1].")
    answer = answerer.ask(question)
    assert answer.receipt.constraints_by == "model" and answer.receipt.read_error is None
    prompt = llm_server.requests[0]["messages"][0]["content"]
    assert question in prompt and "min_upvotes" in prompt and "ICLR 2026" in prompt
    catalogue = answerer.retriever.lexical().catalogue
    upvotes = [catalogue[row["paper_id"]].upvotes for row in answer.receipt.retrieved]
    assert upvotes and all(u is not None and u >= 2 for u in upvotes)
    assert "min_upvotes: 2 (read by the model)" in answer.receipt.recognised

    llm_server.requests.clear()
    llm_server.script('{"filters": {"since": "last June"}}', "Papers from June [1].")
    fallback = answerer.ask("Which papers were posted in June 2024?")
    assert fallback.receipt.constraints_by == "rules"
    assert fallback.receipt.read_error and "filters.since" in fallback.receipt.read_error
    assert fallback.receipt.recognised == ["dates: in june 2024"]
    # A question naming no field, year or constraint costs no reading call.
    llm_server.requests.clear()
    llm_server.script("LSUV normalises each layer's output variance to one [1].")
    assert answerer.ask(LSUV_QUESTION).receipt.constraints_by == "rules"
    sent = [r["messages"][0]["content"] for r in llm_server.requests]
    assert sent and not any("search constraints" in text for text in sent)


def test_with_a_model_counts_per_value_are_read_by_the_rules_and_given_to_it(
    llm_settings: Settings, llm_server: StubServer
) -> None:
    """A count per value is no filter the model's reading could state: the rules read it (no
    reading call), and the counts over the whole collection come before the sources."""
    answerer = _answerer(llm_settings)
    llm_server.script("Hugging Face Papers holds the most papers [1].")
    answer = answerer.ask("Which listing has the most papers?")
    assert answer.receipt.constraints_by == "rules" and not answer.refused
    sent = [r["messages"][0]["content"] for r in llm_server.requests]
    assert not any("search constraints" in text for text in sent)
    assert (
        "<counts>\nListings or venues with the most papers (of the 318 papers that give one): "
        "Hugging Face Papers (253 papers)." in sent[0]
    )


def test_with_a_model_the_model_decides_coverage_from_the_sources(
    llm_settings: Settings, llm_server: StubServer
) -> None:
    """The threshold's verdict becomes advisory: the model reads the nearest papers. It refuses
    with NOT_IN_SOURCES, or answers from them (which the threshold would have refused)."""
    answerer = _answerer(llm_settings)
    llm_server.script("NOT_IN_SOURCES")
    refused = answerer.ask(ABSENT)
    assert refused.refused and len(llm_server.requests) == 1
    assert '<source id="1">' in llm_server.requests[0]["messages"][0]["content"]
    assert (refused.coverage.covered, refused.coverage.decided_by) == (False, "model")
    assert refused.coverage.threshold_verdict is False and "do not answer" in refused.answer

    sources = answerer.retriever.retrieve(ABSENT).hits
    llm_server.script("The closest paper studies something else [1].", "1: weak")
    answered = answerer.ask(ABSENT)
    assert not answered.refused and answered.coverage.covered
    assert answered.coverage.threshold_verdict is False
    assert [c.title for c in answered.citations] == [sources[0].paper.title]


def test_follow_up_is_condensed_by_the_model_and_history_is_sent(
    llm_settings: Settings, llm_server: StubServer
) -> None:
    answerer = _answerer(llm_settings)
    llm_server.script("LSUV normalises each layer's output variance to one [1].")
    first = answerer.ask(LSUV_QUESTION)
    llm_server.script(
        "How does LSUV initialization compare with orthonormal initialization?",
        "It starts from orthonormal matrices [1].",
    )
    second = answerer.ask("How does it compare with orthonormal init?", [Turn.of(first)])
    condense, reply, judge = llm_server.requests
    assert "<claim>" in judge["messages"][0]["content"]
    assert LSUV_QUESTION in condense["messages"][0]["content"]
    assert second.receipt.rewritten_query.startswith("How does LSUV initialization compare")
    roles = [m["role"] for m in reply["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert reply["messages"][1]["content"] == LSUV_QUESTION


def test_rule_based_condensing_resolves_references() -> None:
    turn = Turn(
        question="Which papers prune LLM layers?",
        answer="...",
        rewritten_query="Which papers prune LLM layers?",
        sources={1: "E3-Pruner", 2: "Other Paper"},
    )
    assert condense_rule("Tell me more about the second one", [turn]) == (
        'Tell me more about "Other Paper"'
    )
    # By its number, as the answer marks it: it had been searched as the words "paper 2".
    for numbered in ("summarize paper 2", "tell me about [2]", "what about #2?"):
        assert '"Other Paper"' in condense_rule(numbered, [turn]), numbered
    assert missing_reference("summarize paper 3", turn) == "paper 3"
    # An ordinal ending the clause, without "one": it had been searched as the word "second".
    for bare in (
        "tell me more about the second",
        "and the second?",
        "what about the second, then?",
    ):
        assert '"Other Paper"' in condense_rule(bare, [turn]), bare
    assert missing_reference("what about the third?", turn) == "the third"
    # Walking down the list, one paper a turn: "the first" is the list's, where it had been
    # the first of the one paper just told about.
    second = Turn(question="tell me about the second one", answer="...", sources={1: "Other Paper"})
    walked = [turn, second]
    assert condense_rule("and the first?", walked) == 'and "E3-Pruner"?'
    assert missing_reference("and the first?", second, listed=turn) is None
    assert "second" in (missing_reference("and the second?", second) or "")
    # Two of them: "the second" is not read alone.
    assert condense_rule("summarize the first and the second", [turn]) == (
        'summarize "E3-Pruner" and "Other Paper"'
    )
    # Not an ordinal naming a paper: "the second" before a noun.
    assert "Other Paper" not in condense_rule("what is the second moment estimate?", [turn])
    # A choice between the papers just cited: asked afresh, it had lost them.
    assert condense_rule("which is better for large batch training?", [turn]) == (
        'which is better for large batch training? (about: "E3-Pruner" and "Other Paper")'
    )
    assert condense_rule("What are its limitations?", [turn]).endswith(
        '(about: "E3-Pruner"; Which papers prune LLM layers?)'
    )
    standalone = "Which papers study diffusion policies for robot manipulation?"
    assert condense_rule(standalone, [turn]) == standalone
    # The same asked of another paper, after a question asked of the one cited: "SOAP" alone
    # had been searched, what was asked lost.
    problem = Turn(
        question="what problem does it solve?",
        answer="...",
        rewritten_query='what problem does it solve? (about: "E3-Pruner"; What is E3-Pruner?)',
        sources={1: "E3-Pruner"},
    )
    assert condense_rule("and SOAP?", [problem]) == "what problem does SOAP solve?"
    assert condense_rule("what about SOAP?", [problem]) == "what problem does SOAP solve?"
    # Papers asked for on a topic of their own, in two words: no longer about E3-Pruner.
    for short in ("Which papers compare optimizers?", "any papers on pruning?"):
        assert condense_rule(short, [turn]) == short
    assert condense_rule("Which papers use it?", [turn]).startswith("Which papers use it? (about:")
    # "what about for X?": the last question, its use swapped, where "for X" alone lost it.
    robots = Turn(question="I'm interested in diffusion models for robotics", answer="...")
    assert condense_rule("What about for image editing?", [robots]) == (
        "I'm interested in diffusion models for image editing"
    )
    # A follow-up of a follow-up: each earlier question once, not nested, no title twice.
    second = Turn(
        question="Who wrote it?",
        answer="...",
        rewritten_query='Who wrote it? (about: "E3-Pruner"; Which papers prune LLM layers?)',
        sources={1: "E3-Pruner"},
    )
    assert condense_rule("And its limitations?", [turn, second]) == (
        'And its limitations? (about: "E3-Pruner"; Who wrote it?; Which papers prune LLM layers?)'
    )


@pytest.mark.parametrize(
    ("reply", "error", "words"),
    [
        (Reply(status=429), LLMUnavailableError, "rate-limiting"),
        (Reply(status=500), LLMUnavailableError, "HTTP 500"),
        (Reply(status=401), LLMUnavailableError, "refused the API key"),
        (Reply(status=404), LLMUnavailableError, "does not know the model"),
        (Reply(delay=4.0), LLMUnavailableError, "did not answer within"),
        (Reply(content="one two three four", cut_after=2), LLMResponseError, "broke off"),
        (Reply(content="one two three four", malformed=True), LLMResponseError, "broke off"),
    ],
)
def test_server_failures_become_errors_that_say_what_to_do(
    llm_settings: Settings,
    llm_server: StubServer,
    reply: Reply,
    error: type[Exception],
    words: str,
) -> None:
    llm_server.script(reply)
    with pytest.raises(error) as caught:
        _answerer(llm_settings).ask(LSUV_QUESTION)
    assert words in str(caught.value) and getattr(caught.value, "hint", "")


def test_dead_server_is_named_with_the_next_step(sample_settings: Settings) -> None:
    port = free_port()  # nobody listens there
    settings = sample_settings.model_copy(
        update={"llm": LLMSettings(base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)}
    )
    with pytest.raises(LLMUnavailableError) as caught:
        _answerer(settings).ask(LSUV_QUESTION)
    assert "Cannot reach" in str(caught.value) and "offline" in caught.value.hint


def test_stream_without_usage_counts_tokens_with_tiktoken(
    llm_settings: Settings, llm_server: StubServer
) -> None:
    llm_server.script(Reply(content="LSUV normalises output variance [1].", usage=False))
    events = list(_answerer(llm_settings).stream(LSUV_QUESTION))
    assert isinstance(events[-1], Final)
    answer = events[-1].answer
    assert "".join(e.text for e in events if isinstance(e, Delta)).startswith("LSUV normalises")
    assert answer.receipt.token_source == "tiktoken" and answer.receipt.completion_tokens


def test_extractive_answer_cites_the_paper_and_its_key_fact(sample_settings: Settings) -> None:
    answer = _answerer(sample_settings).ask(LSUV_QUESTION)
    assert answer.extractive and not answer.refused
    assert answer.answer.startswith(EXTRACTED_LABEL)
    assert answer.citations[0].title == LSUV and answer.citations[0].support == "supported"
    assert "unit-variance" in answer.answer.lower()
    assert all(c.citations for c in answer.claims)
    # "How does it work?": the best paper goes on from its contribution to the method's steps,
    # and states its finding; the others say at most two sentences each.
    assert "First, pre-initialize weights" in answer.answer
    assert "normalizing the variance of the output of each layer" in answer.answer
    assert "the state-of-the-art, or very close to it, is achieved" in answer.answer
    said = [sum(1 for c in answer.claims if c.citations == [n]) for n in range(1, 6)]
    assert said[0] == 5, said
    # The papers retrieved beside it on "initialization" have no sentence about LSUV: not
    # quoted (they were, one sentence each, while their retrieval score alone decided).
    assert [c.title for c in answer.citations] == [LSUV]
    other = _answerer(sample_settings).ask("How does the rotation trick work?")
    assert [c.title for c in other.citations] == [
        "Restructuring Vector Quantization with the Rotation Trick"
    ]


def test_what_the_collection_is_about_names_its_themes(sample_settings: Settings) -> None:
    """What topics are covered? had been refused as naming nothing to search for."""
    answerer = _answerer(sample_settings)
    topics = answerer.ask("What topics are covered?")
    assert topics.coverage.verdict == "covered" and not topics.refused
    assert "The collection holds 318 papers" in topics.answer
    assert "they fall into 8 themes" in topics.answer
    assert "reinforcement learning" in topics.answer and "diffusion models" in topics.answer
    # The sources are one typical paper of each theme.
    assert len({c.title for c in topics.citations}) == 8
    # A follow-up on one of them asks for its papers ("theme" had been searched as a word).
    second = answerer.ask("tell me more about the second theme", [Turn.of(topics)])
    assert second.receipt.rewritten_query == "papers on reinforcement learning, RL, reward"
    assert second.coverage.verdict == "covered"
    # A search's JSON carries them, each with its typical papers, the hits in that order.
    searched = SearchResponse.of(Retriever(sample_settings).retrieve("What topics are covered?"))
    assert searched.grouped == 318 and len(searched.themes) == 8
    assert [t.papers[0] for t in searched.themes] == [h.paper.paper_id for h in searched.hits]
    # Asked otherwise, the same themes; a paper's topics are that paper's.
    about = answerer.ask("What is this collection about?")
    assert about.answer.split("\n\n")[1] == topics.answer.split("\n\n")[1]
    # Of the papers other constraints keep; too few to group are listed.
    iclr = answerer.ask("What topics do the ICLR 2026 papers cover?")
    assert "12 papers match (venue: ICLR 2026)" in iclr.answer
    assert "They are too few to group into themes (20 at least)." in iclr.answer
    assert len(iclr.citations) == 12
    coded = answerer.ask("What topics are covered by the papers with code?").answer
    assert "62 papers match (has code: with code)" in coded and "they fall into" in coded
    on_rl = answerer.ask("What are the main themes of the papers about reinforcement learning?")
    assert "60 papers mention 'reinforcement learning'" in on_rl.answer
    assert "they fall into 4 themes" in on_rl.answer
    daily = answerer.ask("What topics does the daily list cover?").answer
    assert "48 papers match (venue: Hugging Face Daily Papers)" in daily
    assert "they fall into 3 themes" in daily
    soap = answerer.ask("What topics does SOAP cover?")
    assert "themes" not in soap.answer
    assert soap.citations[0].title.startswith("SOAP")


def test_a_plural_question_quotes_every_paper_on_its_topic(sample_settings: Settings) -> None:
    # Four papers build on Shampoo; the fourth sits far from the question's wording (cosine
    # 0.40, below an absent topic's usual best match) yet stands out of the pool like the rest.
    answer = _answerer(sample_settings).ask(
        "Which papers build on the Shampoo optimizer to make it cheaper, more stable or "
        "better understood?"
    )
    cited = {c.title for c in answer.citations}
    assert {
        "4-bit Shampoo for Memory-Efficient Network Training",
        "A New Perspective on Shampoo's Preconditioner",
        "SOAP: Improving and Stabilizing Shampoo using Adam",
        "Understanding and Improving the Shampoo Optimizer via Kullback-Leibler Minimization",
    } <= cited, cited
    assert all(c.support == "supported" for c in answer.citations)


def test_a_plural_questions_paper_that_answers_as_well_is_quoted(sample_settings: Settings) -> None:
    # Fourth found and far from the pool's best, but with the best sentence on the question.
    answer = _answerer(sample_settings).ask(
        "Which papers merge the weights of several fine-tuned models?"
    )
    assert "Editing Models with Task Arithmetic" in {c.title for c in answer.citations}


def test_papers_asked_for_the_way_people_chat_are_all_quoted(sample_settings: Settings) -> None:
    # Not read as asking for papers, the Thompson sampling paper (fourth found) had been left
    # out as a lookup's bystander is.
    answer = _answerer(sample_settings).ask("bandit papers pls")
    assert "Only Pay for What Is Uncertain: Variance-Adaptive Thompson Sampling" in {
        c.title for c in answer.citations
    }


def test_a_comparison_asked_of_the_answer_quotes_both_sides(sample_settings: Settings) -> None:
    # Found second, its best sentence far below FreeDoM's: it had been left out as a
    # lookup's bystander is.
    answerer = _answerer(sample_settings)
    answer = answerer.ask("compare the curse of conditions paper with FreeDoM")
    titles = {c.title.split(":")[0] for c in answer.citations}
    assert {"The Curse of Conditions", "FreeDoM"} <= titles
    # One side a quoted title, or the paper a follow-up's "it" stands for (rewritten as its
    # quoted title): that paper alone had been quoted, as a quoted title asked about is.
    sides = {
        "Online Clustered Codebook",
        "Restructuring Vector Quantization with the Rotation Trick",
    }
    answer = answerer.ask('Compare "Online Clustered Codebook" with the rotation trick')
    assert sides <= {c.title for c in answer.citations}, answer.answer
    first = answerer.ask("what is the rotation trick?")
    answer = answerer.ask(
        "how does it compare with the online clustered codebook paper?", [Turn.of(first)]
    )
    assert sides <= {c.title for c in answer.citations}, answer.receipt.rewritten_query


def test_a_paper_quoted_by_its_whole_title_is_quoted_alone(sample_settings: Settings) -> None:
    # As a follow-up about the first cited paper is rewritten; its title is a phrase of the
    # field, which the other conformal risk control paper also says.
    answerer = _answerer(sample_settings)
    for asked in ('summarize "Conformal Risk Control"', 'What does "conformal risk control" do?'):
        answer = answerer.ask(asked)
        assert [c.title for c in answer.citations] == ["Conformal Risk Control"], asked


def test_papers_named_by_their_titles_are_those_quoted(sample_settings: Settings) -> None:
    answerer = _answerer(sample_settings)
    first = answerer.ask("Which optimizers build on Shampoo?")
    cited = [c.title for c in first.citations]
    assert len(cited) >= 3, first.answer
    # Rewritten with the three titles quoted; the first of them alone was quoted.
    three = answerer.ask("Tell me about the first three", [Turn.of(first)])
    assert [c.title for c in three.citations] == cited[:3], three.receipt.rewritten_query
    # "them" are the papers the answer cited; searched as its topic, others came with them.
    them = answerer.ask("Who wrote them?", [Turn.of(first)])
    assert [c.title for c in them.citations] == cited[:5], them.receipt.rewritten_query


def test_tell_me_more_quotes_the_whole_abstract_of_the_paper(sample_settings: Settings) -> None:
    answerer = _answerer(sample_settings)
    first = answerer.ask("Which optimizers build on Shampoo?")
    assert len(first.citations) > 1
    # "It" is the first paper: the plural of the question it follows made the others speak.
    for asked in ("tell me more", "give me the full abstract"):
        more = answerer.ask(asked, [Turn.of(first)])
        assert [c.title for c in more.citations] == [first.citations[0].title], more.answer
        paper = next(
            p for p in answerer.retriever.lexical().papers if p.title == more.citations[0].title
        )
        sentences, _ = answerer.bank.sentences(paper)
        assert more.answer.count("[1]") == len(sentences) > first.answer.count("[1]")


def test_the_arxiv_link_asked_of_the_last_paper_is_no_listing(sample_settings: Settings) -> None:
    answerer = _answerer(sample_settings)
    first = answerer.ask("What is SOAP?")
    # "arxiv" had been read as the arXiv listing (SOAP is not on it), the question asked
    # afresh, and other papers answered with a caveat that none mentions "arXiv".
    for asked in ("what's the arxiv link?", "arxiv id?"):
        link = answerer.ask(asked, [Turn.of(first)])
        assert not any(r.startswith("venue") for r in link.receipt.recognised), asked
        assert [c.title for c in link.citations] == [first.citations[0].title], asked
        assert link.coverage.verdict == "covered", asked


def test_the_abstract_asked_for_is_quoted_whole(sample_settings: Settings) -> None:
    answerer = _answerer(sample_settings)
    # Three of its sentences had been quoted, chosen as for a question about SimVQ.
    for asked in (
        "What's the abstract of SimVQ?",
        "give me the abstract for SimVQ",
        "simvq abstract",
    ):
        found = answerer.ask(asked)
        assert found.citations and found.citations[0].title.startswith("Addressing Representation")
        paper = next(
            p for p in answerer.retriever.lexical().papers if p.title == found.citations[0].title
        )
        sentences, _ = answerer.bank.sentences(paper)
        assert found.answer.count("[1]") == len(sentences), asked
    # A question about what an abstract says is answered from its sentences, as before.
    said = answerer.ask("What does the abstract of SimVQ say about codebook utilization?")
    assert said.citations


def test_a_paper_the_last_answer_does_not_cite_is_said_so(sample_settings: Settings) -> None:
    answerer = _answerer(sample_settings)
    first = answerer.ask("What is SOAP?")
    assert len(first.citations) == 1
    with pytest.raises(ResolutionError, match='cites 1 paper, so "the second one" names none'):
        answerer.ask("Summarize the second one", [Turn.of(first)])
    # Misspelt, it had been searched as words: papers on second-order optimizers.
    with pytest.raises(ResolutionError, match='cites 1 paper, so "the second one" names none'):
        answerer.ask("Summarise the secnd one", [Turn.of(first)])
    # "both" is the two papers of the last answers, or says it cannot tell which two.
    mars = answerer.ask("and MARS?", [Turn.of(first)])
    both = answerer.ask("summarize both", [Turn.of(first), Turn.of(mars)])
    assert [c.title for c in both.citations] == [first.citations[0].title, mars.citations[0].title]
    three = answerer.ask("Which papers are about conformal prediction?")
    assert len(three.citations) > 2
    with pytest.raises(ResolutionError, match='so "both" does not say which two'):
        answerer.ask("summarize both", [Turn.of(three)])


def test_a_short_question_naming_another_paper_asks_afresh(sample_settings: Settings) -> None:
    answerer = _answerer(sample_settings)
    soap = answerer.ask("What is SOAP?")
    # Read as a follow-up, it was searched with SOAP's title and answered with SOAP.
    other = answerer.ask("What is the rotation trick?", [Turn.of(soap)])
    assert other.receipt.rewritten_query == "What is the rotation trick?"
    assert "Rotation Trick" in other.citations[0].title, other.citations[0].title
    # Words SOAP itself uses keep the question about SOAP, however many they are.
    about = answerer.ask("tell me about the large batch regime", [Turn.of(soap)])
    assert "(about: " in about.receipt.rewritten_query
    assert [c.title for c in about.citations] == [soap.citations[0].title]


def test_a_follow_up_naming_another_paper_asks_it_first(sample_settings: Settings) -> None:
    answerer = _answerer(sample_settings)
    shampoo = answerer.ask("Tell me about Shampoo")
    limits = answerer.ask("what are its limitations?", [Turn.of(shampoo)])
    # Asked of the last answer's paper alone, SOAP had not been quoted at all.
    fix = answerer.ask("how does SOAP fix that?", [Turn.of(shampoo), Turn.of(limits)])
    assert fix.receipt.rewritten_query.startswith('how does SOAP fix that? (about: "SOAP: ')
    assert fix.citations[0].title.startswith("SOAP: ")


def test_bibtex_asked_for_gives_the_cited_papers_entries(sample_settings: Settings) -> None:
    answerer = _answerer(sample_settings)
    asked = answerer.ask("Give me the BibTeX for SOAP")
    # "BibTeX" is no word of any paper: searched, it made the question uncertain.
    assert asked.coverage.verdict == "covered" and len(asked.citations) == 1
    block = asked.answer.split("```bibtex\n", 1)[1]
    assert block.startswith("@misc{") and "title = {SOAP: Improving" in block
    assert block.rstrip().endswith("```") and "abstract = " not in block
    soap = answerer.ask("What is SOAP?")
    again = answerer.ask("How do I cite it?", [Turn.of(soap)])
    assert "title = {SOAP: Improving" in again.answer
    assert "BibTeX" not in soap.answer


def test_a_topic_asked_of_the_papers_named_keeps_those_saying_it(
    sample_settings: Settings,
) -> None:
    answerer = _answerer(sample_settings)
    two = answerer.ask("What's the difference between SOAP and Shampoo?")
    assert len(two.citations) == 2
    # Both had been quoted, whichever says it.
    one = answerer.ask("which of the two mentions Adafactor?", [Turn.of(two)])
    assert [c.title for c in one.citations] == [two.citations[0].title]
    assert "SOAP" in two.citations[0].title
    # None of them says it: said first, and the papers that do are answered from.
    faster = answerer.ask("How do I make LLM inference faster?")
    asked = answerer.ask("Which of those uses speculative decoding?", [Turn.of(faster)])
    assert asked.coverage.caveat is not None
    assert asked.coverage.caveat.startswith("None of the papers the question names (")
    assert "Speculators" in asked.citations[0].title
    assert not {c.title for c in faster.citations} & {c.title for c in asked.citations}


def test_a_count_or_the_other_end_is_asked_of_the_question_behind(
    sample_settings: Settings,
) -> None:
    answerer = _answerer(sample_settings)
    first = answerer.ask("Which papers are about pruning?")
    count = answerer.ask("how many are there?", [Turn.of(first)])
    assert count.receipt.rewritten_query == "How many papers are about pruning?"
    assert re.search(r"\d+ papers? mentions? 'pruning'", count.answer), count.answer
    # After "who wrote it?", "and the least?" flipped "most" in the words searched with it.
    top = answerer.ask("What is the most upvoted paper?")
    who = answerer.ask("Who wrote it?", [Turn.of(top)])
    least = answerer.ask("and the least?", [Turn.of(top), Turn.of(who)])
    assert least.receipt.rewritten_query == "What is the least upvoted paper?"
    # "only the ones from 2024" keeps the topic; it had listed every paper from 2024.
    only = answerer.ask("only the ones from 2024", [Turn.of(first)])
    assert only.receipt.rewritten_query == "Which papers are about pruning? (from 2024)"


def test_a_link_or_code_asked_for_is_given_or_said_missing(sample_settings: Settings) -> None:
    answerer = _answerer(sample_settings)
    first = answerer.ask("What is the rotation trick?")
    code = answerer.ask("is there code?", [Turn.of(first)]).answer
    # The listing gives the paper no page; its abstract names its code. Before, neither was said.
    assert "no link given · its abstract links https://github.com/cfifty/rotation_trick)" in code


def test_a_yes_or_no_question_of_one_papers_listing_shows_it(sample_settings: Settings) -> None:
    answerer = _answerer(sample_settings)
    listing = "MARS: Unleashing the Power of Variance Reduction for Training Large Models** ("
    assert (
        listing + "Hugging Face Papers · no date given)"
        in answerer.ask("Is MARS from ICLR?").answer
    )
    # Asked what MARS is, as the parser reads it, the line shows no listing: it had, since the
    # question's text matched the pattern of a yes-or-no question.
    assert listing not in answerer.ask("Is MARS an optimizer?").answer


def test_greetings_thanks_and_help_search_nothing(sample_settings: Settings) -> None:
    answerer = _answerer(sample_settings)
    first = answerer.ask("What is SOAP?")
    # Thanks had been searched as a follow-up about SOAP, and answered with it again.
    thanks = answerer.ask("ok, thanks a lot!", [Turn.of(first)])
    assert thanks.answer.startswith("You're welcome. Ask about") and not thanks.citations
    helped = answerer.ask("What can you do?")
    assert helped.answer.startswith("I answer from the abstracts") and not helped.citations
    # The assistant itself asked about: the first had been refused, the second answered with a
    # paper on "what you can control".
    for question in ("how do I add my own papers?", "which model are you?"):
        usage = answerer.ask(question)
        assert usage.answer.startswith("Papers are added with `assistant ingest") and not (
            usage.citations
        ), question
    # A greeting gives the next question no topic: "(about: Hi)" had been searched with it.
    hello = answerer.ask("Hi")
    after = answerer.ask("Which papers study RLHF?", [Turn.of(hello)])
    assert after.receipt.rewritten_query == "Which papers study RLHF?"


def test_papers_like_one_with_a_name_need_not_say_it(sample_settings: Settings) -> None:
    answerer = _answerer(sample_settings)
    first = answerer.ask("What is VICReg?")
    like = answerer.ask("Are there other papers on that?", [Turn.of(first)])
    assert like.receipt.rewritten_query.startswith('Papers similar to "VICReg')
    # They were marked uncertain, since none of them mentions "VICReg".
    assert like.coverage.verdict == "covered" and like.citations, like.coverage.caveat


def test_as_many_papers_as_asked_for_are_quoted(sample_settings: Settings) -> None:
    answerer = _answerer(sample_settings)
    for asked in (1, 3, 7):
        answer = answerer.ask(f"Give me {asked} papers on bandits")
        assert len(answer.citations) == asked, answer.answer
        assert answer.receipt.recognised == [f"papers asked for: {asked}"]
    # Past the question's own count, filters stay what the listing note names.
    listed = answerer.ask("find me 2 papers from 2024").answer
    assert re.search(r"\d+ papers match \(dates: from 2024\); the 2 asked for are listed", listed)


def test_an_ordered_answer_says_what_it_could_not_order(sample_settings: Settings) -> None:
    answerer = _answerer(sample_settings)
    undated = answerer.ask("the newest work on the Shampoo optimizer").answer
    assert "Newest first was asked, but none of the papers below gives a date." in undated
    some = answerer.ask("Papers about Bayesian optimization, oldest first").answer
    assert re.search(r"Oldest first; \d+ of the \d+ papers below gives? no date", some), some
    assert "of the papers below" not in answerer.ask("What is the newest paper?").answer


def test_extractive_answer_gives_the_finding_after_the_contribution(
    sample_settings: Settings,
) -> None:
    # The abstract's first sentence already says "we show"; its finding (the numbers) follows.
    answer = _answerer(sample_settings).ask(
        "Does reinforcement learning on one single training example improve LLM math reasoning?"
    )
    assert answer.citations[0].title.startswith("Reinforcement Learning for Reasoning")
    assert "from 36.0% to 73.6%" in answer.answer
    # Of several findings, the one with figures: not "experiments demonstrate the superiority".
    answer = _answerer(sample_settings).ask("How much accuracy does layer pruning of LLMs keep?")
    assert answer.citations[0].title.startswith("E$^3$-Pruner")
    assert "achieves 96\\% accuracy" in answer.answer


def test_an_abstracts_own_brackets_are_not_taken_for_citations(sample_settings: Settings) -> None:
    # The abstract says "Arjovsky et al. [2019]": quoted as such, the checker counted it as a
    # citation of a source that does not exist (and an "[2]" would have cited source 2).
    answer = _answerer(sample_settings).ask(
        "Who first proposed the Invariant Risk Minimization principle, and what penalty "
        "revisits the Gramian matrix?"
    )
    assert answer.citations[0].title == "On Invariance Penalties for Risk Minimization"
    assert "Arjovsky et al. (2019) to address" in answer.answer
    assert answer.receipt.invalid_citations == 0


def test_extracted_sentence_that_points_back_comes_with_what_it_points_to(
    sample_settings: Settings,
) -> None:
    answer = _answerer(sample_settings).ask("What is the rotation trick for vector quantization?")
    assert answer.citations[0].title == "Restructuring Vector Quantization with the Rotation Trick"
    quoted = answer.answer.split("\n")[2]
    assert "This approximation may be undesirable" in quoted
    assert "in a straight-through approximation [1]. This approximation" in quoted


def test_extractive_answers_on_dev_lookups(sample_settings: Settings) -> None:
    from pathlib import Path

    dev = Path(__file__).resolve().parents[2] / "shared/eval/dev_questions.jsonl"
    if not dev.exists():
        pytest.skip("the shared dev questions are not next to the project")
    questions = [
        Question.model_validate_json(line) for line in dev.read_text().splitlines() if line
    ]
    lookups = [q for q in questions if q.type == "lookup"][:12]
    report = evaluate_answers(_answerer(sample_settings), lookups)
    assert report.citation_validity == 1.0
    assert (report.by_type["lookup"].gold_cited or 0) >= 0.9
    # A lookup cites its paper, not every paper retrieved beside it (0.33 when the top
    # three papers always spoke).
    assert (report.by_type["lookup"].cited_gold_share or 0) >= 0.6
    assert report.refused_answerable is not None and report.refused_answerable <= 0.1


def test_answer_evaluation_reports_key_facts_beside_length(sample_settings: Settings) -> None:
    question = Question(
        qid="q1",
        type="lookup",
        question=LSUV_QUESTION,
        gold_titles=[LSUV],
        answer_notes="Orthonormal pre-initialization, then each layer's output variance set to one.",
    )
    report = evaluate_answers(_answerer(sample_settings), [question])
    row, summary = report.questions[0], report.by_type["lookup"]
    assert row.gold_cited and row.words == len(row.answer.split())
    assert summary.words_mean == row.words > 50
    assert summary.key_facts_mean == row.key_facts >= 0.5


def test_sentences_run_past_abbreviations() -> None:
    text = (
        "Calls from the St. Lawrence Estuary overlap, e.g. moans and clicks. "
        "As Smith et al. showed, noise hurts (cf. Fig. 2), i.e. recall drops. We fix it."
    )
    assert split_sentences(text) == [
        "Calls from the St. Lawrence Estuary overlap, e.g. moans and clicks.",
        "As Smith et al. showed, noise hurts (cf. Fig. 2), i.e. recall drops.",
        "We fix it.",
    ]
    # On the sample collection, no sentence an answer could quote stops at an abbreviation.
    cut = re.compile(r"\b(e\.g|i\.e|et al|St|vs|cf|Fig|Eq)\.$")
    abstracts = [p.abstract for f in expand_paths([DATA]) for p in parse_file(f).papers]
    assert len(abstracts) > 300
    assert [s for a in abstracts for s in split_sentences(a) if cut.search(s)] == []


def test_key_fact_recall_counts_note_words_in_the_answer() -> None:
    notes = "LSUV: orthonormal pre-initialization then unit variance per layer"
    # orthonormal, unit, variance of lsuv, orthonormal, pre, initialization, unit, variance, per, layer
    assert key_fact_recall(notes, "It uses orthonormal matrices and unit variance.") == 3 / 8
    assert key_fact_recall(notes, "Something else entirely.") == 0.0


def test_cli_ask_json_and_text(llm_settings: Settings, llm_server: StubServer) -> None:
    env = {"ASSISTANT_LLM__BASE_URL": llm_server.url, "ASSISTANT_LLM__MAX_RETRIES": "0"}
    store = ["--store", str(llm_settings.store.path)]
    llm_server.script("LSUV normalises each layer's output variance to one [1].")
    result = CliRunner().invoke(main, [*store, "ask", LSUV_QUESTION, "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert {"answer", "citations", "refused", "coverage", "receipt"} <= set(body)
    assert body["citations"][0]["title"] == LSUV and body["citations"][0]["supported"]
    llm_server.script("LSUV normalises each layer's output variance to one [1].")
    text = CliRunner().invoke(main, [*store, "ask", LSUV_QUESTION], env=env)
    assert text.exit_code == 0 and f"[1] {LSUV} (supported)" in text.output


def test_a_venue_no_paper_gives_is_said_not_searched_for(sample_settings: Settings) -> None:
    """No paper of the sample gives NeurIPS as its venue: the answer says it could not filter
    by it and searches the rest; asked for alone, the refusal says why, in the CLI too."""
    answerer = Answerer(sample_settings)
    answer = answerer.ask("Which NeurIPS papers are about LSUV initialization?")
    assert not answer.refused and answer.citations[0].title == LSUV
    assert answer.coverage.caveat is not None
    assert answer.coverage.caveat.startswith(
        "I could not use 'NeurIPS' as a filter (no paper here gives it as its venue; "
        "those given are "
    )
    assert "ICLR 2026" in answer.coverage.caveat and "mentions 'NeurIPS'" not in (
        answer.coverage.caveat
    )
    alone = answerer.ask("Which papers appeared at NeurIPS?")
    assert alone.refused and alone.answer.endswith("and it names no topic to search.")
    # Filters given beside the question that match nothing are still said to match nothing.
    # (most papers list no authors, which is said)
    nobody = answerer.ask("LSUV initialization", filters=Filters(authors=["Nobody Known"]))
    assert nobody.refused and "No paper matches its constraints (none recognised)." in (
        nobody.answer
    )
    assert nobody.answer.endswith("ask about the topic alone to search them.")
    cli = CliRunner().invoke(
        main,
        ["--store", str(sample_settings.store.path), "ask", "Which papers appeared at NeurIPS?"],
    )
    assert cli.exit_code == 0 and "NOTE: I could not use 'NeurIPS' as a filter" in cli.output


def test_cli_ask_with_dead_server_exits_1_with_a_message(sample_settings: Settings) -> None:
    port = free_port()  # nobody listens there
    env = {
        "ASSISTANT_LLM__BASE_URL": f"http://127.0.0.1:{port}/v1",
        "ASSISTANT_LLM__MAX_RETRIES": "0",
    }
    result = CliRunner().invoke(
        main, ["--store", str(sample_settings.store.path), "ask", LSUV_QUESTION], env=env
    )
    assert result.exit_code == 1 and "Cannot reach the model server" in result.output
    assert f"[1] {LSUV}" in result.output  # the retrieved papers are still shown


def test_cli_chat_follow_up_offline(sample_settings: Settings, tmp_path: Path) -> None:
    saved = tmp_path / "talk.md"
    result = CliRunner().invoke(
        main,
        ["--store", str(sample_settings.store.path), "chat"],
        input=f"{LSUV_QUESTION}\nWhat does it normalise?\n/save\n/save {saved}\n",
    )
    assert result.exit_code == 0, result.output
    assert result.output.count(EXTRACTED_LABEL) == 2
    assert f'(searched for: What does it normalise? (about: "{LSUV}"; {LSUV_QUESTION}))' in (
        result.output
    )
    assert "name the file" in result.output and "(saved 2 exchange(s)" in result.output
    text = saved.read_text()
    assert text.index(f"## {LSUV_QUESTION}") < text.index("## What does it normalise?")
    assert f"[1] {LSUV}" in text and text.count("Sources:") == 2


def test_empty_question_is_refused_with_a_hint(sample_settings: Settings) -> None:
    result = CliRunner().invoke(main, ["--store", str(sample_settings.store.path), "ask", "  "])
    assert result.exit_code == 1 and "empty" in result.output


def test_model_judges_each_cited_sentence_against_the_abstracts_it_cites(
    llm_settings: Settings, llm_server: StubServer
) -> None:
    """With a model configured, its verdicts replace the offline checker's (kept alongside):
    here it rejects a sentence the offline checker accepts, and accepts one it rejects."""
    llm_server.script(
        "LSUV normalises the variance of each layer's output to one [1]. "
        "It starts from weights that preserve lengths [1].",
        "1: unsupported\n2: supported",
    )
    answer = _answerer(llm_settings).ask(LSUV_QUESTION)
    judge = llm_server.requests[1]["messages"][0]["content"]
    assert "<claim>LSUV normalises the variance of each layer's output to one.</claim>" in judge
    assert f'<abstract title="{LSUV}">' in judge and "orthonormal" in judge
    assert "[1]" not in judge.split("Claim 1:", 1)[1]  # markers are stripped from claims
    first, second = answer.claims
    assert (first.support, first.offline_support) == ("unsupported", "supported")
    assert (second.support, second.offline_support) == ("supported", "unsupported")
    assert answer.citations[0].support == "unsupported"  # the weakest claim citing it
    assert answer.receipt.support_checker == "model" and answer.receipt.judge_error is None
    assert answer.receipt.stage_ms["judge"] >= 0


def test_model_judges_uncited_sentences_against_their_best_source(
    llm_settings: Settings, llm_server: StubServer
) -> None:
    """An uncited sentence the offline checker cannot place goes to the model with its best
    source: cited there when the model finds it supported, left uncited when not."""
    # Closer to LSUV's "orthonormal matrices" than to "Layer rotation", also among the sources.
    paraphrase = "It first gives each layer length-preserving weights."
    general = "Python is a popular programming language created by Guido van Rossum in 1991."
    llm_server.script(
        f"LSUV normalises the variance of each layer's output to one [1]. {paraphrase} {general}",
        "1: supported\n2: supported\n3: unsupported",
    )
    answer = _answerer(llm_settings).ask(LSUV_QUESTION)
    judge = llm_server.requests[1]["messages"][0]["content"]
    assert f'Claim 2:\n<claim>{paraphrase}</claim>\n<abstract title="{LSUV}">' in judge
    _, second, third = answer.claims
    assert (second.support, second.citations, second.added) == ("supported", [1], True)
    assert second.offline_support in ("weak", "unsupported")  # the offline checker missed it
    assert (third.support, third.citations) == ("uncited", [])
    assert answer.receipt.added_citations == 1 and answer.receipt.uncited_sentences == 1
    assert f"{paraphrase[:-1]} [1]." in answer.answer


def test_judge_that_fails_or_says_nothing_leaves_the_offline_verdicts(
    llm_settings: Settings, llm_server: StubServer
) -> None:
    answerer = _answerer(llm_settings)
    text = "LSUV normalises the variance of each layer's output to one [1]."
    llm_server.script(text, Reply(status=401))
    answer = answerer.ask(LSUV_QUESTION)
    assert answer.answer == text and answer.claims[0].support == "supported"
    assert answer.receipt.support_checker == "offline"
    assert answer.receipt.judge_error and "refused the API key" in answer.receipt.judge_error

    llm_server.script(text, "I think the answer is mostly fine.")
    answer = answerer.ask(LSUV_QUESTION)
    assert answer.claims[0].offline_support is None and answer.receipt.support_checker == "offline"
    assert answer.receipt.judge_error == (
        "The model gave no verdict on 1 of 1 claims; those keep the offline checker's verdict"
    )


def test_judge_can_be_switched_off(llm_settings: Settings, llm_server: StubServer) -> None:
    settings = llm_settings.model_copy(
        update={"llm": llm_settings.llm.model_copy(update={"judge": False})}
    )
    llm_server.script("LSUV normalises the variance of each layer's output to one [1].")
    answer = _answerer(settings).ask(LSUV_QUESTION)
    assert len(llm_server.requests) == 1 and answer.receipt.support_checker == "offline"


RADAM = "On the Variance of the Adaptive Learning Rate and Beyond"
WARMUP_QUESTION = "Why does ramping up the step size at the start of training help some optimizers?"
WARMUP_SKETCH = (
    "Rectified Adam: warmup reduces the variance of the adaptive learning rate. The adaptive "
    "learning rate has problematically large variance in the early stage of training; we "
    "rectify it."
)


def test_expansion_by_the_model_is_searched_with_the_question(
    llm_settings: Settings, llm_server: StubServer
) -> None:
    """With ASSISTANT_LLM__EXPAND, the model's sketch of a matching paper is searched too: a
    paper the question alone does not rank first is found; coverage keeps the question's own
    similarity, on which the threshold was calibrated."""
    settings = llm_settings.model_copy(
        update={"llm": llm_settings.llm.model_copy(update={"expand": True, "judge": False})}
    )
    answerer = _answerer(settings)
    alone = answerer.retriever.retrieve(WARMUP_QUESTION)
    assert alone.hits[0].paper.title != RADAM
    llm_server.script(WARMUP_SKETCH, "Warmup tames the adaptive learning rate's variance [1].")
    answer = answerer.ask(WARMUP_QUESTION)
    expand, reply = llm_server.requests
    assert f"Question: {WARMUP_QUESTION}" in expand["messages"][0]["content"]
    assert answer.receipt.expansion == WARMUP_SKETCH and "expand" in answer.receipt.stage_ms
    assert answer.receipt.retrieved[0]["title"] == RADAM
    assert f"[1] {RADAM}" in reply["messages"][0]["content"]
    assert answer.coverage.relevance == alone.relevance

    llm_server.script(Reply(status=500), "Optimizers differ [1].")
    kept = answerer.ask(WARMUP_QUESTION)  # a failed expansion: the question alone is searched
    assert kept.receipt.expansion is None and "HTTP 500" in str(kept.receipt.expand_error)
    assert [h["title"] for h in kept.receipt.retrieved] == [h.paper.title for h in alone.hits]


def test_cli_eval_expand_searches_with_the_models_sketches(
    llm_settings: Settings, llm_server: StubServer, tmp_path: Path
) -> None:
    questions = tmp_path / "q.jsonl"
    row = {"question": WARMUP_QUESTION, "type": "paraphrase", "gold_titles": [RADAM]}
    questions.write_text(json.dumps(row) + "\n")
    store = ["--store", str(llm_settings.store.path)]
    plain = CliRunner().invoke(main, [*store, "eval", str(questions), "--format", "json"])
    assert json.loads(plain.stdout)["by_type"]["all"]["recall_1"] == 0.0
    env = {"ASSISTANT_LLM__BASE_URL": llm_server.url, "ASSISTANT_LLM__MAX_RETRIES": "0"}
    llm_server.script(WARMUP_SKETCH)
    args = [*store, "eval", str(questions), "--expand", "--format", "json"]
    expanded = CliRunner().invoke(main, args, env=env)
    assert expanded.exit_code == 0, expanded.output
    report = json.loads(expanded.stdout)
    assert report["by_type"]["all"]["recall_1"] == 1.0
    assert report["questions"][0]["expansion"] == WARMUP_SKETCH

    offline = CliRunner().invoke(main, args)
    assert offline.exit_code == 1 and "--expand needs a model" in offline.output


def test_every_paper_a_metadata_question_lists_is_in_the_answer(sample_settings: Settings) -> None:
    """A listing by metadata (or a count) shows each paper it lists, however far its sentences
    sit from the question's words: "Which papers have no authors?" listed 5 of its 30."""
    answerer = Answerer(sample_settings)
    for question in ("Which papers have no authors?", "Which listing has the most papers on LLMs?"):
        answer = answerer.ask(question)
        shown = answer.answer.count("\n- **")
        assert shown == len(answer.citations) == 30, (question, shown)


def test_when_asked_after_a_paper_gives_its_date(sample_settings: Settings) -> None:
    """ "when?" after "Tell me about the consciousness prior" had quoted the abstract with
    no date; the line naming the paper now gives it, as "what year?" did."""
    answerer = _answerer(sample_settings)
    first = answerer.ask("Tell me about the consciousness prior")
    for asked in ("when?", "how old is it?"):
        when = answerer.ask(asked, [Turn.of(first)])
        assert "2017-09-25" in when.answer, (asked, when.answer)
