"""A real `assistant serve` with a token, attacked over raw HTTP and with gradio_client."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from assistant.cli import main
from assistant.config import Settings
from assistant.ingest import ingest

from .conftest import make_settings
from .openai_stub import free_port

TOKEN = "correct-horse-battery-staple"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HOSTILE_TITLE = "Quokka Hops [2] <img src=x onerror=alert(1)>\x1b[31m"
HOSTILE_ABSTRACT = (
    "We study how quokkas hop across Rottnest Island with motion capture. "
    '<script>alert("abstract")</script> <a href="javascript:alert(2)">details</a> '
    '=HYPERLINK("http://other.example/") We find that quokka hops store elastic energy, as '
    "[proof](javascript:alert(3)) and <https://other.example/x> show "
    "![pixel](https://other.example/leak.png)."
)


class Served:
    """One `assistant serve` process on a small store, and what a test needs to reach it."""

    def __init__(self, url: str, store: Path, process: subprocess.Popen[str]) -> None:
        self.url, self.store, self.process = url, store, process

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(self.url + path, timeout=60, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.post(self.url + path, timeout=120, **kwargs)

    def titles(self) -> list[str]:
        page = self.get("/v1/papers", params={"limit": 1000}, headers=AUTH).json()
        return [p["title"] for p in page["papers"]]


def _environment(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env.update({f"ASSISTANT_{k.upper()}": v for k, v in settings.items()})
    return env


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("served")
    source = folder / "seed.jsonl"
    rows = [
        {"title": HOSTILE_TITLE, "abstract": HOSTILE_ABSTRACT, "authors": ["A. \x1b]8;;x\x07B"]},
        {"title": "Wombat Burrows", "abstract": "We map wombat burrows with ground radar. " * 4},
        {"title": "Kangaroo Tails", "abstract": "We measure kangaroo tail forces in gait. " * 4},
    ]
    source.write_text("\n".join(json.dumps(r) for r in rows))
    store = folder / "store"
    ingest([source], make_settings(store))
    port = free_port()
    env = _environment(
        store__path=str(store),
        embed__model="minilm",
        api__token=TOKEN,
        api__max_body_mb="1",
        api__port=str(port),
    )
    log = folder / "serve.log"  # a file, not a pipe nobody reads, which could fill and block it
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "assistant"), "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        # Ready when /healthz answers; it fails as soon as the server exits, and pytest's own
        # timeout bounds a server that hangs: no clock of ours to miss on a busy machine.
        while True:
            assert process.poll() is None, log.read_text()
            try:
                health = httpx.get(url + "/healthz", timeout=None)
                if health.status_code == 200 and health.json()["ui"] == "ready":
                    break
            except httpx.TransportError:
                pass  # not listening yet
            # A short pause that also notices an exit, until it listens and its UI is mounted.
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.2)
        yield Served(url, store, process)
    finally:
        # Its store is a temporary copy: no graceful shutdown to wait for (uvicorn would wait
        # for gradio_client's open event stream).
        process.kill()
        process.wait()


# -- 1. one gate for the whole app, the mounted UI included ----------------------------------

UI_ROUTES = [
    ("GET", "/ui/"),
    ("GET", "/ui/config"),
    ("GET", "/ui/gradio_api/info"),
    ("POST", "/ui/gradio_api/call/respond"),
    ("POST", "/ui/gradio_api/call/upload"),
    ("POST", "/ui/gradio_api/call/remove_papers"),
    ("POST", "/ui/gradio_api/call/papers_table"),
    ("POST", "/ui/gradio_api/call/run_compare"),
    ("POST", "/ui/gradio_api/upload"),
    ("GET", "/ui/gradio_api/file=/etc/hostname"),
    ("GET", "/docs"),
    ("GET", "/openapi.json"),
    ("GET", "/v1/papers"),
]


@pytest.mark.parametrize(("method", "path"), UI_ROUTES)
def test_gate_every_route_needs_the_token(served: Served, method: str, path: str) -> None:
    body = {"data": []} if method == "POST" else None
    refused = httpx.request(method, served.url + path, json=body, timeout=60)
    assert refused.status_code == 401, (path, refused.status_code, refused.text[:200])
    assert refused.json()["error"]["type"] == "Unauthorized"
    assert "Wombat" not in refused.text


def test_gate_open_routes_and_token_routes(served: Served) -> None:
    assert served.get("/healthz").status_code == 200
    assert served.get("/ui/config", headers=AUTH).status_code == 200
    assert "Wombat Burrows" in served.get("/ui/config", headers=AUTH).text
    wrong = served.get("/ui/config", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_gate_gradio_client_without_the_token_gets_nothing(served: Served) -> None:
    from gradio_client import Client

    with pytest.raises(Exception) as caught:
        Client(served.url + "/ui/", verbose=False).predict(api_name="/papers_table", query="")
    assert "Wombat" not in str(caught.value)


def test_gate_browser_logs_in_with_an_http_only_strict_cookie(served: Served) -> None:
    page = served.get("/ui/", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    form = served.get("/login")
    assert form.status_code == 200 and 'type="password"' in form.text
    bad = served.post("/login", data={"token": "nope", "next": "/ui/"})
    assert bad.status_code == 401 and "not this server" in bad.text
    good = served.post("/login", data={"token": TOKEN, "next": "//other.example/"})
    assert good.status_code == 303 and good.headers["location"] == "/ui/"  # no open redirect
    cookie = good.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
    session = cookie.split(";")[0]
    config = served.get("/ui/config", headers={"Cookie": session})
    assert config.status_code == 200 and "Wombat Burrows" in config.text
    out = served.get("/logout")
    assert out.status_code == 303 and "Max-Age=0" in out.headers["set-cookie"]


# -- 2. no server file is read through the UI's API ------------------------------------------


def _call(served: Served, name: str, data: list[Any]) -> str:
    """Call one of the UI's API functions as a client would; the event stream as text."""
    started = served.post(f"/ui/gradio_api/call/{name}", json={"data": data}, headers=AUTH)
    if started.status_code != 200:
        return started.text
    event = started.json()["event_id"]
    return served.get(f"/ui/gradio_api/call/{name}/{event}", headers=AUTH).text


def test_ui_api_reads_no_server_file(served: Served, tmp_path: Path) -> None:
    # A server file that would parse as papers, outside Gradio's upload folder.
    planted = tmp_path / "server-side.jsonl"
    planted.write_text(json.dumps({"title": "Server File", "abstract": "We leak it. " * 5}))
    before = served.titles()
    for path in (str(planted), "/proc/self/environ"):
        uploaded = _call(
            served, "upload", [{"path": path, "meta": {"_type": "gradio.FileData"}}, ""]
        )
        assert "event: error" in uploaded and TOKEN not in uploaded
    # A chat history holding a "file" (the page keeps the history on the server instead).
    secret = {"path": "/proc/self/environ", "meta": {"_type": "gradio.FileData"}}
    history = [{"role": "user", "content": secret}, {"role": "assistant", "content": "ok"}]
    asked = _call(served, "respond", ["wombats", history, [], "", "", "", "", ""])
    assert TOKEN not in asked and "/file=" not in asked
    assert served.titles() == before


# -- 4. cross-site requests and DNS rebinding ------------------------------------------------


def test_cross_site_writes_and_foreign_hosts_are_refused(served: Served) -> None:
    plant = {"file": ("x.jsonl", json.dumps({"title": "Planted", "abstract": "We plant. " * 5}))}
    for headers in (
        {"Origin": "http://other.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        refused = served.post("/v1/papers/upload", files=plant, headers={**AUTH, **headers})
        assert refused.status_code == 403 and refused.json()["error"]["type"] == "CrossOrigin"
    rebound = served.get("/healthz", headers={"Host": "attacker.example:8000"})
    assert rebound.status_code == 400 and rebound.json()["error"]["type"] == "BadHost"
    same = served.post(
        "/v1/search",
        json={"query": "wombat burrows"},
        headers={**AUTH, "Origin": served.url, "Sec-Fetch-Site": "same-origin"},
    )
    assert same.status_code == 200
    assert "Planted" not in served.titles()


# -- 6. a streamed body is counted as it arrives ---------------------------------------------


def test_chunked_bodies_past_the_limit_get_413(served: Served) -> None:
    def chunks() -> Iterator[bytes]:
        # A file part that never ends: 2.5 MB against a 1 MB limit, with no Content-Length.
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.jsonl"\r\n\r\n'
        for _ in range(40):
            yield b"x" * 65536

    multipart = "multipart/form-data; boundary=b"
    for path, kind in (
        ("/v1/search", "application/json"),
        ("/v1/papers/upload", multipart),
        ("/ui/gradio_api/upload", multipart),
    ):
        response = served.post(path, content=chunks(), headers={**AUTH, "Content-Type": kind})
        assert response.status_code == 413, (path, response.text[:200])
        assert response.json()["error"]["type"] == "RequestTooLarge"
    assert served.get("/healthz").status_code == 200


# -- 7 and 8. hostile text and bad input -----------------------------------------------------


def test_hostile_paper_text_reaches_no_renderer_raw(served: Served) -> None:
    paper = next(
        p
        for p in served.get("/v1/papers", headers=AUTH).json()["papers"]
        if p["title"].startswith("Quokka")
    )
    assert "\x1b" not in paper["title"] and "\x07" not in "".join(paper["authors"])
    answer = served.post("/v1/ask", json={"question": "How do quokkas hop?"}, headers=AUTH).json()
    assert [c["n"] for c in answer["citations"]] == [1], answer["answer"]
    assert "(2)" in answer["answer"]  # the title's own [2] is quoted, not a citation
    csv = served.post(
        "/v1/compare",
        json={"papers": [paper["paper_id"]], "format": "csv"},
        headers=AUTH,
    ).text
    assert "\n=" not in csv and ",=" not in csv and '"=' not in csv


def test_openai_chat_clients_render_hostile_text_as_text(served: Served) -> None:
    """A chat client renders the answer's Markdown itself, some with raw HTML on: the
    abstract's image, links and HTML show as text, whole and streamed, and nothing is lost."""
    chat = openai.OpenAI(base_url=served.url + "/v1", api_key=TOKEN, max_retries=0)
    messages: Any = [{"role": "user", "content": "Do quokka hops store elastic energy?"}]
    whole = chat.chat.completions.create(model="assistant", messages=messages)
    text = whole.choices[0].message.content or ""
    pieces = chat.chat.completions.create(model="assistant", messages=messages, stream=True)
    streamed = "".join(c.choices[0].delta.content or "" for c in pieces if c.choices)
    assert streamed == text
    assert "alert(3)" in text and "other.example/x" in text and "[1]" in text, text
    html = MarkdownIt("commonmark").render(text)  # html on: as permissive as a client gets
    assert "<img" not in html and "<script" not in html and "<a " not in html, html
    assert "Sources: [1] Quokka Hops (2)" in text


@pytest.mark.parametrize(
    "body",
    [
        '{"query": "wombats", "k": 1e400}',
        '{"query": "wombats", "k": NaN}',
        '{"query": "wombats", "filters": {"since": "' + "9" * 5000 + '"}}',
        '{"query": "wombats \\ud800 burrows"}',
    ],
)
def test_bad_numbers_and_characters_are_4xx_not_500(served: Served, body: str) -> None:
    response = served.post(
        "/v1/search", content=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code in (200, 422), response.text[:300]
    if response.status_code == 422:
        assert response.json()["error"]["message"]


@pytest.mark.parametrize("name", ["..", ".", "x" * 300 + ".jsonl", "../../etc/passwd"])
def test_odd_upload_names_are_stored_safely(served: Served, name: str) -> None:
    line = json.dumps({"title": "Dingo Howls", "abstract": "We record dingo howls. " * 5})
    response = served.post("/v1/papers/upload", files={"file": (name, line)}, headers=AUTH)
    assert response.status_code == 200, response.text[:300]
    assert "Dingo Howls" in served.titles()


def test_lone_surrogate_in_an_uploaded_line_is_replaced(served: Served) -> None:
    line = '{"title": "Emu Strides \\udc80", "abstract": "' + "We time emu strides. " * 5 + '"}'
    response = served.post("/v1/papers/upload", files={"file": ("e.jsonl", line)}, headers=AUTH)
    assert response.status_code == 200 and response.json()["added"] == 1
    assert "Emu Strides \ufffd" in served.titles()


# -- 5. an empty token is a setting error ----------------------------------------------------


def test_empty_token_is_refused_before_serving(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--store", str(tmp_path / "s"), "serve"], env={"ASSISTANT_API__TOKEN": " "}
    )
    assert result.exit_code == 1 and "token is empty" in result.output


# -- 9. coverage thresholds that do not match the collection fail closed ---------------------


def _three_papers(tmp_path: Path) -> Settings:
    """A store of its own holding three papers, ingested and calibrated."""
    source = tmp_path / "seed.jsonl"
    rows = [
        {"title": "Wombat Burrows", "abstract": "We map wombat burrows with ground radar. " * 4},
        {"title": "Kangaroo Tails", "abstract": "We measure kangaroo tail forces in gait. " * 4},
        {"title": "Emu Strides", "abstract": "We time emu strides on open plains at dawn. " * 4},
    ]
    source.write_text("\n".join(json.dumps(r) for r in rows))
    settings = make_settings(tmp_path / "store")
    ingest([source], settings)
    return settings


def test_stale_thresholds_give_no_verdict_until_the_server_rebuilds_them(tmp_path: Path) -> None:
    from assistant.collection import Collection
    from assistant.retrieve import CALIBRATION_FILE

    settings = _three_papers(tmp_path)
    saved = settings.store.path / CALIBRATION_FILE
    calibration = json.loads(saved.read_text())
    # As after a crash between a write and its recalibration: thresholds of another collection.
    saved.write_text(json.dumps({**calibration, "fingerprint": "an-older-collection"}))
    off_topic = "How are volcanic ash clouds forecast for aviation?"
    collection = Collection(settings)
    try:
        found = collection.retriever.retrieve(off_topic)
        assert found.verdict is False and found.threshold is None
        answer = collection.answerer.ask(off_topic)
        assert answer.coverage.available is False
        # ... and says so, wherever the answer is shown (the CLI's note, the page, the API)
        assert (answer.coverage.caveat or "").startswith("No coverage verdict yet")
        rebuilding = collection.settle()
        assert rebuilding is not None
        rebuilding.join()
        again = collection.retriever.retrieve(off_topic)
        assert again.verdict is True and again.threshold is not None
        assert json.loads(saved.read_text())["fingerprint"] != "an-older-collection"
        assert collection.settle() is None  # nothing left to rebuild
    finally:
        collection.close()


def test_a_servers_write_keeps_a_verdict_while_its_thresholds_are_rebuilt(tmp_path: Path) -> None:
    """Writes through a server return once their papers are searchable; the thresholds in force
    before them decide coverage until the background rebuild has saved the new ones."""
    from assistant.collection import Collection

    settings = _three_papers(tmp_path)
    off_topic = "How are volcanic ash clouds forecast for aviation?"
    collection = Collection(settings)
    try:
        before = collection.retriever.calibration()
        assert before is not None and collection.thresholds() == "current"
        quokka = {"title": "Quokka Hops", "abstract": "We film quokka hops on Rottnest. " * 4}
        assert collection.add_file(io.BytesIO(json.dumps(quokka).encode()), "q.jsonl").added == 1
        assert collection.retriever.search("quokka hops", k=1)[0].paper.title == "Quokka Hops"
        assert collection.retriever.retrieve(off_topic).verdict is True  # never "no verdict"
        assert collection.remove([collection.papers()[0].paper_id]) == 1
        assert collection.answerer.ask(off_topic).coverage.available is True
        collection.wait_calibrated()
        after = collection.retriever.calibration()
        assert after is not None and after.fingerprint != before.fingerprint
        assert after.fingerprint == collection.retriever.lexical().fingerprint
        assert collection.thresholds() == "current"
    finally:
        collection.close()


def test_another_processs_write_keeps_the_verdict_of_the_thresholds_before_it(
    tmp_path: Path,
) -> None:
    """A server worker whose collection another process changed (another worker, a CLI
    ingest) keeps the thresholds it had until that process has saved the new ones."""
    from assistant.collection import Collection
    from assistant.retrieve import Retriever

    settings = _three_papers(tmp_path)
    off_topic = "How are volcanic ash clouds forecast for aviation?"
    worker = Collection(settings)
    try:
        before = worker.retriever.retrieve(off_topic)
        assert before.verdict is True and before.threshold is not None
        source = tmp_path / "more.jsonl"
        quokka = {"title": "Quokka Hops", "abstract": "We film quokka hops on Rottnest. " * 4}
        source.write_text(json.dumps(quokka))
        ingest([source], settings, calibrate=False)  # the other process has not recalibrated yet
        assert Retriever(settings).retrieve(off_topic).verdict is False  # a new one has none
        after = worker.retriever.retrieve(off_topic)
        assert worker.retriever.search("quokka hops", k=1)[0].paper.title == "Quokka Hops"
        assert after.verdict is True and after.threshold == before.threshold
        assert worker.thresholds() == "rebuilding"
    finally:
        worker.close()


def test_browser_logs_in_then_uses_the_ui(served: Served) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(0)  # no deadline for a busy machine to miss
            page.goto(served.url + "/ui/")
            assert "/login" in page.url
            page.fill("#token", "not the token")
            page.click("#login")
            assert "not this server" in page.inner_text("body")
            page.fill("#token", TOKEN)
            page.click("#login")
            page.wait_for_selector("#question textarea", timeout=0)
            assert page.url.endswith("/ui/")
            page.get_by_role("tab", name="Collection").click()
            page.wait_for_function(
                "document.querySelector('#papers')?.innerText.includes('Wombat Burrows')",
                timeout=30000,
            )
            cookie = next(c for c in page.context.cookies() if c["name"] == "assistant_session")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        finally:
            browser.close()


def test_ui_upload_of_a_broken_file_says_so_and_keeps_the_table(
    served: Served, tmp_path: Path
) -> None:
    from gradio_client import Client, handle_file

    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(bytes(range(256)))
    client = Client(served.url + "/ui/", headers=AUTH, verbose=False)
    started, _ = client.predict(handle_file(str(broken)), api_name="/upload")
    assert "broken.jsonl" in started  # an ingest job behind the page (or already its end)
    job = served.get("/v1/ingest", headers=AUTH).json()[-1]
    while job["state"] in ("queued", "reading", "embedding"):
        time.sleep(0.1)  # following the job's state, as the page does
        job = served.get(f"/v1/ingest/{job['id']}", headers=AUTH).json()
    assert job["state"] == "failed" and job["error"]["message"].startswith("broken.jsonl")
    assert "upload-" not in json.dumps(job)  # not the folder the server saved it in
    # heading, job status, table, count, both pickers, upload line, timer
    table, count = client.predict("", api_name="/follow")[2:4]
    assert "papers" in count and any("Wombat Burrows" in row for row in table["data"])


def test_ui_error_messages_quote_untrusted_text_escaped(served: Served) -> None:
    # Gradio's error modal renders its message as HTML; a resolution error quotes the prompt.
    hostile = 'Compare "<img src=x onerror=alert(1)> paper" with "<b>nothing</b> at all"'
    told = _call(served, "run_compare", [hostile, [], []])
    assert "event: error" in told
    assert "<img" not in told and "&lt;img" in told
