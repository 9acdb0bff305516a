"""Terminal rendering for the CLI: tables, progress, answers with their sources, reports."""

from __future__ import annotations

import contextlib
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from assistant.config import Settings
from assistant.errors import LLMError
from assistant.markup import plain_latex
from assistant.records import (
    SUPPORT_LABELS,
    Answer,
    Filters,
    Hit,
    IngestReport,
    Paper,
    Turn,
    counted,
)

if TYPE_CHECKING:
    from assistant.answer import Answerer
    from assistant.evaluate import AnswerReport, RetrievalReport
    from assistant.retrieve import Retrieval

err = Console(stderr=True)


def print_ingest_report(report: IngestReport) -> None:
    for path, count in report.per_file.items():
        click.echo(f"  {path}: {count} papers")
    click.echo(
        f"{report.records_read} records read, merged into "
        f"{report.added + report.updated + report.unchanged} papers: "
        f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.skipped)} skipped ({report.embedded_chunks} chunks and "
        f"{report.embedded_whole} whole abstracts embedded in {report.seconds:.1f}s)"
    )
    if report.coverage_threshold is not None:
        click.echo(
            f"coverage threshold {report.coverage_threshold:.3f} "
            "(a question whose best similarity is below it, and whose terms no paper holds, "
            "is answered with a caveat, or refused when far below)"
        )
    if report.removed_partial:
        click.echo(
            f"  {report.removed_partial} papers left half-written by an earlier run were redone"
        )
    for skipped in report.skipped:
        click.echo(f"  skipped {skipped}", err=True)


@contextlib.contextmanager
def progress_reporter(
    doing: str = "embedding", what: str = "papers"
) -> Iterator[Callable[[int, int], None]]:
    """A progress bar (rate, ETA) on a terminal; plain "done N/M" lines otherwise."""
    if not err.is_terminal:

        def log(done: int, total: int) -> None:
            if total and done and doing == "embedding":
                click.echo(f"committed {done}/{total} {what}", err=True)
            elif total and done == total:
                click.echo(f"{doing} {total} {what}: done", err=True)
            elif total and not done:
                click.echo(f"{doing} {total} {what}", err=True)

        yield log
        return
    with Progress(
        TextColumn(doing),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(what + " · {task.fields[rate]}/s ·"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        transient=doing != "embedding",
    ) as progress:
        task = progress.add_task(doing, total=None, rate="-")
        started = time.perf_counter()

        def show(done: int, total: int) -> None:
            rate = done / max(time.perf_counter() - started, 1e-6)
            progress.update(task, completed=done, total=total, rate=f"{rate:.1f}")

        yield show


def paper_row(paper: Paper) -> dict[str, Any]:
    return {
        "id": paper.paper_id,
        "title": paper.title,
        "authors": paper.authors,
        "author_count": paper.author_count,
        "organization": paper.organization,
        "venue": paper.listed_in,
        "date": paper.date,
        "upvotes": paper.upvotes,
        "categories": paper.categories,
        "sources": paper.sources,
        "doi": paper.doi,
        "arxiv_id": paper.arxiv_id,
    }


def authors_cell(paper: Paper) -> str:
    if paper.authors:
        more = f" +{len(paper.authors) - 3}" if len(paper.authors) > 3 else ""
        return ", ".join(paper.authors[:3]) + more
    if paper.author_count:
        return counted(paper.author_count, "author")
    return paper.organization or "—"


def print_hits(found: Retrieval, fmt: str) -> None:
    hits = found.hits
    if fmt == "json":
        from assistant.retrieve import SearchResponse

        click.echo(SearchResponse.of(found).model_dump_json(indent=2))
        return
    if found.query.recognised:
        click.echo("understood: " + "; ".join(found.query.recognised))
    if found.unread_note:
        click.echo(f"NOTE: {found.unread_note}")
    if found.average is not None:
        from assistant.extract import average_note

        click.echo(average_note(found))
    if found.query.tally is not None and hits:
        from assistant.extract import tally_note

        click.echo(tally_note(found))
    elif found.query.listing and hits:
        more = "" if len(hits) >= found.matching else f" (-k {found.matching} shows them all)"
        click.echo(f"{counted(found.matching, 'paper')} match; {len(hits)} listed{more}.")
    if not hits:
        # A question that was nothing but a constraint no filter could use: its NOTE says it.
        if found.doubt is not None:  # "Hi!": nothing to search for
            click.echo(found.doubt)
        elif not (found.query.filters.empty and found.unread_note):
            click.echo(f"No paper matches ({found.matching} pass the metadata constraints).")
        return
    if not found.covered:
        click.echo(
            f"The collection does not seem to cover this: the best match has similarity "
            f"{found.relevance or 0:.2f} (the collection's threshold is {found.threshold or 0:.2f})"
            f" and the best keyword matches hold {found.lexical_coverage or 0:.0%} of the "
            f"question's terms (threshold {found.lexical_threshold or 0:.0%}). Nearest papers:"
        )
    elif found.coverage_verdict == "uncertain":
        doubt = f"{found.doubt} " if found.doubt else ""
        click.echo(f"UNCERTAIN: {doubt}The collection may not cover this question.")
    table = Table(show_lines=True)
    for column in ("#", "score", "paper", "matching text"):
        table.add_column(column, overflow="fold")
    for hit in hits:
        paper = hit.paper
        where = paper.listed_in or "—"
        table.add_row(
            str(hit.rank),
            # Listed, or put first by a name it introduces without being found: not scored.
            "—"
            if found.query.listing or (hit.score == 0 and hit.similarity is None)
            else f"{hit.score:.3f}",
            f"[bold]{escape(plain_latex(paper.title))}[/bold]\n"
            + escape(f"{authors_cell(paper)} · {where} · {paper.date or 'n.d.'}\n{paper.paper_id}"),
            escape(
                (hit.chunks[0][:400] + "…")
                if hit.chunks and len(hit.chunks[0]) > 400
                else (hit.chunks or [""])[0]
            ),
        )
    Console().print(table)
    # Under the table, whole: a table cell folds a long URL into pieces no terminal can open.
    for hit in hits:
        for url in hit.paper.links.values():
            click.echo(f"[{hit.rank}] {url}")


def print_sources(answer: Answer, hits: Sequence[Hit] = ()) -> None:
    """The sources under an answer: each cited paper (with its DOI and arXiv pages when
    ``hits`` has it), and whether the claims hold up."""
    papers = {h.paper.paper_id: h.paper for h in hits}
    if answer.coverage.caveat:  # a refusal's too: a constraint it could not use, say
        click.echo("")
        label = "UNCERTAIN" if answer.coverage.verdict == "uncertain" else "NOTE"
        click.echo(f"{label}: {answer.coverage.caveat}")
    if answer.refused:
        return
    click.echo("")
    click.echo("Sources:")
    for citation in answer.citations:
        title = plain_latex(citation.title)
        click.echo(f"  [{citation.n}] {title} ({SUPPORT_LABELS[citation.support]})")
        cited = papers.get(citation.paper_id)
        for url in cited.links.values() if cited else ():
            click.echo(f"      {url}")
    unsupported = [c for c in answer.claims if c.support == "unsupported"]
    if unsupported:
        click.echo(f"  {len(unsupported)} sentence(s) are not supported by the paper they cite.")
    uncited = [c for c in answer.claims if c.support == "uncited"]
    if uncited:
        click.echo(
            f"  {len(uncited)} sentence(s) cite nothing, and no retrieved paper supports them."
        )
    if answer.receipt.added_citations:
        click.echo(
            f"  {answer.receipt.added_citations} citation(s) were added by the checker "
            "(the model cited nothing there)."
        )
    if not answer.grounded:
        click.echo("")
        click.echo(f"NOT GROUNDED: {answer.ungrounded_notice()}")
        click.echo("")
        click.echo(answer.extracted or "")
    if answer.receipt.invalid_citations:
        click.echo(
            f"  {answer.receipt.invalid_citations} citation(s) to no retrieved paper were removed."
        )
    if answer.receipt.support_checker == "model":
        click.echo("  Support was judged by the model; --format json shows the offline verdicts.")
    if answer.receipt.judge_error:
        click.echo(f"  Note: {answer.receipt.judge_error}")


def stream_answer(
    answerer: Answerer, question: str, history: list[Turn], filters: Filters | None, fmt: str
) -> Answer:
    """Stream the answer's text (``fmt`` "text"), then its sources; or print it as JSON."""
    from assistant.answer import Delta, Final, Sources  # the pipeline loads only when used

    result: Answer | None = None
    hits: list[Hit] = []
    plain = _Unbold()
    try:
        for event in answerer.stream(question, history, filters):
            match event:
                case Sources(retrieval=found):
                    hits = found.hits
                case Final(answer=answer):
                    result = answer
                    if fmt == "text":
                        click.echo(plain.flush(), nl=False)
                case Delta(text=text) if fmt == "text":
                    click.echo(plain.feed(text), nl=False)
    except LLMError as exc:
        if exc.sources:  # the papers are still worth reading
            click.echo("\nThe model failed; the papers retrieved for the question:", err=True)
            for hit in exc.sources:
                click.echo(f"  [{hit.rank}] {hit.paper.title}", err=True)
        raise
    assert result is not None
    if fmt == "json":
        click.echo(result.model_dump_json(indent=2))
    else:
        click.echo("")
        print_sources(result, hits)
    return result


class _Unbold:
    """Streamed text without Markdown's ``**`` bold markers, which a terminal shows as they are,
    and with inline LaTeX as printed ("E$^3$" is "E^3"). A piece ending in one "*" keeps it
    until the next piece says whether it starts a pair.

    >>> plain = _Unbold()
    >>> plain.feed("- *") + plain.feed("*SOAP** says") + plain.flush()
    '- SOAP says'
    """

    def __init__(self) -> None:
        self.pending = ""

    def feed(self, text: str) -> str:
        text, self.pending = self.pending + text, ""
        if text.endswith("*") and not text.endswith("**"):
            text, self.pending = text[:-1], "*"
        return plain_latex(text.replace("**", ""))

    def flush(self) -> str:
        held, self.pending = self.pending, ""
        return held


def print_papers(found: Sequence[Paper], total: int) -> None:
    """The papers as a table: id, title, authors, venue or source, date, categories."""
    shown = f"{len(found)} of {total}" if len(found) < total else len(found)
    table = Table(title=f"{shown} papers", show_lines=False)
    for column in ("id", "title", "authors", "venue / source", "date", "categories"):
        table.add_column(column, overflow="fold")
    for paper in found:
        # rich reads "[...]" in a string as markup: a title's "[link=...]" must stay text.
        table.add_row(
            *map(
                escape,
                (
                    paper.paper_id,
                    paper.title,
                    authors_cell(paper),
                    paper.listed_in or "—",
                    paper.date or "—",
                    "; ".join(c.split(" > ")[-1] for c in paper.categories) or "—",
                ),
            )
        )
    # Piped, rich would lay the table out for 80 columns and wrap titles every few characters.
    Console(width=None if sys.stdout.isatty() else 240).print(table)


def print_answer_report(report: AnswerReport) -> None:
    """The answer evaluation's summary, one line per question type."""
    click.echo(
        f"citation validity {report.citation_validity}, refused: "
        f"{report.refused_absent} of unanswerable, {report.refused_answerable} "
        "of answerable questions"
    )
    for kind, row in report.by_type.items():
        click.echo(
            f"  {kind:<11} n={row.questions:<3} gold cited {row.gold_cited or 0:.2f}"
            f"  all gold cited {row.all_gold_cited or 0:.2f}"
            f"  of the cited, gold {row.cited_gold_share or 0:.2f}"
            f"  key facts {row.key_facts_mean:.2f}"
            f"  words {row.words_mean:.0f}"
        )


def print_retrieval_report(report: RetrievalReport, name: str) -> None:
    """The retrieval evaluation: recall and MRR per question type, then the coverage verdict."""
    table = Table(title=f"retrieval on {name}")
    for column in ("type", "questions", "recall@1", "recall@5", "recall@10", "MRR"):
        table.add_column(column, justify="right")
    for kind, row in sorted(report.by_type.items(), key=lambda kv: kv[0] == "all"):
        metrics = (row.recall_1, row.recall_5, row.recall_10, row.mrr)
        table.add_row(escape(kind), str(row.questions), *(f"{v:.3f}" for v in metrics))
    Console().print(table)
    coverage = report.coverage
    if coverage.threshold is None:
        click.echo("no coverage thresholds yet: run `assistant ingest` on your files again")
    elif coverage.absent_questions:
        click.echo(
            f"coverage verdict (threshold {coverage.threshold:.3f}): "
            f"{coverage.absent_detected or 0:.0%} of {coverage.absent_questions} unanswerable "
            f"questions refused ({coverage.absent_flagged or 0:.0%} refused or marked uncertain); "
            f"of {coverage.answerable_questions} answerable ones "
            f"{coverage.false_alarms or 0:.0%} refused, "
            f"{coverage.answerable_uncertain or 0:.0%} marked uncertain"
        )


def typed_lines() -> Iterator[str]:
    """Lines typed at a "> " prompt until Ctrl-D; on a terminal with line editing and the
    session's earlier lines on the arrow keys. Ctrl-C at the prompt gives a fresh one."""
    if sys.stdin.isatty():
        with contextlib.suppress(ImportError):  # not on every platform's Python
            import readline  # noqa: F401 (input() then edits lines and keeps a history)
    while True:
        try:
            yield input("> ")
        except KeyboardInterrupt:
            click.echo("")
        except EOFError:
            click.echo("")
            return


@contextlib.contextmanager
def interruptible(what: str) -> Iterator[None]:
    """Ctrl-C stops the current search or answer (which is then forgotten), not the session."""
    try:
        yield
    except KeyboardInterrupt:
        click.echo(f"\n({what} stopped)", err=True)


def save_transcript(name: str, history: list[Turn], answerer: Answerer) -> None:
    """The chat's /save: the conversation as Markdown, ending with the cited papers' BibTeX."""
    from assistant.conversation import cited_papers, transcript

    if not name:
        click.echo("error: name the file, e.g. /save conversation.md", err=True)
        return
    path = Path(name).expanduser()
    try:
        cited = cited_papers(history, answerer.retriever.lexical().papers)
        path.write_text(transcript(history, cited))
    except OSError as exc:
        click.echo(f"error: cannot write {path} ({exc.strerror}); try another path", err=True)
        return
    click.echo(f"(saved {len(history)} exchange(s) to {path})")


def summarize_store(settings: Settings) -> None:
    """Print the size and make-up of the collection."""
    from assistant.embed import embedder_name
    from assistant.store import open_store

    with open_store(settings.store, embedder_name(settings.embed)) as store:
        found = store.papers()
        chunks = store.count_chunks()
    sources = Counter(s for p in found for s in p.sources)
    click.echo(
        f"{len(found)} papers ({chunks} chunks) in {settings.store.url or settings.store.path}"
    )
    for source, count in sources.most_common():
        click.echo(f"  {count:4d}  {source}")
