"""The browser UI (Gradio): chat with cited answers beside their sources, and the collection.

Widgets only: every answer, search and ingest comes from the `assistant` package. Served by
`assistant serve` at /ui, next to the HTTP API.
"""

from __future__ import annotations

import atexit
import html
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from pydantic import ValidationError

from assistant.answer import Delta, Final, Sources
from assistant.bibliography import to_bibtex
from assistant.cite import strip_citations
from assistant.collection import Collection
from assistant.compare import DEFAULT_ASPECTS, Comparer
from assistant.conversation import cited_papers, transcript
from assistant.errors import AssistantError
from assistant.markup import (
    UNSUPPORTED_END,
    UNSUPPORTED_START,
    clean_html,
    markdown_text,
    page_html,
    page_latex,
    without_placeholders,
)
from assistant.records import SUPPORT_LABELS, Answer, Filters, Hit, IngestJob, Turn, counted

# Clicking a citation marker [n] highlights source n in the panel and scrolls to it.
HEAD = """
<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest("a.cite");
  if (!link) return;
  event.preventDefault();
  document.querySelectorAll(".source.active").forEach((el) => el.classList.remove("active"));
  const card = document.getElementById((link.getAttribute("href") || "").slice(1));
  if (card) { card.classList.add("active"); card.scrollIntoView({block: "nearest"}); }
}, true);
</script>
"""
CSS = """
.source { border: 1px solid #ddd; border-radius: 6px; padding: 8px; margin-bottom: 8px; }
.source.active { border: 2px solid #e8a000; background: #fff8e6; }
.source .meta { color: #555; font-size: 0.9em; }
.source mark { background: #ffe58a; }
.unsupported { text-decoration: underline wavy #c00; }
.chip { display: inline-block; border: 1px solid #99c; border-radius: 12px; padding: 0 8px;
        margin-right: 4px; font-size: 0.85em; }
a.cite { font-weight: bold; text-decoration: none; cursor: pointer; }
.notice { color: #8a5a00; }
#sources { max-height: 78vh; overflow-y: auto; }
.source summary { cursor: pointer; color: #555; font-size: 0.9em; }
#papers td, #papers th { word-break: normal; overflow-wrap: break-word; }
"""
#: How long the files a page offers for download (comparisons, conversations) are kept.
_FILES_KEPT_S = 3600
_MAX_ASPECTS, _ASPECT_CHARS = 10, 60  # rows of a comparison typed in the page


def render_answer(answer: Answer) -> str:
    """The answer as inert HTML: clickable markers, unsupported sentences underlined, and
    which model wrote it."""
    text = without_placeholders(answer.answer)
    spans = [c.span for c in answer.claims if c.support in ("unsupported", "uncited") and c.span]
    for start, end in sorted(spans, reverse=True):  # from the end, so offsets stay valid
        text = text[:start] + UNSUPPORTED_START + text[start:end] + UNSUPPORTED_END + text[end:]
    caveat = (
        f"<p class='notice'>⚠ {html.escape(page_latex(answer.coverage.caveat))}</p>"
        if answer.coverage.caveat
        else ""
    )
    footer = (
        f"<p class='meta'><small>model: {html.escape(answer.receipt.model)} · retrieval "
        f"{answer.receipt.stage_ms.get('retrieve', 0):.0f} ms · generation "
        f"{answer.receipt.stage_ms.get('generate', answer.receipt.stage_ms.get('extract', 0)):.0f}"
        " ms</small></p>"
    )
    # LaTeX quoted from abstracts: formulas ("E$^3$-Pruner") typeset, escapes ("96\\%") printed.
    body = clean_html(caveat) + page_html(page_latex(text)).rstrip("\n")
    if not answer.grounded:
        held, judged = answer.held_claims()
        banner = (
            f"<p class='notice'>⚠ Not grounded: {held} of {judged} claims of this answer "
            "are supported by the sources (the others are underlined). The answer extracted "
            "from the same sources follows it.</p>"
        )
        body = clean_html(banner) + body + "<hr>" + page_html(page_latex(answer.extracted or ""))
    return body + clean_html(footer)


def _error(exc: AssistantError) -> gr.Error:
    """The error for Gradio's modal, which renders its message as HTML: the message may quote
    a title or the prompt, so it is escaped."""
    return gr.Error(html.escape(exc.describe()))


def _said(text: str) -> str:
    """Plain text (a question, an error) as inert HTML."""
    return page_html(markdown_text(text), cite_links=False)


def render_sources(hits: list[Hit], answer: Answer | None = None) -> str:
    """One card per source: title, authors, venue, date, the abstract with its evidence marked."""
    if not hits:
        return "<p>No sources.</p>"
    citations = {c.n: c for c in answer.citations} if answer else {}
    cards = []
    for n, hit in enumerate(hits, 1):
        paper = hit.paper
        abstract = html.escape(page_latex(paper.abstract))
        citation = citations.get(n)
        note = ""
        if citation is not None:
            evidence = html.escape(page_latex(citation.evidence))
            abstract = abstract.replace(evidence, f"<mark>{evidence}</mark>", 1)
            sentences = [c.text for c in answer.claims if n in c.citations] if answer else []
            verdict = SUPPORT_LABELS[citation.support]
            quoted = "".join(
                f"<li>{html.escape(page_latex(strip_citations(t)))}</li>" for t in sentences
            )
            note = (
                f"<p class='meta'>cited by {len(sentences)} sentence(s) · {verdict}</p>"
                f"<ul class='meta citing'>{quoted}</ul>"
            )
        meta = " · ".join(
            x
            for x in [
                ", ".join(paper.authors[:6])
                or (counted(paper.author_count, "author") if paper.author_count else ""),
                paper.listed_in,
                paper.date or "",
            ]
            if x
        )
        names = {"doi": f"doi:{paper.doi}", "arxiv": f"arXiv:{paper.arxiv_id}"}
        links = " · ".join(
            f'<a class="ident" href="{html.escape(url)}">{html.escape(names[kind])}</a>'
            for kind, url in paper.links.items()
        )
        # The abstract of a cited paper is open at its marked sentence; the others fold away,
        # so that five sources do not make the page thousands of pixels tall.
        opened = " open" if citation is not None else ""
        title = html.escape(page_latex(paper.title))
        cards.append(
            f'<div class="source" id="source-{n}"><b>[{n}] {title}</b>'
            f'<div class="meta">{html.escape(meta)}{" · " if meta and links else ""}{links}</div>'
            f"{note}"
            f"<details{opened}><summary>abstract</summary><p>{abstract}</p></details></div>"
        )
    # Escaped above already; the sanitiser is the same last word as for every other page, with
    # DOI and arXiv pages the only links out of it.
    return clean_html("\n".join(cards), identifier_links=True)


def _chips(filters: Filters) -> str:
    active = {k: v for k, v in filters.model_dump(exclude_defaults=True).items() if v}
    return clean_html(
        "".join(f'<span class="chip">{k}: {html.escape(str(v))}</span>' for k, v in active.items())
    )


class _Scratch:
    """A folder of files offered for download; files older than an hour are removed as new
    ones are written (Gradio serves its own copies of them meanwhile)."""

    def __init__(self) -> None:
        self._folder: Path | None = None
        self._making = threading.Lock()

    @property
    def folder(self) -> Path:
        """Made at the first download offered: a server that offers none leaves nothing."""
        with self._making:
            if self._folder is None:
                self._folder = Path(tempfile.mkdtemp(prefix="assistant-ui-"))
                # Gone with the process, rather than one more folder left in /tmp per start.
                atexit.register(shutil.rmtree, self._folder, ignore_errors=True)
            return self._folder

    def new_folder(self) -> Path:
        for old in self.folder.iterdir():
            if time.time() - old.stat().st_mtime > _FILES_KEPT_S:
                shutil.rmtree(old, ignore_errors=True)
        made = self.folder / uuid.uuid4().hex
        made.mkdir()
        return made


def build_ui(collection: Collection) -> gr.Blocks:
    """The Blocks app; mount it with gr.mount_gradio_app(..., css=CSS, head=HEAD)."""
    scratch = _Scratch()
    comparer = Comparer.beside(collection.answerer)
    # Gradio's cache of uploads and downloads is emptied of files older than an hour, hourly.
    with gr.Blocks(title="assistant", delete_cache=(_FILES_KEPT_S, _FILES_KEPT_S)) as blocks:
        heading = gr.Markdown(elem_id="heading")
        # Outside the tabs: a tab not shown is not rendered, and neither would its timer be.
        timer = gr.Timer(2.0, active=False)
        with gr.Tab("Chat"):
            _chat_tab(collection, comparer, scratch)
        with gr.Tab("Compare"):
            picked = _compare_tab(collection, comparer, scratch)
        with gr.Tab("Collection"):
            _collection_tab(collection, picked, blocks, heading, timer)
    built: gr.Blocks = blocks
    return built


def _heading_text(collection: Collection, job: IngestJob | None) -> str:
    """What the page is about: the collection's size, how far ``job`` (the server's latest
    ingest job) got while it runs, and who answers."""
    model = collection.answerer.model
    who = (
        f"answers by {markdown_text(model.name)}, checked against the abstracts"
        if model is not None
        else "answers extracted from the abstracts (no language model configured)"
    )
    indexing = f" · {job.summary()}" if job is not None and job.running else ""
    return f"**assistant** · {counted(collection.retriever.size(), 'paper')}{indexing} · {who}"


def _upload_text(job: IngestJob) -> str:
    """What the page says beside an upload: how far its job got, then what it added."""
    named = ", ".join(f.name for f in job.files)
    name = markdown_text(named)
    if job.running:
        return f"{name}: {markdown_text(job.summary())}…"
    if job.state == "failed":
        error = job.error or {}
        reason = " — ".join(filter(None, [error.get("message"), error.get("hint")]))
        where = "" if reason.startswith(named) else f" from {name}"  # a ParseError names it
        return f"⚠ Nothing added{where}: {markdown_text(reason)}"
    if job.state == "cancelled" or job.report is None:
        return f"{name}: {markdown_text(job.summary())}"
    report = job.report
    skipped = "".join(f"\n- skipped {markdown_text(str(s))}" for s in report.skipped)
    return f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged{skipped}"


def _job_text(job: IngestJob | None) -> str:
    """The server's latest ingest job, file by file (the Collection tab)."""
    if job is None:
        return ""
    lines = [f"**{markdown_text(job.summary())}**"]
    for status in job.files:
        state = {"waiting": "waiting", "read": "read", "failed": "⚠ failed"}[status.state]
        read = f", {counted(status.records, 'paper')}" if status.state == "read" else ""
        skipped = f", {status.skipped} skipped" if status.skipped else ""
        problem = f" ({markdown_text(status.problem)})" if status.problem else ""
        lines.append(f"- {markdown_text(status.name)}: {state}{read}{skipped}{problem}")
    return "\n".join(lines)


def _paper_choices(collection: Collection) -> list[tuple[str, str]]:
    papers = sorted(collection.retriever.lexical().papers, key=lambda p: p.title.lower())
    return [(p.title, p.paper_id) for p in papers]


_FILTER_FIELDS = ("author", "since", "until", "venue", "category")


def _filters_of(*values: str | None) -> Filters:
    """The filter boxes' values, in the order of _FILTER_FIELDS."""
    names = _FILTER_FIELDS
    try:
        return Filters.model_validate(
            {name: (value or "").strip() or None for name, value in zip(names, values, strict=True)}
        )
    except ValidationError as exc:
        field = exc.errors()[0]["loc"][0]
        raise gr.Error(
            f"The {field} filter is not a date: write YYYY, YYYY-MM or YYYY-MM-DD"
        ) from None


def _chat_tab(collection: Collection, comparer: Comparer, scratch: _Scratch) -> None:
    """The conversation: question, streamed answers, sources beside them, filters, saving."""
    answerer = collection.answerer
    papers = collection.retriever.lexical().papers
    examples = ["What topics are covered?"]
    examples += [f"What does “{p.title}” propose?" for p in papers[:: max(len(papers) // 3, 1)][:3]]
    examples.append("Which paper has the most authors?")
    venues = sorted({v for p in papers for v in [p.venue, *p.sources] if v})

    # The conversation (what the chat shows, and the turns behind it) lives in server-side
    # session state: the page sends only the question and the filters, so no request can
    # hand the server a forged history (or a "file" in it pointing at a server path).
    def respond(
        question: str, history: list[dict[str, Any]], turns: list[dict[str, Any]], *boxes: str
    ) -> Iterator[tuple[Any, ...]]:
        question = (question or "").strip()
        if not question:
            raise gr.Error("Type a question first, e.g. “Which papers prune LLM layers?”")
        filters = _filters_of(*boxes)
        history = [
            *history,
            {"role": "user", "content": _said(question)},
            {"role": "assistant", "content": ""},
        ]
        sources = "<p>Searching…</p>"

        def update() -> tuple[Any, ...]:
            return "", history, history, sources, turns, _chips(filters)

        yield update()
        hits: list[Hit] = []
        text = ""
        past = [Turn.model_validate(t) for t in turns]
        if comparer.asked(question, past):
            try:
                table = comparer.compare(question, history=past)
                history[-1]["content"] = page_html(table.markdown(page=True))
                turns = [*turns, table.turn().model_dump()]
            except AssistantError as exc:
                history[-1]["content"] = _said(f"⚠ {exc.describe()}")
            sources = "<p>Sources appear here.</p>"
            yield update()
            return
        try:
            for event in answerer.stream(question, past, filters):
                match event:
                    case Sources(retrieval=found):
                        hits = found.hits
                        sources = render_sources(hits)
                    case Final(answer=answer):
                        history[-1]["content"] = render_answer(answer)
                        sources = render_sources(hits, answer) if not answer.refused else sources
                        turns = [*turns, Turn.of(answer).model_dump()]
                    case Delta(text=piece):
                        text += piece
                        # Markers become links once the answer is checked (invalid ones removed).
                        history[-1]["content"] = page_html(
                            page_latex(without_placeholders(text)), cite_links=False
                        )
                yield update()
        except AssistantError as exc:
            history[-1]["content"] = _said(f"⚠ {exc.describe()}")
            yield update()

    def save_chat(turns: list[dict[str, Any]]) -> Any:
        if not turns:
            raise gr.Error("Nothing to save yet: ask a question first.")
        past = [Turn.model_validate(t) for t in turns]
        cited = cited_papers(past, collection.retriever.lexical().papers)
        folder = scratch.new_folder()
        (folder / "conversation.md").write_text(transcript(past, cited))
        files = [str(folder / "conversation.md")]
        if cited:  # the cited papers for a reference manager, beside the conversation
            (folder / "references.bib").write_text(to_bibtex(cited))
            files.append(str(folder / "references.bib"))
        return gr.update(value=files, visible=True)

    turns = gr.State([])
    shown = gr.State([])
    with gr.Row():
        with gr.Column(scale=3):
            # Messages arrive as HTML made inert by assistant.markup; Gradio sanitises once
            # more in the page, keeping the formulas' MathML (which it would show as text).
            chat = gr.Chatbot(
                label="Answers",
                height=480,
                elem_id="chat",
                render_markdown=False,
                sanitize_html=True,
                allow_tags=False,
            )
            chips = gr.HTML(elem_id="chips")
            question = gr.Textbox(
                label="Question",
                placeholder="Ask about the papers…",
                elem_id="question",
                lines=1,
                max_lines=4,
            )
            with gr.Row():
                send = gr.Button("Ask", variant="primary", elem_id="ask")
                new = gr.Button("New chat", elem_id="new-chat")
                save = gr.Button("Save as Markdown", elem_id="save-chat")
            saved = gr.File(
                label="Conversation (Markdown) and its references (BibTeX)",
                file_count="multiple",
                visible=False,
                elem_id="chat-file",
            )
            with gr.Accordion("Filters", open=False):
                author = gr.Textbox(label="Author contains", elem_id="f-author")
                with gr.Row():
                    since = gr.Textbox(label="Since (YYYY[-MM])", elem_id="f-since")
                    until = gr.Textbox(label="Until (YYYY[-MM])", elem_id="f-until")
                venue = gr.Dropdown(
                    ["", *venues], value="", label="Venue or listing", elem_id="f-venue"
                )
                category = gr.Textbox(label="Category contains", elem_id="f-category")
                boxes = [author, since, until, venue, category]  # in _FILTER_FIELDS' order
            gr.Examples(examples, inputs=[question], label="Examples")
        with gr.Column(scale=2):
            gr.Markdown("### Sources")
            sources = gr.HTML("<p>Sources appear here.</p>", elem_id="sources")
    inputs = [question, shown, turns, *boxes]
    outputs = [question, chat, shown, sources, turns, chips]
    question.submit(respond, inputs, outputs)
    send.click(respond, inputs, outputs)
    new.click(
        lambda: ([], [], [], "<p>Sources appear here.</p>", "", gr.update(visible=False)),
        None,
        [chat, shown, turns, sources, chips, saved],
    )
    save.click(save_chat, [turns], [saved])


def _compare_tab(collection: Collection, comparer: Comparer, scratch: _Scratch) -> gr.Dropdown:
    """A comparison table from a prompt or picked papers, with Markdown and CSV downloads;
    returns the paper picker, which the Collection tab keeps up to date."""

    def run_compare(
        prompt: str, ids: list[str] | None, aspects: list[str] | None
    ) -> tuple[str, list[str]]:
        # An aspect of the user's own is a row name: short, and as inert as any other text.
        rows = [a.strip()[:_ASPECT_CHARS] for a in aspects or [] if a.strip()][:_MAX_ASPECTS]
        try:
            table = comparer.compare(prompt or "", ids or [], rows)
        except AssistantError as exc:
            raise _error(exc) from exc
        folder = scratch.new_folder()
        (folder / "comparison.md").write_text(table.markdown())
        (folder / "comparison.csv").write_text(table.csv())
        return page_html(table.markdown(page=True)), [
            str(folder / "comparison.md"),
            str(folder / "comparison.csv"),
        ]

    compare_prompt = gr.Textbox(
        label="What to compare",
        placeholder="e.g. Compare SOAP and MARS, or pick papers below",
        elem_id="compare-prompt",
    )
    picked = gr.Dropdown(
        _paper_choices(collection),
        multiselect=True,
        filterable=True,
        max_choices=8,
        label="Papers (type to search titles)",
        elem_id="compare-papers",
    )
    aspects = gr.Dropdown(
        DEFAULT_ASPECTS,
        value=DEFAULT_ASPECTS,
        multiselect=True,
        allow_custom_value=True,
        max_choices=_MAX_ASPECTS,
        label="Rows (remove some, or type your own and press Enter)",
        elem_id="compare-aspects",
    )
    compare_button = gr.Button("Compare", variant="primary", elem_id="compare-go")
    compare_table = gr.HTML(elem_id="compare-table")
    downloads = gr.File(label="Download", file_count="multiple", elem_id="compare-files")

    inputs = [compare_prompt, picked, aspects]
    compare_button.click(run_compare, inputs, [compare_table, downloads])
    compare_prompt.submit(run_compare, inputs, [compare_table, downloads])
    return picked


def _collection_tab(
    collection: Collection,
    picked: gr.Dropdown,
    blocks: gr.Blocks,
    heading: gr.Markdown,
    timer: gr.Timer,
) -> None:
    """The papers in the collection, searchable; upload adds papers, remove takes them out.
    While the server indexes files (at start), the page follows it every two seconds."""
    retriever = collection.retriever

    def papers_table(query: str) -> tuple[list[list[str]], str]:
        papers = retriever.lexical().papers
        shown = [p for p in papers if not query or query.lower() in p.title.lower()]
        rows = [
            [p.title, ", ".join(p.authors[:3]), p.listed_in or "—", p.date or ""]
            for p in sorted(shown, key=lambda p: p.title.lower())
        ]
        return rows, f"{len(shown)} of {len(papers)} papers"

    def changed(query: str) -> tuple[Any, ...]:
        """The collection's table, count and both paper pickers, as the collection is now
        (after papers came or went, here or through the API)."""
        retriever.refresh()
        rows, count = papers_table(query)
        choices = _paper_choices(collection)
        return rows, count, gr.update(choices=choices, value=[]), gr.update(choices=choices)

    def confirm_removal(ids: list[str] | None) -> tuple[Any, ...]:
        if not ids:
            raise gr.Error("Pick the papers to remove first (type to search their titles).")
        known = retriever.lexical().catalogue
        listed = "".join(
            f"\n- {markdown_text(known[pid].title if pid in known else pid)}" for pid in ids
        )
        message = f"Remove {len(ids)} paper(s)? Only adding them again brings them back.{listed}"
        return gr.update(visible=True), message

    def remove_papers(ids: list[str] | None, query: str) -> tuple[Any, ...]:
        try:
            removed = collection.remove(ids or [])
        except AssistantError as exc:
            raise _error(exc) from exc
        return (*changed(query), gr.update(visible=False), f"Removed {removed} paper(s).")

    def upload(file: str | None) -> tuple[Any, ...]:
        """Start indexing the file behind the page (the tab stays usable, and the page follows
        the job as it follows any other)."""
        if not file:
            raise gr.Error("Choose a file first (JSONL, JSON, CSV, BibTeX, RIS or a listing).")
        with open(file, "rb") as sent:  # Gradio keeps the upload under its own name
            job = collection.start_upload(sent, Path(file).name)
        return _upload_text(job), job.id, gr.Timer(active=True)

    def stop_indexing() -> tuple[Any, ...]:
        """Stop the job indexing now after the batch it is embedding (the papers written so
        far stay; adding the same files again resumes)."""
        job = collection.indexing()
        if job is not None and job.running:
            job = collection.cancel(job.id)
        return _job_text(job), gr.update(interactive=False)

    def follow(query: str, uploaded: str | None) -> tuple[Any, ...]:
        """The heading, the jobs' status, this page's upload and the collection as they are
        now; the timer keeps ticking only while a job runs."""
        job = collection.indexing()
        running = job is not None and job.running
        try:
            upload_text = _upload_text(collection.job(uploaded)) if uploaded else ""
        except KeyError:  # a job of a server since restarted
            upload_text = ""
        rows, count = papers_table(query)
        choices = _paper_choices(collection)  # what was picked stays picked
        return (
            _heading_text(collection, job),
            _job_text(job),
            rows,
            count,
            gr.update(choices=choices),
            gr.update(choices=choices),
            upload_text,
            gr.Timer(active=running),
            gr.update(visible=running, interactive=job is not None and not job.stopping),
        )

    count = gr.Markdown(elem_id="count")
    with gr.Row():
        job_status = gr.Markdown(elem_id="ingest-status")
        stop = gr.Button(
            "Stop indexing", variant="stop", visible=False, elem_id="ingest-stop", scale=0
        )
    search = gr.Textbox(label="Title contains", elem_id="paper-search")
    table = gr.Dataframe(
        headers=["title", "authors", "venue / listing", "date"],
        column_widths=["44%", "26%", "18%", "12%"],
        interactive=False,
        elem_id="papers",
        wrap=True,
    )
    file = gr.File(
        label="Add papers (JSONL, JSON, CSV, BibTeX, RIS or a listing)",
        type="filepath",
        elem_id="upload",
    )
    added = gr.Markdown(elem_id="upload-result")
    with gr.Row():
        doomed = gr.Dropdown(
            _paper_choices(collection),
            multiselect=True,
            filterable=True,
            label="Remove papers (type to search titles)",
            elem_id="remove-papers",
            scale=4,
        )
        remove_button = gr.Button("Remove…", elem_id="remove-go", scale=1)
    with gr.Row(visible=False) as confirm_row:
        confirmation = gr.Markdown(elem_id="remove-confirm")
        really = gr.Button("Remove", variant="stop", elem_id="remove-yes", scale=0)
        keep = gr.Button("Cancel", elem_id="remove-no", scale=0)
    removed = gr.Markdown(elem_id="remove-result")

    search.change(papers_table, [search], [table, count])
    uploaded = gr.State(None)  # this page's last upload job
    file.upload(upload, [file], [added, uploaded, timer])
    remove_button.click(confirm_removal, [doomed], [confirm_row, confirmation])
    keep.click(lambda: gr.update(visible=False), None, confirm_row)
    really.click(
        remove_papers, [doomed, search], [table, count, doomed, picked, confirm_row, removed]
    )
    # Every page load reads the live collection (papers may have come or gone since), and
    # follows an ingest job while one runs.
    followed = [heading, job_status, table, count, doomed, picked, added, timer, stop]
    stop.click(stop_indexing, None, [job_status, stop])
    blocks.load(follow, [search, uploaded], followed)
    timer.tick(follow, [search, uploaded], followed)
