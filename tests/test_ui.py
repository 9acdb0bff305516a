"""The browser UI in a real Chromium (Playwright), against the real app and the test model."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.api import create_app
from assistant.config import LLMSettings, Settings, StoreSettings
from assistant.ingest import ingest

from .openai_stub import Reply, StubServer, run_in_thread

CHROMIUM = Path("/usr/bin/chromium")
LSUV_QUESTION = "How does LSUV initialization work?"
REPLY = (
    "LSUV first uses orthonormal matrices and then normalises the variance of each layer's "
    "output to one [1]."
)


@pytest.fixture(scope="module")
def ui_url(
    sample_settings: Settings, llm_server: StubServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The app (API + UI) on a copy of the sample store, since the UI test uploads papers."""
    copy = tmp_path_factory.mktemp("ui") / "store"
    shutil.copytree(sample_settings.store.path, copy)
    settings = sample_settings.model_copy(
        update={
            "store": StoreSettings(path=copy),
            "llm": LLMSettings(base_url=llm_server.url, model="stub", max_retries=0),
        }
    )
    yield from run_in_thread(create_app(settings))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    assert CHROMIUM.exists(), "install Debian's chromium (make test does: apt-get install chromium)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def page(browser: Any, ui_url: str) -> Iterator[Any]:
    tab = browser.new_page(viewport={"width": 1300, "height": 1000})
    tab.set_default_timeout(0)  # no deadline for a busy machine to miss
    hosts: set[str] = set()
    tab.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    tab.goto(ui_url + "/ui/")
    tab.wait_for_selector("#question textarea", timeout=0)
    tab.hosts = hosts
    yield tab
    tab.close()
    assert hosts == {ui_url.split("/")[2]}, f"the page asked other hosts: {hosts}"


def _ask(page: Any, question: str) -> None:
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")


def _new_chat(page: Any) -> None:
    """Start a new chat and wait until the page shows it, so the reset cannot land on the answer.

    The reset and the next question are two events the server may finish in either order.
    """
    page.get_by_role("tab", name="Chat").click()
    page.locator("#new-chat").click()
    page.wait_for_function(
        "!document.querySelector('#chat .message')"
        " && document.querySelector('#sources').innerText.includes('Sources appear here')",
        timeout=30000,
    )


def _last_answer(page: Any) -> str:
    messages = page.locator("#chat .message")
    return str(messages.last.inner_text()) if messages.count() else ""


def test_streamed_answer_and_clickable_citation(
    page: Any, llm_server: StubServer, tmp_path: Path
) -> None:
    llm_server.script(Reply(content=REPLY, chunk_delay=0.15))
    _ask(page, LSUV_QUESTION)
    seen: list[str] = []
    while not page.locator("#chat a.cite").count():  # pytest's timeout bounds a hang
        text = _last_answer(page)
        if text and text not in seen:
            seen.append(text)
        time.sleep(0.05)
    page.screenshot(path=str(tmp_path / "1-answer.png"))
    partial = [t for t in seen if t.startswith("LSUV") and "[1]" not in t]
    assert len(partial) >= 2, (
        f"expected the answer in increments, saw {seen}: {page.inner_text('#chat')}"
    )
    assert "model: stub" in _last_answer(page)
    page.locator("#chat a.cite").first.click()
    active = page.locator("#sources .source.active")
    active.wait_for(timeout=0)
    assert "All you need is a good init" in active.inner_text()
    assert "normalizing the variance" in active.locator("mark").inner_text()
    assert "orthonormal matrices" in active.locator(".citing").inner_text()
    page.screenshot(path=str(tmp_path / "2-citation.png"))


def test_conversation_saves_as_markdown(page: Any, ui_url: str) -> None:
    page.locator("#save-chat").click()
    link = page.locator("#chat-file a[href*='conversation.md']").first
    link.wait_for(timeout=0)
    href = str(link.get_attribute("href"))
    text = httpx.get(href if href.startswith("http") else ui_url + href, timeout=30).text
    assert text.startswith("# Conversation") and f"## {LSUV_QUESTION}" in text
    assert "output to one [1]." in text and "[1] All you need is a good init" in text
    # The cited papers' BibTeX ends the conversation and comes as a file of its own.
    assert "## References" in text and "title = {All you need is a good init}" in text
    bib = page.locator("#chat-file a[href*='references.bib']").first
    href = str(bib.get_attribute("href"))
    entries = httpx.get(href if href.startswith("http") else ui_url + href, timeout=30).text
    assert entries.startswith("@") and "abstract = {" in entries


def test_filter_narrows_the_sources(page: Any, llm_server: StubServer, tmp_path: Path) -> None:
    llm_server.script("They meta-learn priors [1].")
    page.get_by_text("Filters").click()
    page.locator("#f-author textarea, #f-author input").first.fill("Fortuin")
    _ask(page, "meta-learning priors for neural networks")
    page.wait_for_selector("#chips .chip", timeout=0)
    page.wait_for_function(
        "document.querySelector('#sources').innerText.includes('Amortising Inference')",
        timeout=30000,
    )
    assert "author: Fortuin" in page.locator("#chips").inner_text()
    assert page.locator("#sources .source").count() == 1
    page.screenshot(path=str(tmp_path / "3-filter.png"))
    page.locator("#f-author textarea, #f-author input").first.fill("")


def test_model_failure_shows_a_message_and_the_sources(
    page: Any, llm_server: StubServer, tmp_path: Path
) -> None:
    llm_server.script(Reply(status=500))
    _new_chat(page)
    _ask(page, LSUV_QUESTION)
    page.wait_for_function(
        "document.querySelector('#chat').innerText.includes('HTTP 500')", timeout=30000
    )
    assert "⚠" in _last_answer(page) and "server" in _last_answer(page)
    assert "All you need is a good init" in page.locator("#sources").inner_text()
    page.screenshot(path=str(tmp_path / "4-failure.png"))


def test_upload_adds_a_paper_to_the_collection(page: Any, tmp_path: Path) -> None:
    page.get_by_role("tab", name="Collection").click()
    upload = tmp_path / "mine.jsonl"
    paper = {"title": "Quokka Locomotion on Rottnest", "abstract": "We study quokka hops. " * 6}
    upload.write_text(json.dumps(paper) + "\n")
    page.locator("#upload input[type=file]").set_input_files(str(upload))
    page.wait_for_function(
        "document.querySelector('#upload-result').innerText.includes('1 added')",
        timeout=120000,
    )
    page.locator("#paper-search textarea, #paper-search input").first.fill("Quokka")
    page.wait_for_function(
        "document.querySelector('#papers').innerText.includes('Quokka Locomotion')",
        timeout=30000,
    )
    assert "1 of 319 papers" in page.locator("#count").inner_text()
    # The file it came in is not its venue: the venue column says it has none.
    assert "mine.jsonl" not in page.locator("#papers").inner_text()
    page.screenshot(path=str(tmp_path / "5-upload.png"))


def test_remove_asks_then_takes_a_paper_out_of_the_collection(page: Any, tmp_path: Path) -> None:
    box = page.locator("#remove-papers input").first
    box.click()
    box.fill("Quokka")
    page.get_by_role("option", name="Quokka Locomotion on Rottnest").click()
    page.locator("#remove-go").click()
    page.wait_for_function(
        "document.querySelector('#remove-confirm')?.innerText.includes('Quokka Locomotion')",
        timeout=10000,
    )
    page.locator("#remove-no").click()  # cancelling removes nothing
    page.wait_for_timeout(500)
    assert "1 of 319 papers" in page.locator("#count").inner_text()
    page.locator("#remove-go").click()
    page.locator("#remove-yes").click()
    page.wait_for_function(
        "document.querySelector('#remove-result').innerText.includes('Removed 1 paper')",
        timeout=120000,
    )
    assert "0 of 318 papers" in page.locator("#count").inner_text()
    assert not page.locator("#remove-confirm").is_visible()
    page.screenshot(path=str(tmp_path / "5b-remove.png"))


TABLE = json.dumps(
    {
        "cells": {
            "1": {"method": "SOAP runs Adam in the eigenbasis of Shampoo's preconditioner."},
            "2": {"method": "MARS combines variance reduction with preconditioned updates."},
        },
        "summary": "Both are optimizers for large models [1][2].",
    }
)


def test_compare_tab_shows_a_table_and_offers_downloads(
    page: Any, llm_server: StubServer, tmp_path: Path
) -> None:
    llm_server.script(TABLE)
    page.get_by_role("tab", name="Compare").click()
    box = page.locator("#compare-prompt textarea, #compare-prompt input").first
    box.fill("Compare SOAP and MARS")
    rows = page.locator("#compare-aspects input").first
    rows.fill("training cost")  # a row of one's own
    rows.press("Enter")
    box.click()  # closes the rows' list, which covers the button
    page.locator("#compare-go").click()
    page.wait_for_selector("#compare-table table", timeout=0)
    table = page.locator("#compare-table").inner_text()
    assert "SOAP: Improving" in table and "MARS: Unleashing" in table and "method" in table
    assert "training cost" in table
    page.wait_for_function(
        "document.querySelector('#compare-files').innerText.includes('.csv')",
        timeout=30000,
    )
    page.screenshot(path=str(tmp_path / "6-compare.png"))


def test_chat_answers_a_comparison_with_a_table(
    page: Any, llm_server: StubServer, tmp_path: Path
) -> None:
    llm_server.script(TABLE)
    _new_chat(page)
    _ask(page, "Compare SOAP with MARS")
    page.wait_for_selector("#chat table", timeout=0)
    assert "MARS: Unleashing" in page.locator("#chat table").inner_text()
    page.screenshot(path=str(tmp_path / "7-chat-compare.png"))
    # The comparison is a turn of the conversation: "them" are its papers. It had been left
    # out, and the follow-up went to the model with no earlier turn.
    llm_server.script('Who wrote "SOAP" and "MARS"?', "Two groups wrote them [1][2].")
    _ask(page, "Who wrote them?")
    # The checked answer, its footer naming the model: no call of this turn is left to reach
    # the stub once the next test scripts it.
    page.wait_for_function(
        "(() => { const m = document.querySelectorAll('#chat .message');"
        " const t = m.length ? m[m.length - 1].innerText : '';"
        " return t.includes('Two groups') && t.includes('model:'); })()",
        timeout=60000,
    )
    sent = json.dumps(llm_server.requests)
    assert "Compare SOAP with MARS" in sent and "Who wrote them?" in sent


def test_ungrounded_answer_is_flagged_with_the_extracted_one_beside_it(
    page: Any, llm_server: StubServer, tmp_path: Path
) -> None:
    llm_server.script(
        Reply(content="The Eiffel Tower in Paris was completed in 1889 for the World's Fair.")
    )
    _new_chat(page)
    _ask(page, LSUV_QUESTION)
    page.wait_for_function(
        "document.querySelector('#chat')?.innerText.includes('Not grounded')", timeout=60000
    )
    answer = _last_answer(page)
    assert "Extracted from the same abstracts" in answer and "All you need is a good init" in answer
    assert page.locator("#chat .unsupported").count() >= 1  # the uncited sentence is marked
    page.screenshot(path=str(tmp_path / "7b-ungrounded.png"))


HOSTILE = {
    "title": 'Quokka Hopping Energetics at $10^{-3}$ J <img src=x onerror="window.pwned=1">',
    "abstract": (
        "We study how quokkas hop on Rottnest Island with motion capture. "
        '<script>window.pwned=2</script><img src="http://other.host/track.png"> '
        '<a href="javascript:window.pwned=3">details</a> [more](javascript:window.pwned=4) '
        "![pixel](http://other.host/md.png) <style>#sources{display:none}</style>"
        '<div style="position:fixed;top:0;left:0;width:100%;height:100%;background:red">'
        "covered</div> Each hop costs $\\href{javascript:window.pwned=7}{E}_{h}$ and "
        "$\\color{white}{x}\\hspace{9999pt}$ joules. "
        "We find that quokka hops store elastic energy in their tendons at $10^{-3}$ J."
    ),
}
HOSTILE_REPLY = (
    "Quokkas store elastic energy in their tendons at $10^{-3}$ J "
    "<img src=x onerror=alert(1)> [1]. "
    "[Read more](javascript:alert(3)) ![x](http://other.host/reply.png) "
    '<a href="javascript:alert(4)">here</a>'
)
INERT = """() => {
  const scope = document.querySelectorAll('#chat *, #sources *, #compare-table *');
  const bad = [];
  for (const el of scope) {
    for (const attr of el.attributes) {
      if (attr.name.startsWith('on')) bad.push(el.tagName + ' ' + attr.name);
      if (/^\\s*javascript:/i.test(attr.value)) bad.push(el.tagName + ' ' + attr.name);
      if (/position\\s*:\\s*fixed/i.test(attr.value)) bad.push(el.tagName + ' fixed');
      // A formula is drawn, never sized, coloured or linked.
      const sizing = ['style', 'mathcolor', 'mathbackground', 'mathsize', 'width', 'href'];
      if (el.closest('math') && sizing.includes(attr.name)) bad.push(el.tagName + ' ' + attr.name);
    }
    if (['SCRIPT', 'STYLE', 'IFRAME', 'IMG'].includes(el.tagName)) bad.push(el.tagName);
  }
  return {bad, pwned: window.pwned === undefined ? null : window.pwned};
}"""


def test_hostile_abstracts_stay_inert_in_chat_sources_and_compare(
    page: Any, ui_url: str, llm_server: StubServer, tmp_path: Path
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    # Planted through the API: the page reads the live collection.
    planted = httpx.post(
        ui_url + "/v1/papers/upload",
        files={"file": ("hostile.jsonl", json.dumps(HOSTILE) + "\n")},
        timeout=120,
    )
    assert planted.json()["added"] == 1
    llm_server.script(Reply(content=HOSTILE_REPLY))
    _new_chat(page)
    _ask(page, "How do quokkas hop on Rottnest Island?")
    page.wait_for_selector("#chat a.cite", timeout=0)
    # The sources panel as the checked answer left it (its cited card open), not as retrieval
    # first showed it: the two arrive in one update but reach the page one after the other.
    page.wait_for_function(
        "document.querySelector('#sources').innerText.includes('Quokka Hopping Energetics')"
        " && document.querySelector('#sources').innerText.includes('cited by')",
        timeout=30000,
    )
    answer = _last_answer(page)
    assert "elastic energy" in answer and "<img src=x onerror=alert(1)>" in answer  # as text
    sources = page.locator("#sources").inner_text()
    assert "<script>window.pwned=2</script>" in sources and page.locator("#sources").is_visible()
    # The papers' formulas are typeset (MathML) in the answer, the card's title and abstract.
    card = page.locator("#sources .source", has_text="Quokka Hopping")
    assert page.locator("#chat math msup").count() >= 1
    assert card.locator("b math msup").count() == 1 and card.locator("details math").count() == 3
    llm_server.script(
        json.dumps(
            {
                "cells": {
                    "1": {"method": "Motion capture <img src=x onerror=alert(5)> of hops."},
                    "2": {"method": "[x](javascript:alert(6)) radar maps."},
                },
                "summary": "Both measure animals [1][2]. <style>*{display:none}</style>",
            }
        )
    )
    page.get_by_role("tab", name="Compare").click()
    box = page.locator("#compare-prompt textarea, #compare-prompt input").first
    box.fill("Compare Quokka Hopping Energetics and SOAP")
    page.locator("#compare-go").click()
    page.wait_for_function(
        "document.querySelector('#compare-table table')?.innerText.includes('Quokka Hopping')",
        timeout=60000,
    )
    assert (
        "Motion capture <img src=x onerror=alert(5)> of hops."
        in page.locator("#compare-table").inner_text()
    )
    assert page.locator("#compare-table th math msup").count() == 1
    page.screenshot(path=str(tmp_path / "8-hostile.png"))
    found = page.evaluate(INERT)
    assert found == {"bad": [], "pwned": None}, found
    assert dialogs == []


def test_page_follows_the_collection_while_it_is_being_indexed(
    browser: Any, settings: Settings, tmp_path: Path
) -> None:
    """Opened while the server's files wait to be indexed: the heading says so, an answer
    says it may miss papers, and the count rises once they are in, without a reload."""
    first = {
        "title": "Orthogonal initialisation of residual networks",
        "abstract": "We "
        "initialise residual networks with orthogonal matrices so that training converges "
        "without warm-up.",
    }
    later = [
        {
            "title": f"Glacier melt forecasting, part {n}",
            "abstract": "A graph neural network "
            f"forecasts glacier melt from satellite imagery of basin {n}.",
        }
        for n in range(1, 4)
    ]
    (tmp_path / "first.jsonl").write_text(json.dumps(first) + "\n")
    ingest([tmp_path / "first.jsonl"], settings, calibrate=False)
    (tmp_path / "later.jsonl").write_text("".join(json.dumps(p) + "\n" for p in later))
    app = create_app(settings, ingest=[tmp_path / "later.jsonl"])
    service = app.state.service
    service.writing.acquire()  # another write holds the collection: the job waits its turn
    try:
        for url in run_in_thread(app):
            tab = browser.new_page(viewport={"width": 1366, "height": 900})
            tab.set_default_timeout(0)  # no deadline for a busy machine to miss
            tab.goto(url + "/ui/")
            heading = tab.locator("#heading")
            tab.wait_for_function(
                "(document.querySelector('#heading')?.innerText || '').includes('queued')",
                timeout=60000,
            )
            assert "1 paper" in heading.inner_text()
            _ask(tab, "How are residual networks initialised?")
            tab.wait_for_function(
                "document.querySelector('#chat').innerText.includes('still being indexed')",
                timeout=60000,
            )
            tab.screenshot(path=str(tmp_path / "indexing.png"))
            service.writing.release()
            tab.wait_for_function(
                "document.querySelector('#heading').innerText.includes('4 papers')",
                timeout=120000,
            )
            assert "indexing" not in heading.inner_text()
            tab.get_by_role("tab", name="Collection").click()
            assert "indexed 3 papers" in tab.locator("#ingest-status").inner_text()
            assert "later.jsonl: read, 3 papers" in tab.locator("#ingest-status").inner_text()
            assert "4 of 4 papers" in tab.locator("#count").inner_text()
            assert not tab.locator("#ingest-stop").is_visible()  # nothing to stop

            # Another file waits its turn; the page stops it from the Collection tab.
            (tmp_path / "more.jsonl").write_text(json.dumps({**first, "title": "More"}) + "\n")
            service.writing.acquire()
            job = service.start_ingest([tmp_path / "more.jsonl"])
            tab.reload()
            tab.get_by_role("tab", name="Collection").click()
            # The button shows once the page's next status poll sees the queued job: on a busy
            # machine that can take longer than a click's own 30 s wait.
            tab.locator("#ingest-stop").wait_for(state="visible", timeout=0)
            tab.locator("#ingest-stop").click()
            tab.wait_for_function(
                "document.querySelector('#ingest-status').innerText.includes('stopping after')",
                timeout=60000,
            )
            service.writing.release()
            tab.wait_for_function(
                "document.querySelector('#ingest-status').innerText.includes('cancelled')",
                timeout=60000,
            )
            assert service.job(job.id).state == "cancelled"
            assert "4 of 4 papers" in tab.locator("#count").inner_text()
            tab.close()
    finally:
        if service.writing.locked():
            service.writing.release()


def test_serve_stops_on_sigterm_while_a_page_is_open(
    browser: Any, settings: Settings, tmp_path: Path
) -> None:
    """An open page holds an event stream that never ends by itself: Ctrl-C or SIGTERM must
    still stop the server (it once waited, silently, for every tab to be closed)."""
    import os
    import signal
    import subprocess
    import sys

    from .openai_stub import free_port, wait_served

    source = tmp_path / "one.jsonl"
    source.write_text(json.dumps({"title": "Wombat burrows", "abstract": "We map burrows. " * 4}))
    ingest([source], settings, calibrate=False)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_EMBED__MODEL"] = settings.embed.model
    cmd = [sys.executable, "-m", "assistant", "--store", str(settings.store.path), "serve"]
    server = subprocess.Popen([*cmd, "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_served(url, server, page=True)
        tab = browser.new_page()
        tab.set_default_timeout(0)  # no deadline for a busy machine to miss
        tab.goto(url + "/ui/")
        tab.wait_for_selector("#question textarea", timeout=0)
        _ask(tab, "How are wombat burrows mapped?")
        tab.wait_for_function(
            "document.querySelector('#chat').innerText.includes('Wombat')", timeout=60000
        )
        server.send_signal(signal.SIGTERM)
        assert server.wait() in (0, -signal.SIGTERM)  # pytest's timeout fails it if it hangs
        tab.close()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
