"""The HTTP API over real HTTP (uvicorn), the real store, and the OpenAI-compatible test server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from assistant.api import create_app
from assistant.config import ApiSettings, Settings
from assistant.ingest import ingest
from assistant.openai_compat import ChatRequest
from assistant.parse import parse_bytes
from assistant.retrieve import WORDS_LOADING

from .conftest import make_settings
from .openai_stub import Reply, StubServer, run_in_thread

LSUV = "All you need is a good init"
LSUV_QUESTION = "How does LSUV initialization work?"
REPLY = "LSUV first uses orthonormal matrices, then normalises each layer's output variance [1]."


@pytest.fixture(scope="module")
def api(llm_settings_module: Settings) -> Iterator[str]:
    yield from run_in_thread(create_app(llm_settings_module))


@pytest.fixture(scope="module")
def llm_settings_module(sample_settings: Settings, llm_server: StubServer) -> Settings:
    from assistant.config import LLMSettings

    return sample_settings.model_copy(
        update={
            "llm": LLMSettings(base_url=llm_server.url, model="stub", timeout_s=3, max_retries=0)
        }
    )


@pytest.fixture
def client(api: str, llm_server: StubServer) -> Iterator[httpx.Client]:
    llm_server.script()
    with httpx.Client(base_url=api, timeout=30) as http:
        yield http


def test_healthz_reports_store_and_model(client: httpx.Client) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["papers"] == 318
    assert body["llm"]["model"] == "stub" and body["llm"]["reachable"] is True


def test_search_returns_papers_with_scores(client: httpx.Client) -> None:
    response = client.post("/v1/search", json={"query": "layer pruning with Gumbel-TopK", "k": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["covered"] and len(body["hits"]) == 3
    assert body["hits"][0]["paper"]["title"].startswith("E$^3$-Pruner")
    assert body["hits"][0]["chunks"]


def test_search_applies_filters_and_question_constraints(client: httpx.Client) -> None:
    filtered = client.post(
        "/v1/search", json={"query": "neural networks", "filters": {"author": "Fortuin"}}
    ).json()
    assert [h["paper"]["authors"] for h in filtered["hits"]] == [
        ["Tommy Rochussen", "Vincent Fortuin"]
    ]
    prose = client.post(
        "/v1/search", json={"query": "Which daily papers were posted in June 2024?", "k": 10}
    ).json()
    assert prose["recognised"] and len(prose["hits"]) == 2


def test_papers_paging_and_lookup(client: httpx.Client) -> None:
    page = client.get("/v1/papers", params={"limit": 5, "offset": 5}).json()
    assert page["total"] == 318 and len(page["papers"]) == 5 and page["offset"] == 5
    paper = page["papers"][0]
    assert client.get(f"/v1/papers/{paper['paper_id']}").json()["title"] == paper["title"]
    missing = client.get("/v1/papers/nope")
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "UnknownPaper"
    venue = client.get("/v1/papers", params={"venue": "ICLR"}).json()
    assert venue["total"] == 12


def test_ask_json_has_checked_citations_and_receipt(
    client: httpx.Client, llm_server: StubServer
) -> None:
    llm_server.script(REPLY)
    body = client.post("/v1/ask", json={"question": LSUV_QUESTION}).json()
    assert body["refused"] is False and body["citations"][0]["title"] == LSUV
    citation = body["citations"][0]
    assert citation["supported"] and citation["spans"]
    start, end = citation["spans"][0]
    assert "[1]" in body["answer"][start:end]
    assert body["receipt"]["model"] == "stub" and body["receipt"]["retrieved"]
    assert body["coverage"]["verdict"] == "covered"


def test_ask_stream_sends_deltas_then_the_answer(
    client: httpx.Client, llm_server: StubServer
) -> None:
    llm_server.script(REPLY)
    events = []
    with client.stream("POST", "/v1/ask", json={"question": LSUV_QUESTION, "stream": True}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        kind = ""
        for line in r.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                events.append((kind, json.loads(line[6:])))
    kinds = [k for k, _ in events]
    assert kinds[0] == "sources" and events[0][1]["sources"][0]["paper"]["title"] == LSUV
    assert kinds.count("delta") >= 2 and kinds[-2:] == ["answer", "done"]
    text = "".join(d["text"] for k, d in events if k == "delta")
    answer = events[-2][1]
    assert text == REPLY and answer["citations"][0]["title"] == LSUV


def test_ask_stream_reports_an_llm_failure_as_an_error_event(
    client: httpx.Client, llm_server: StubServer
) -> None:
    llm_server.script(Reply(status=500))
    with client.stream("POST", "/v1/ask", json={"question": LSUV_QUESTION, "stream": True}) as r:
        lines = [line for line in r.iter_lines() if line]
    assert "event: error" in lines
    error = json.loads(lines[lines.index("event: error") + 1][6:])
    assert error["error"]["type"] == "LLMUnavailableError" and error["error"]["hint"]


@pytest.mark.parametrize(
    ("reply", "status", "kind"),
    [
        (Reply(status=429), 502, "LLMUnavailableError"),
        (Reply(delay=4.0), 504, "LLMUnavailableError"),
        (Reply(content="a b c d", cut_after=2), 502, "LLMResponseError"),
    ],
)
def test_ask_llm_failures_are_json_errors(
    client: httpx.Client, llm_server: StubServer, reply: Reply, status: int, kind: str
) -> None:
    llm_server.script(reply)
    response = client.post("/v1/ask", json={"question": LSUV_QUESTION})
    assert response.status_code == status
    error = response.json()["error"]
    assert error["type"] == kind and error["message"] and error["hint"]
    assert response.json()["sources"][0]["paper"]["title"] == LSUV  # retrieved before it failed


def test_bad_requests_are_422_with_a_message(client: httpx.Client) -> None:
    empty = client.post("/v1/ask", json={"question": "   "})
    assert empty.status_code == 422 and "empty" in empty.json()["error"]["message"]
    too_long = client.post("/v1/ask", json={"question": "x" * 5000})
    assert too_long.status_code == 422
    missing = client.post("/v1/search", json={})
    assert missing.status_code == 422
    # Nothing to search for: said so, with what to ask, not random papers "found".
    greeting = client.post("/v1/ask", json={"question": "Hi!"}).json()
    assert greeting["refused"] and not greeting["citations"]
    assert greeting["answer"].startswith("Hello. Ask about a topic")
    searched = client.post("/v1/search", json={"query": "thanks"}).json()
    assert searched["hits"] == [] and searched["doubt"].startswith("You're welcome. Ask about")
    framed = client.post("/v1/search", json={"query": "Which papers?"}).json()
    assert framed["hits"] == [] and "names nothing to search for" in framed["doubt"]


def test_uncovered_question_is_refused(client: httpx.Client, llm_server: StubServer) -> None:
    llm_server.script("NOT_IN_SOURCES")
    body = client.post(
        "/v1/ask", json={"question": "sign language translation on PHOENIX-2014T"}
    ).json()
    assert body["refused"] and body["coverage"]["nearest"] and len(llm_server.requests) == 1
    coverage = body["coverage"]
    assert coverage["decided_by"] == "model" and coverage["threshold_verdict"] is False
    assert coverage["lexical_coverage"] < coverage["lexical_threshold"]
    assert not coverage["covered"] and "do not answer" in body["answer"]
    assert coverage["verdict"] == "not_covered"


def test_openai_client_chats_with_the_collection(api: str, llm_server: StubServer) -> None:
    chat = openai.OpenAI(base_url=api + "/v1", api_key="unused", max_retries=0)
    assert [m.id for m in chat.models.list()] == ["assistant"]
    llm_server.script(REPLY)
    completion = chat.chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": LSUV_QUESTION}]
    )
    assert "[1]" in (completion.choices[0].message.content or "")
    extra = completion.model_extra or {}
    assert extra["citations"][0]["title"] == LSUV and extra["refused"] is False
    assert extra["coverage"]["verdict"] == "covered" and extra["coverage"]["caveat"] is None
    assert extra["grounded"] is True and extra["extracted"] is None
    llm_server.script(REPLY)
    stream = chat.chat.completions.create(
        model="assistant",
        messages=[{"role": "user", "content": LSUV_QUESTION}],
        stream=True,
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    # The titles behind the markers follow the text, for clients that show only the text.
    assert text == f"{REPLY}\n\nSources: [1] {LSUV}"
    final = chunks[-1].model_extra or {}
    assert final["citations"][0]["title"] == LSUV and chunks[-1].choices[0].finish_reason == "stop"


def test_an_openai_client_that_shows_only_the_text_sees_an_ungrounded_answer_flagged(
    api: str, llm_server: StubServer
) -> None:
    # Most chat clients render the text alone: the warning and the extracted answer are in it.
    chat = openai.OpenAI(base_url=api + "/v1", api_key="unused", max_retries=0)
    made_up = "The Eiffel Tower in Paris was completed in 1889 for the World's Fair."
    messages: Any = [{"role": "user", "content": LSUV_QUESTION}]
    llm_server.script(made_up)
    whole = chat.chat.completions.create(model="assistant", messages=messages)
    content = whole.choices[0].message.content or ""
    assert content.startswith(made_up) and "\n\nNot grounded: only 0% of the claims" in content
    extracted = (whole.model_extra or {})["extracted"]
    assert extracted and content.endswith(extracted) and "[1]" in extracted
    llm_server.script(made_up)
    chunks = list(chat.chat.completions.create(model="assistant", messages=messages, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == content
    assert (chunks[-1].model_extra or {})["grounded"] is False


def test_an_openai_client_that_shows_only_the_text_sees_the_caveat(
    sample_settings: Settings,
) -> None:
    # An uncertain answer's caveat is the page's banner and the CLI's UNCERTAIN line; a chat
    # client that renders the text alone gets it at the end of the text, whole and streamed.
    serving = run_in_thread(create_app(sample_settings, ui=False))
    url = next(serving)
    try:
        chat = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)
        messages: Any = [{"role": "user", "content": "How was ControlNet trained?"}]
        whole = chat.chat.completions.create(model="assistant", messages=messages)
        content = whole.choices[0].message.content or ""
        caveat = (whole.model_extra or {})["coverage"]["caveat"]
        assert caveat.startswith("Papers in the collection use ControlNet, but none")
        assert content.startswith("Extracted from the abstracts")
        assert content.endswith(f"\n\nNote: {caveat}")
        chunks = list(
            chat.chat.completions.create(model="assistant", messages=messages, stream=True)
        )
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == content
        # Such a client sends back the text alone: its sources line tells the next question
        # which paper "the second one" is (before, no source was known and a search ran).
        messages = [{"role": "user", "content": "Which papers use the straight-through estimator?"}]
        first = chat.chat.completions.create(model="assistant", messages=messages)
        cited = [c["title"] for c in (first.model_extra or {})["citations"]]
        said = first.choices[0].message.content or ""
        assert len(cited) >= 2 and f"\n\nSources: [1] {cited[0]}; [2] {cited[1]}" in said
        messages += [
            {"role": "assistant", "content": said},
            {"role": "user", "content": "Tell me more about the second one"},
        ]
        more = chat.chat.completions.create(model="assistant", messages=messages)
        assert [c["title"] for c in (more.model_extra or {})["citations"]] == [cited[1]]
        # A paper the list does not cite is said in the chat; searched as words, "the fifth
        # one" had been answered about whatever they found. ("The third one", after the
        # second was told of, is the list's third.)
        past = {"role": "assistant", "content": more.choices[0].message.content or ""}
        asked = {"role": "user", "content": "Summarize the fifth one"}
        missing = chat.chat.completions.create(model="assistant", messages=[*messages, past, asked])
        said = missing.choices[0].message.content or ""
        assert len(cited) < 5
        assert said.startswith(
            f'⚠ The list cites {len(cited)} papers, so "the fifth one" names none'
        )
        assert (missing.model_extra or {})["error"]["type"] == "ResolutionError"
        # A comparison asked in the conversation is answered with a table, as in the page's
        # chat ("it" is the paper the last answer cited, "the rotation trick" the one paper
        # whose title says it), whole and streamed.
        messages += [
            {"role": "assistant", "content": more.choices[0].message.content or ""},
            {"role": "user", "content": "How does it compare to the rotation trick?"},
        ]
        table = chat.chat.completions.create(model="assistant", messages=messages)
        rotation = "Restructuring Vector Quantization with the Rotation Trick"
        extra = table.model_extra or {}
        assert [c["title"] for c in extra["citations"]] == [cited[1], rotation]
        assert extra["comparison"]["aspects"] and not extra["refused"]
        text = table.choices[0].message.content or ""
        assert text.startswith("| aspect | [1] ") and text.endswith(f"[2] {rotation}")
        chunks = list(
            chat.chat.completions.create(model="assistant", messages=messages, stream=True)
        )
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == text
        # More papers for the comparison just made ("add Shampoo") compare the same papers and
        # that one, over the route as in the page's chat.
        grown = chat.chat.completions.create(
            model="assistant",
            messages=[
                *messages,
                {"role": "assistant", "content": text},
                {"role": "user", "content": "add Shampoo"},
            ],
        )
        shampoo = "Shampoo: Preconditioned Stochastic Tensor Optimization"
        extra = grown.model_extra or {}
        assert [c["title"] for c in extra["citations"]] == [cited[1], rotation, shampoo]
        assert extra["comparison"]["aspects"]
        # Two methods set against each other are a question, not a table of the papers that
        # mention each.
        methods = chat.chat.completions.create(
            model="assistant", messages=[{"role": "user", "content": "Adam vs AdamW"}]
        )
        assert (methods.model_extra or {}).get("comparison") is None
        # A follow-up asks about the papers compared (their table's text is all a client sends
        # back); searched as the comparison's words, it had found others beside them.
        after = [
            *messages,
            {"role": "assistant", "content": text},
            {"role": "user", "content": "Who wrote them?"},
        ]
        them = chat.chat.completions.create(model="assistant", messages=after)
        assert [c["title"] for c in (them.model_extra or {})["citations"]] == [cited[1], rotation]
        # A paper the collection lacks is said in the chat, as on the page, not a failed call.
        messages[-1] = {"role": "user", "content": "Compare it with the <Zebra> optimizer"}
        unknown = chat.chat.completions.create(model="assistant", messages=messages)
        said = unknown.choices[0].message.content or ""
        assert said.startswith("⚠ Nothing in the collection matches") and "\\<Zebra" in said
        assert (unknown.model_extra or {})["error"]["type"] == "ResolutionError"
    finally:
        next(serving, None)


def test_openai_history_becomes_the_conversation(
    client: httpx.Client, llm_server: StubServer
) -> None:
    llm_server.script("How does LSUV compare with orthonormal init?", REPLY)
    body = client.post(
        "/v1/chat/completions",
        json={
            "model": "gpt-4o",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": LSUV_QUESTION},
                {"role": "assistant", "content": "LSUV normalises variance [1]."},
                {"role": "user", "content": "How does it compare with orthonormal init?"},
            ],
            "temperature": 0.7,
            "max_tokens": 300,
            "top_p": 0.5,
        },
    ).json()
    condense, answer, _judge = llm_server.requests
    assert LSUV_QUESTION in condense["messages"][0]["content"]
    assert [m["role"] for m in answer["messages"]] == ["system", "user", "assistant", "user"]
    # The answer's generation takes the request's sampling; what it does not follow is named.
    assert (answer["temperature"], answer["max_tokens"]) == (0.7, 300)
    assert condense["temperature"] == 0.1
    ignored = " | ".join(body["ignored_parameters"])
    assert (
        "model: " in ignored and "system messages" in ignored and "top_p: not supported" in ignored
    )
    assert "be brief" not in json.dumps(answer["messages"])
    assert body["receipt"]["rewritten_query"] == "How does LSUV compare with orthonormal init?"
    wrong = client.post(
        "/v1/chat/completions", json={"messages": [{"role": "assistant", "content": "hi"}]}
    )
    assert wrong.status_code == 422 and "last message" in wrong.json()["error"]["message"]


@pytest.fixture
def small_api(tmp_path: Path, llm_server: StubServer) -> Iterator[tuple[str, Settings]]:
    """An app on a store of its own (three papers), with a token, to change and protect."""
    source = tmp_path / "seed.jsonl"
    rows = [
        {"title": f"Seed Paper {name}", "abstract": f"We study {topic} in depth. " * 5}
        for name, topic in [
            ("A", "graph kernels"),
            ("B", "protein folding"),
            ("C", "sparse attention"),
        ]
    ]
    source.write_text("\n".join(json.dumps(r) for r in rows))
    settings = make_settings(tmp_path / "store")
    ingest([source], settings)
    settings = settings.model_copy(
        update={"api": ApiSettings(token="s3cret", max_body_mb=0.01)}  # type: ignore[arg-type]
    )
    for url in run_in_thread(create_app(settings)):
        yield url, settings


def test_token_guards_everything_but_healthz(small_api: tuple[str, Settings]) -> None:
    url, _ = small_api
    assert httpx.get(url + "/healthz").status_code == 200
    refused = httpx.get(url + "/v1/papers")
    assert refused.status_code == 401 and "Bearer" in refused.json()["error"]["hint"]
    wrong = httpx.get(url + "/v1/papers", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    ok = httpx.get(url + "/v1/papers", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200 and ok.json()["total"] == 3


def test_add_upload_and_delete_papers(small_api: tuple[str, Settings]) -> None:
    url, _ = small_api
    auth = {"Authorization": "Bearer s3cret"}
    with httpx.Client(base_url=url, headers=auth, timeout=120) as http:
        new = {"title": "Quokka Locomotion", "abstract": "We study how quokkas hop. " * 5}
        first = http.post("/v1/papers", json={"papers": [new]}).json()
        assert first["added"] == 1
        again = http.post("/v1/papers", json={"papers": [new]}).json()
        assert again["added"] == 0 and again["unchanged"] == 1
        hits = http.post("/v1/search", json={"query": "quokkas hopping", "k": 1}).json()["hits"]
        assert hits[0]["paper"]["title"] == "Quokka Locomotion"
        line = json.dumps({"title": "Wombat Burrows", "abstract": "Wombats dig burrows. " * 5})
        uploaded = http.post(
            "/v1/papers/upload", files={"file": ("mine.jsonl", line + "\nnot json\n")}
        ).json()
        assert uploaded["added"] == 1 and "mine.jsonl:2" in uploaded["skipped"][0]
        binary = http.post("/v1/papers/upload", files={"file": ("x.jsonl", bytes(range(256)))})
        assert binary.status_code == 400 and binary.json()["error"]["type"] == "ParseError"
        pid = hits[0]["paper"]["paper_id"]
        assert http.delete(f"/v1/papers/{pid}").json() == {"deleted": pid}
        assert http.get(f"/v1/papers/{pid}").status_code == 404
        assert http.delete(f"/v1/papers/{pid}").status_code == 404
        after = http.post("/v1/search", json={"query": "quokkas hopping", "k": 5}).json()
        assert all(h["paper"]["paper_id"] != pid for h in after["hits"])
        big = http.post(
            "/v1/papers", content=b"x" * 20000, headers={"content-type": "application/json"}
        )
        assert big.status_code == 413 and "limit" in big.json()["error"]["message"]


def test_a_bib_file_goes_in_and_bibtex_comes_out(small_api: tuple[str, Settings]) -> None:
    url, _ = small_api
    auth = {"Authorization": "Bearer s3cret"}
    bib = (Path(__file__).parent / "fixtures" / "library.bib").read_bytes()
    with httpx.Client(base_url=url, headers=auth, timeout=120) as http:
        uploaded = http.post("/v1/papers/upload", files={"file": ("zotero.bib", bib)}).json()
        assert uploaded["added"] == 2 and len(uploaded["skipped"]) == 2
        papers = http.get("/v1/papers", params={"q": "SOAP"}).json()["papers"]
        soap = papers[0]
        assert (soap["arxiv_id"], soap["venue"]) == ("2409.11321", "arXiv")
        one = http.get(f"/v1/papers/{soap['paper_id']}", params={"format": "bibtex"})
        assert one.headers["content-type"].startswith("application/x-bibtex")
        assert one.text.startswith("@article{vyas2024soap,") and "eprint = {2409.11321}" in one.text
        seeds = http.get("/v1/papers", params={"q": "Seed Paper"}).json()["papers"]
        ids = [soap["paper_id"], seeds[0]["paper_id"]]
        several = http.get("/v1/bibtex", params={"ids": ids})
        back = parse_bytes(several.content, "export.bib").papers
        assert [p.title for p in back] == [soap["title"], seeds[0]["title"]]
        assert http.get("/v1/bibtex", params={"ids": ["nope"]}).status_code == 404
        assert httpx.get(url + "/v1/bibtex").status_code == 401  # behind the same token


def test_openai_parameters_the_extractive_answerer_cannot_follow_are_named() -> None:
    request = ChatRequest.model_validate(
        {"messages": [{"role": "user", "content": "q"}], "temperature": 0, "n": 2, "user": "me"}
    )
    assert request.unhonoured(Settings()) == [
        "temperature, max_tokens: no model is configured; answers are extracted",
        "n: not supported",
    ]
    modelled = Settings.model_validate(
        {"llm": {"base_url": "http://127.0.0.1:9", "max_tokens": 100}}
    )
    capped = ChatRequest.model_validate(
        {"messages": [{"role": "user", "content": "q"}], "max_completion_tokens": 500}
    )
    assert capped.unhonoured(modelled) == ["max_tokens: capped at ASSISTANT_LLM__MAX_TOKENS (100)"]
    assert (
        ChatRequest.model_validate({"messages": [{"role": "user", "content": "q"}]}).unhonoured(
            modelled
        )
        == []
    )


def test_the_api_answers_while_the_word_index_loads(tmp_path: Path) -> None:
    """A server listens before its word index is loaded (seconds at 100k papers): answers
    meanwhile are found by meaning and say so, and /healthz says the words are loading. The
    test holds the retriever's loading lock, as a big index would take long to load."""
    source = tmp_path / "seed.jsonl"
    rows = [
        {"title": "Quokka Locomotion", "abstract": "We study how quokkas hop across scrub. " * 4},
        {"title": "Graph Kernels", "abstract": "We compare graph kernels on molecules. " * 4},
    ]
    source.write_text("\n".join(json.dumps(r) for r in rows))
    settings = make_settings(tmp_path / "store")
    ingest([source], settings)
    app = create_app(settings, ui=False)
    retriever = app.state.service.retriever
    retriever.loading.acquire()  # the loader waits until the release below
    for url in run_in_thread(app):
        health = httpx.get(url + "/healthz").json()
        assert health["words"] == "loading" and health["papers"] == 2
        asked = httpx.post(url + "/v1/ask", json={"question": "How do quokkas hop?"}, timeout=60)
        answer = asked.json()
        assert answer["coverage"]["partial"] == WORDS_LOADING
        assert "loading its word index" in answer["coverage"]["caveat"]
        assert answer["citations"][0]["title"] == "Quokka Locomotion"
        retriever.loading.release()
        retriever.wait_loaded()
        assert httpx.get(url + "/healthz").json()["words"] == "ready"
        again = httpx.post(url + "/v1/ask", json={"question": "How do quokkas hop?"}, timeout=60)
        assert again.json()["coverage"]["partial"] is None
