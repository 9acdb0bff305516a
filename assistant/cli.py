"""The `assistant` command line; AssistantError -> exit status 1 with a readable message."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from pydantic import ValidationError
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
from assistant.errors import AssistantError, ConfigError, LLMError, UnknownPaperError
from assistant.records import (
    DATE_PATTERN,
    IngestReport,
    Paper,
    counted,
    normalize_title,
    papers_named,
    similar_titles,
)

if TYPE_CHECKING:
    from assistant.answer import Answer, Answerer, Turn
    from assistant.retrieve import Retrieval

err = Console(stderr=True)


class _Group(click.Group):
    """Turns our errors into one readable line and exit status 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AssistantError as exc:
            raise click.ClickException(exc.describe()) from exc


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    "store_path",
    type=click.Path(file_okay=False, path_type=Path),
    help="Store directory (setting store.path, env ASSISTANT_STORE__PATH; default store/).",
)
@click.version_option(package_name="assistant")
@click.pass_context
def main(ctx: click.Context, store_path: Path | None) -> None:
    """Chat with a collection of research-paper abstracts, offline, with checked citations.

    Start with `assistant ingest data/`, then `assistant search "your question"`.
    """
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise click.ClickException(
            ConfigError(
                f"Invalid setting {where}: {first['msg']}",
                hint="fix the ASSISTANT_* environment variable; `assistant config` shows them all",
            ).describe()
        ) from exc
    if store_path is not None:
        settings.store = settings.store.model_copy(update={"path": store_path})
    ctx.obj = settings
    # Our own notices (a one-time model build) go to stderr; other libraries' logs stay quiet.
    notices = logging.getLogger("assistant")
    if not notices.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        notices.addHandler(handler)
        notices.setLevel(logging.INFO)


def _print_report(report: IngestReport) -> None:
    for path, count in report.per_file.items():
        click.echo(f"  {path}: {count} papers")
    click.echo(
        f"{report.records_read} records read, merged into "
        f"{report.added + report.updated + report.unchanged} papers: "
        f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.skipped)} skipped ({report.embedded_chunks} chunks embedded "
        f"in {report.seconds:.1f}s)"
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
def _progress_reporter(
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


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--batch", default=32, show_default=True, help="Papers embedded and committed together."
)
@click.option(
    "--listing-year",
    type=int,
    help="Year of listings whose dates omit it (default: one past the newest year they show).",
)
@click.pass_context
def ingest(
    ctx: click.Context, paths: tuple[Path, ...], batch: int, listing_year: int | None
) -> None:
    """Add the papers in PATHS (files or folders: listings, JSONL, CSV) to the store.

    Re-running is cheap: unchanged papers are skipped, changed ones replaced, and an
    interrupted run resumes where it stopped.
    """
    from assistant.ingest import ingest as run_ingest

    settings = bulk_embedding(_settings(ctx))
    with (
        _progress_reporter() as on_progress,
        _progress_reporter("calibrating coverage on", "generated questions") as on_calibrate,
    ):
        report = run_ingest(
            paths,
            settings,
            batch_papers=batch,
            listing_year=listing_year,
            on_progress=on_progress,
            on_calibrate=on_calibrate,
        )
    _print_report(report)


def bulk_embedding(settings: Settings) -> Settings:
    """``settings`` for embedding many texts: the model's threads spin between calls (about
    5 % faster) unless ASSISTANT_EMBED__SPIN says otherwise."""
    if "spin" in settings.embed.model_fields_set:
        return settings
    return settings.model_copy(update={"embed": settings.embed.model_copy(update={"spin": True})})


F = TypeVar("F", bound=Callable[..., Any])


def _date_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not re.fullmatch(DATE_PATTERN, value):
        raise click.BadParameter(f"{value[:40]!r} is not a date: write YYYY, YYYY-MM or YYYY-MM-DD")
    return value


def _filter_options(command: F) -> F:
    """The metadata filter options shared by search, ask and chat."""
    options = [
        click.option(
            "--author", help="Only papers with an author whose name contains this (any case)."
        ),
        click.option(
            "--since",
            callback=_date_option,
            help="Only papers dated on or after YYYY, YYYY-MM or YYYY-MM-DD.",
        ),
        click.option(
            "--until",
            callback=_date_option,
            help="Only papers dated on or before YYYY, YYYY-MM or YYYY-MM-DD.",
        ),
        click.option(
            "--venue", help="Only papers whose venue or listing contains this (e.g. ICLR, arXiv)."
        ),
        click.option("--category", help="Only papers with a subject category containing this."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _paper_row(paper: Paper) -> dict[str, Any]:
    return {
        "id": paper.paper_id,
        "title": paper.title,
        "authors": paper.authors,
        "author_count": paper.author_count,
        "organization": paper.organization,
        "venue": paper.venue or ", ".join(paper.sources),
        "date": paper.date,
        "upvotes": paper.upvotes,
        "categories": paper.categories,
        "sources": paper.sources,
    }


def _authors_cell(paper: Paper) -> str:
    if paper.authors:
        more = f" +{len(paper.authors) - 3}" if len(paper.authors) > 3 else ""
        return ", ".join(paper.authors[:3]) + more
    if paper.author_count:
        return counted(paper.author_count, "author")
    return paper.organization or "—"


def _stored_papers(settings: Settings) -> list[Paper]:
    from assistant.embed import embedder_name
    from assistant.store import open_store

    with open_store(settings.store, embedder_name(settings.embed)) as store:
        return store.papers()


@main.command()
@click.option(
    "--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True
)
@click.option("--title", help="Only papers whose title contains this (case and punctuation aside).")
@_filter_options
@click.pass_context
def papers(ctx: click.Context, /, fmt: str, title: str | None, **filter_args: str | None) -> None:
    """List the papers in the store: id, title, authors, venue or source, date, categories."""
    from assistant.records import Filters

    everything = _stored_papers(_settings(ctx))
    filters = Filters.model_validate(filter_args)
    wanted = normalize_title(title or "")
    found = [p for p in everything if filters.accepts(p) and wanted in normalize_title(p.title)]
    if fmt == "jsonl":
        for paper in found:
            click.echo(json.dumps(_paper_row(paper), ensure_ascii=False))
        return
    shown = f"{len(found)} of {len(everything)}" if len(found) < len(everything) else len(found)
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
                    _authors_cell(paper),
                    paper.venue or ", ".join(paper.sources),
                    paper.date or "—",
                    "; ".join(c.split(" > ")[-1] for c in paper.categories) or "—",
                ),
            )
        )
    # Piped, rich would lay the table out for 80 columns and wrap titles every few characters.
    Console(width=None if sys.stdout.isatty() else 240).print(table)


@main.command()
@click.argument("references", metavar="PAPER...", nargs=-1, required=True)
@click.option("--yes", "-y", is_flag=True, help="Remove without asking.")
@click.pass_context
def remove(ctx: click.Context, references: tuple[str, ...], yes: bool) -> None:
    """Remove papers from the store; each PAPER is an id or a title, whole or in part.

    Every PAPER must name exactly one paper, or nothing is removed. The BM25 index and the
    coverage thresholds follow. Ingesting a file that holds a removed paper adds it back.
    """
    from assistant.ingest import remove as run_remove

    settings = _settings(ctx)
    everything = _stored_papers(settings)
    chosen: dict[str, Paper] = {}
    for reference in references:
        named = papers_named(reference, everything)
        if len(named) > 1:
            raise UnknownPaperError(
                f"{reference!r} is in {len(named)} titles: "
                + "; ".join(p.title for p in named[:5])
                + ("; …" if len(named) > 5 else ""),
                hint="give more of the title, or the id (`assistant papers --title ...`)",
            )
        if not named:
            close = similar_titles(reference, everything, n=3, cutoff=0.6)
            raise UnknownPaperError(
                f"No paper has the id or a title like {reference!r}",
                hint=(
                    f"did you mean {' or '.join(repr(p.title) for p in close)}? " if close else ""
                )
                + "list ids and titles with `assistant papers --title WORDS`",
            )
        chosen[named[0].paper_id] = named[0]
    for paper in chosen.values():
        click.echo(f"  {paper.paper_id}  {paper.title}")
    if not yes:
        try:
            agreed = click.confirm(f"Remove {len(chosen)} paper(s)?", default=False)
        except click.Abort:  # no answer (no terminal): nothing is removed
            agreed = False
        if not agreed:
            raise click.ClickException("Nothing removed (answer y, or pass --yes)")
    with _progress_reporter("calibrating coverage on", "generated questions") as on_calibrate:
        removed = run_remove(chosen, settings, on_calibrate=on_calibrate)
    click.echo(
        f"Removed {removed} paper(s); {len(everything) - removed} remain. "
        "Ingesting a file that holds them adds them back."
    )


def _print_hits(found: Retrieval, fmt: str) -> None:
    hits = found.hits
    if fmt == "json":
        body = {
            "covered": found.covered,
            "relevance": found.relevance,
            "threshold": found.threshold,
            "lexical_coverage": found.lexical_coverage,
            "lexical_threshold": found.lexical_threshold,
            "matching": found.matching,
            "recognised": found.query.recognised,
            "topic": found.query.topic,
            "hits": [
                {
                    "rank": h.rank,
                    "score": h.score,
                    "similarity": h.similarity,
                    **_paper_row(h.paper),
                    "chunks": h.chunks,
                }
                for h in hits
            ],
        }
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    if found.query.recognised:
        click.echo("understood: " + "; ".join(found.query.recognised))
    if found.query.listing and hits:
        more = "" if len(hits) >= found.matching else f" (-k {found.matching} shows them all)"
        click.echo(f"{counted(found.matching, 'paper')} match; {len(hits)} listed{more}.")
    if not hits:
        click.echo(f"No paper matches ({found.matching} pass the metadata constraints).")
        return
    if not found.covered:
        click.echo(
            f"The collection does not seem to cover this: the best match has similarity "
            f"{found.relevance or 0:.2f} (the collection's threshold is {found.threshold or 0:.2f})"
            f" and the top paper holds {found.lexical_coverage or 0:.0%} of the question's "
            f"terms (threshold {found.lexical_threshold or 0:.0%}). Nearest papers:"
        )
    table = Table(show_lines=True)
    for column in ("#", "score", "paper", "matching text"):
        table.add_column(column, overflow="fold")
    for hit in hits:
        paper = hit.paper
        where = paper.venue or ", ".join(paper.sources)
        table.add_row(
            str(hit.rank),
            "—" if found.query.listing else f"{hit.score:.3f}",  # listed, not ranked by score
            f"[bold]{escape(paper.title)}[/bold]\n"
            + escape(
                f"{_authors_cell(paper)} · {where} · {paper.date or 'n.d.'}\n{paper.paper_id}"
            ),
            escape(
                (hit.chunks[0][:400] + "…")
                if hit.chunks and len(hit.chunks[0]) > 400
                else (hit.chunks or [""])[0]
            ),
        )
    Console().print(table)


@main.command()
@click.argument("question", required=False)
@click.option(
    "-k",
    "k",
    type=click.IntRange(1, 100),
    default=None,
    help="Papers to return (default: retrieval.top_k).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@_filter_options
@click.pass_context
def search(
    ctx: click.Context, /, question: str | None, k: int | None, fmt: str, **filter_args: str | None
) -> None:
    """Find the papers that best match QUESTION; without QUESTION, ask interactively.

    Hybrid search: BM25 over titles and abstracts plus dense search over chunks, fused
    per paper. Constraints stated in the question ("papers by Fortuin", "posted in June 2024",
    "single-author", "2 upvotes", "the most authors") are applied like the options; a question
    the collection does not cover is said to be so.
    """
    from assistant.records import Filters
    from assistant.retrieve import Retriever

    filters = Filters.model_validate(filter_args)
    settings = _settings(ctx)
    retriever = ctx.with_resource(Retriever(settings))
    # A question that only lists papers by metadata shows every match (up to list_max) unless
    # -k says how many.
    listing_k = None if k is not None else settings.retrieval.list_max
    if question is not None:
        _print_hits(retriever.retrieve(question, k, filters, listing_k=listing_k), fmt)
        return
    summarize_store(_settings(ctx))
    click.echo("Type a question and press Enter (Ctrl-D to quit).")
    for line in _typed_lines():
        if line.strip():
            try:
                with _interruptible("search"):
                    _print_hits(retriever.retrieve(line, k, filters, listing_k=listing_k), fmt)
            except AssistantError as exc:
                click.echo(f"error: {exc.describe()}", err=True)


def _typed_lines() -> Iterator[str]:
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
def _interruptible(what: str) -> Iterator[None]:
    """Ctrl-C stops the current search or answer (which is then forgotten), not the session."""
    try:
        yield
    except KeyboardInterrupt:
        click.echo(f"\n({what} stopped)", err=True)


def _save_transcript(name: str, history: list[Turn]) -> None:
    from assistant.answer import transcript

    if not name:
        click.echo("error: name the file, e.g. /save conversation.md", err=True)
        return
    path = Path(name).expanduser()
    try:
        path.write_text(transcript(history))
    except OSError as exc:
        click.echo(f"error: cannot write {path} ({exc.strerror}); try another path", err=True)
        return
    click.echo(f"(saved {len(history)} exchange(s) to {path})")


def summarize_store(settings: Settings) -> None:
    """Print the size and make-up of the collection."""
    from collections import Counter

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


def _answerer(ctx: click.Context) -> Answerer:
    from assistant.answer import Answerer

    answerer = Answerer(_settings(ctx))
    ctx.call_on_close(answerer.close)
    return answerer


def _print_sources(answer: Answer) -> None:
    """The sources under an answer: each cited paper, and whether the claims hold up."""
    if answer.refused:
        return
    if answer.coverage.caveat:
        click.echo("")
        label = "UNCERTAIN" if answer.coverage.verdict == "uncertain" else "NOTE"
        click.echo(f"{label}: {answer.coverage.caveat}")
    click.echo("")
    click.echo("Sources:")
    marks = {"supported": "supported", "weak": "weakly supported", "unsupported": "NOT supported"}
    for citation in answer.citations:
        click.echo(f"  [{citation.n}] {citation.title} ({marks[citation.support]})")
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
        click.echo(
            f"NOT GROUNDED: only {answer.grounded_share or 0:.0%} of the claims above are "
            "supported by the sources. The answer extracted from the same sources:"
        )
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


def _stream_answer(
    answerer: Answerer, question: str, history: list[Any], filters: Any, fmt: str
) -> Answer:
    from assistant.answer import Answer

    result: Answer | None = None
    try:
        for event in answerer.stream(question, history, filters):
            if isinstance(event, Answer):
                result = event
            elif isinstance(event, str) and fmt == "text":
                click.echo(event, nl=False)
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
        _print_sources(result)
    return result


@main.command()
@click.argument("question")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@_filter_options
@click.pass_context
def ask(ctx: click.Context, /, question: str, fmt: str, **filter_args: str | None) -> None:
    """Answer QUESTION from the collection, citing the papers each sentence comes from.

    With a model configured (ASSISTANT_LLM__BASE_URL, OPENAI_API_KEY or ASSISTANT_LLM__GGUF)
    the answer is generated and streamed; otherwise it is extracted from the abstracts. Every
    citation is checked against the cited abstract. A question the collection does not cover
    is refused, with the nearest papers. --format json prints the whole Answer record.
    """
    from assistant.records import Filters

    _stream_answer(_answerer(ctx), question, [], Filters.model_validate(filter_args), fmt)


@main.command()
@_filter_options
@click.pass_context
def chat(ctx: click.Context, /, **filter_args: str | None) -> None:
    """Talk with the collection: follow-up questions refer to earlier answers.

    Type a question and press Enter; "compare X with Y" (or "compare papers 1 and 3") answers
    with a comparison table; "/new" starts a new conversation; Ctrl-D quits.
    """
    from assistant.answer import Turn
    from assistant.compare import Comparer, is_comparison
    from assistant.records import Filters

    answerer = _answerer(ctx)
    filters = Filters.model_validate(filter_args)
    history: list[Turn] = []
    click.echo(
        "Ask about the papers (/new starts over, /save FILE writes the conversation as "
        "Markdown, Ctrl-C stops an answer, Ctrl-D quits)."
    )
    for line in _typed_lines():
        question = line.strip()
        if question == "/new":
            history.clear()
            click.echo("(new conversation)")
        elif question.startswith("/save"):
            _save_transcript(question.removeprefix("/save").strip(), history)
        elif question:
            try:
                with _interruptible("answer"):
                    if is_comparison(question):
                        table = Comparer(answerer).compare(question, history=history)
                        click.echo(table.markdown())
                        continue
                    answer = _stream_answer(answerer, question, history, filters, "text")
                    history.append(Turn.of(answer))
                    if answer.receipt.rewritten_query != question:
                        click.echo(f"(searched for: {answer.receipt.rewritten_query})")
            except AssistantError as exc:
                click.echo(f"error: {exc.describe()}", err=True)


@main.command()
@click.option("--host", help="Address to listen on (setting api.host; default 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (setting api.port; 8000).")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Server processes (setting api.workers; 1). More than one needs a Chroma server "
    "(ASSISTANT_STORE__URL).",
)
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the HTTP API (docs at /docs) and the browser UI (at /ui)."""
    from assistant.api import check_address, run_server
    from assistant.gate import loopback_host

    settings = _settings(ctx)
    api = settings.api.model_copy(
        update={
            k: v
            for k, v in {"host": host, "port": port, "workers": workers}.items()
            if v is not None
        }
    )
    settings = settings.model_copy(update={"api": api})
    if not loopback_host(api.host) and api.token is None and not api.allow_remote:
        raise ConfigError(
            f"Refusing to listen on {api.host} without a token: anyone on the network could use it",
            hint="set ASSISTANT_API__TOKEN (clients send 'Authorization: Bearer ...'), or "
            "ASSISTANT_API__ALLOW_REMOTE=true to accept the risk",
        )
    if api.workers > 1 and not settings.store.url:
        raise ConfigError(
            f"Refusing to start {api.workers} workers on the embedded store at "
            f"{settings.store.path}: Chroma's embedded store is not safe to share between "
            "processes",
            hint=f"serve the store with `chroma run --path {settings.store.path} --port 8001` and "
            "set ASSISTANT_STORE__URL=http://127.0.0.1:8001, or use one worker",
        )
    check_address(api.host, api.port)
    from assistant.store import hold_for_serving

    hold_for_serving(settings.store)
    click.echo(
        f"serving http://{api.host}:{api.port}/ui/ (browser) and the API "
        f"(docs: http://{api.host}:{api.port}/docs)"
        + (f" with {api.workers} workers" if api.workers > 1 else ""),
        err=True,
    )
    run_server(settings)


@main.command()
@click.argument("prompt", required=False, default="")
@click.option("--paper", "paper_ids", multiple=True, help="A paper id to include (repeatable).")
@click.option("--aspect", "aspects", multiple=True, help="An aspect row (repeatable).")
@click.option(
    "--format", "fmt", type=click.Choice(["md", "csv", "json"]), default="md", show_default=True
)
@click.pass_context
def compare(
    ctx: click.Context, prompt: str, paper_ids: tuple[str, ...], aspects: tuple[str, ...], fmt: str
) -> None:
    """Compare papers named in PROMPT (titles, short names, descriptions, ids) or by --paper.

    One column per paper, one row per aspect (problem, method, data, result, limitations,
    venue/date unless --aspect says otherwise); every cell comes from that paper's abstract and
    cites it, or says "not stated in the abstract".
    """
    from assistant.compare import Comparer, as_format

    table = Comparer(_answerer(ctx)).compare(prompt, paper_ids, aspects)
    click.echo(as_format(table, fmt))


@main.command(name="eval")
@click.argument("questions", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--k",
    "k",
    type=click.IntRange(1, 100),
    default=10,
    show_default=True,
    help="Papers per question.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option(
    "--answers",
    is_flag=True,
    help="Evaluate answers instead: citations valid, gold papers cited, refusals, key facts.",
)
@click.option(
    "--generate",
    type=click.IntRange(1, 100000),
    help="Write N questions generated from the collection's abstracts to QUESTIONS instead.",
)
@click.option(
    "--expand",
    is_flag=True,
    help="Search each question with the configured model's sketch of a matching paper too "
    "(as ASSISTANT_LLM__EXPAND does when answering); needs a model.",
)
@click.pass_context
def evaluate_cmd(
    ctx: click.Context,
    questions: Path,
    k: int,
    fmt: str,
    answers: bool,
    generate: int | None,
    expand: bool,
) -> None:
    """Measure retrieval on QUESTIONS (JSONL: question, type, gold_titles).

    Prints recall@1/5/10 and MRR per question type, and how well the coverage verdict
    separates questions without gold papers (type "absent") from answerable ones.
    With --generate N, writes N questions built from the collection's own abstracts (each
    with its source paper as gold) to QUESTIONS, to evaluate a collection of your own.
    With --answers, every question is answered (by the configured model, or extractively)
    and the answers are scored; use it to measure your own model.
    """
    from assistant.evaluate import dump, evaluate, load_questions
    from assistant.retrieve import Retriever

    retriever = ctx.with_resource(Retriever(_settings(ctx)))
    if generate is not None:
        from assistant.calibrate import generate_questions

        made = generate_questions(retriever.lexical().papers, generate)
        questions.write_text("".join(q.model_dump_json() + "\n" for q in made))
        click.echo(f"wrote {len(made)} questions to {questions}; run: assistant eval {questions}")
        return
    if not questions.exists():
        raise click.BadParameter(f"{questions} does not exist", param_hint="QUESTIONS")
    if answers:
        from assistant.answer import Answerer
        from assistant.evaluate import evaluate_answers

        answerer = Answerer(_settings(ctx), retriever)
        scored = evaluate_answers(answerer, load_questions(questions))
        if fmt == "json":
            click.echo(dump(scored))
            return
        summary = scored["summary"]
        click.echo(
            f"citation validity {summary['citation_validity']}, refused: "
            f"{summary['refused_absent']} of unanswerable, {summary['refused_answerable']} "
            "of answerable questions"
        )
        for kind, row in summary.items():
            if isinstance(row, dict):
                click.echo(
                    f"  {kind:<11} n={row['questions']:<3} gold cited {row['gold_cited']:.2f}"
                    f"  all gold cited {row['all_gold_cited']:.2f}"
                    f"  of the cited, gold {row['cited_gold_share'] or 0:.2f}"
                    f"  key facts {row['key_facts_mean']:.2f}"
                    f"  words {row['words_mean']:.0f}"
                )
        return
    sketch = None
    if expand:
        from assistant.answer import Answerer

        settings = _settings(ctx)
        if not settings.llm.configured:
            raise ConfigError(
                "--expand needs a model to write the sketches",
                hint="set ASSISTANT_LLM__BASE_URL (and ASSISTANT_LLM__MODEL) or OPENAI_API_KEY",
            )
        expander = Answerer(settings, retriever)
        ctx.call_on_close(expander.close)

        def sketch(question: str) -> str:
            text, error = expander.expand(question, always=True)
            if error:  # a measurement must not quietly mix expanded and plain searches
                raise AssistantError(
                    f"The model could not expand {question[:60]!r}: {error}",
                    hint="check the model server, or run without --expand",
                )
            return text or ""

    report = evaluate(retriever, load_questions(questions), k, sketch)
    if fmt == "json":
        click.echo(dump(report))
        return
    table = Table(title=f"retrieval on {questions.name}")
    for column in ("type", "questions", "recall@1", "recall@5", "recall@10", "MRR"):
        table.add_column(column, justify="right")
    ranked = {kind: row for kind, row in report["summary"].items() if kind != "coverage"}
    for kind, row in sorted(ranked.items(), key=lambda kv: kv[0] == "all"):
        metrics = (row[m] for m in ("recall@1", "recall@5", "recall@10", "mrr"))
        table.add_row(kind, str(row["questions"]), *(f"{v:.3f}" for v in metrics))
    Console().print(table)
    coverage = report["summary"]["coverage"]
    if coverage["threshold"] is None:
        click.echo("no coverage thresholds yet: run `assistant ingest` on your files again")
    elif coverage["absent_questions"]:
        click.echo(
            f"coverage verdict (threshold {coverage['threshold']:.3f}): "
            f"{coverage['absent_detected']:.0%} of {coverage['absent_questions']} unanswerable "
            f"questions refused ({coverage['absent_flagged']:.0%} refused or marked uncertain); "
            f"of {coverage['answerable_questions']} answerable ones "
            f"{coverage['false_alarms']:.0%} refused, "
            f"{coverage['answerable_uncertain']:.0%} marked uncertain"
        )


@main.command()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_context
def config(ctx: click.Context, fmt: str) -> None:
    """Show the effective settings (secrets masked) and the variables that set them."""
    settings = _settings(ctx)
    data = settings.masked()
    if fmt == "json":
        click.echo(json.dumps(data, indent=2))
        return
    llm = settings.llm
    if llm.configured:
        where = llm.gguf or llm.base_url or "the OpenAI API"
        click.echo(f"# answers: model {llm.model!r} at {where}")
    else:
        click.echo(
            "# answers: extracted from the abstracts (no model configured: set "
            "ASSISTANT_LLM__BASE_URL or OPENAI_API_KEY to use one; ASSISTANT_LLM__MODEL and the "
            "other LLM settings below apply only then)"
        )

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}__{key}" if prefix else key, inner)
        else:
            click.echo(f"ASSISTANT_{prefix.upper()}={'' if value is None else value}")

    walk("", data)
