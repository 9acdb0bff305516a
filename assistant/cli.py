"""The `assistant` command line; AssistantError -> exit status 1 with a readable message."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import click
from pydantic import ValidationError

from assistant.config import Settings
from assistant.console import (
    interruptible,
    paper_row,
    print_answer_report,
    print_hits,
    print_ingest_report,
    print_papers,
    print_retrieval_report,
    progress_reporter,
    save_transcript,
    stream_answer,
    summarize_store,
    typed_lines,
)
from assistant.errors import AssistantError, ConfigError, UnknownPaperError
from assistant.records import (
    DATE_PATTERN,
    Paper,
    papers_named,
    similar_titles,
)

if TYPE_CHECKING:
    from assistant.answer import Answerer
    from assistant.records import Turn


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
        progress_reporter() as on_progress,
        progress_reporter("calibrating coverage on", "generated questions") as on_calibrate,
    ):
        report = run_ingest(
            paths,
            settings,
            batch_papers=batch,
            listing_year=listing_year,
            on_progress=on_progress,
            on_calibrate=on_calibrate,
        )
    print_ingest_report(report)


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
        click.option(
            "--title",
            "titled",
            multiple=True,
            help="Only papers whose title says this (whole words, any case, singular or plural; "
            "repeatable).",
        ),
        click.option(
            "--exclude",
            "excluding",
            multiple=True,
            help="Leave out papers that mention this (words or a name, any case; repeatable).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _stored_papers(settings: Settings) -> list[Paper]:
    from assistant.embed import embedder_name
    from assistant.store import open_store

    with open_store(settings.store, embedder_name(settings.embed)) as store:
        return store.papers()


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "jsonl", "bibtex"]),
    default="table",
    show_default=True,
    help="bibtex: entries with abstracts and stable keys, for a reference manager.",
)
@_filter_options
@click.pass_context
def papers(ctx: click.Context, /, fmt: str, **filter_args: object) -> None:
    """List the papers in the store: id, title, authors, venue or source, date, categories."""
    from assistant.records import Filters

    everything = _stored_papers(_settings(ctx))
    found = Filters.model_validate(filter_args).passing(everything)
    if fmt == "bibtex":
        from assistant.bibliography import to_bibtex

        click.echo(to_bibtex(found), nl=False)
        return
    if fmt == "jsonl":
        for paper in found:
            click.echo(json.dumps(paper_row(paper), ensure_ascii=False))
        return
    print_papers(found, len(everything))


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
    with progress_reporter("calibrating coverage on", "generated questions") as on_calibrate:
        removed = run_remove(chosen, settings, on_calibrate=on_calibrate)
    click.echo(
        f"Removed {removed} paper(s); {len(everything) - removed} remain. "
        "Ingesting a file that holds them adds them back."
    )


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
    ctx: click.Context, /, question: str | None, k: int | None, fmt: str, **filter_args: object
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
        print_hits(retriever.retrieve(question, k, filters, listing_k=listing_k), fmt)
        return
    summarize_store(_settings(ctx))
    click.echo("Type a question and press Enter (Ctrl-D to quit).")
    for line in typed_lines():
        if line.strip():
            try:
                with interruptible("search"):
                    print_hits(retriever.retrieve(line, k, filters, listing_k=listing_k), fmt)
            except AssistantError as exc:
                click.echo(f"error: {exc.describe()}", err=True)


def _answerer(ctx: click.Context) -> Answerer:
    from assistant.answer import Answerer

    answerer = Answerer(_settings(ctx))
    ctx.call_on_close(answerer.close)
    return answerer


@main.command()
@click.argument("question")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@_filter_options
@click.pass_context
def ask(ctx: click.Context, /, question: str, fmt: str, **filter_args: object) -> None:
    """Answer QUESTION from the collection, citing the papers each sentence comes from.

    With a model configured (ASSISTANT_LLM__BASE_URL, OPENAI_API_KEY or ASSISTANT_LLM__GGUF)
    the answer is generated and streamed; otherwise it is extracted from the abstracts. Every
    citation is checked against the cited abstract. A question the collection does not cover
    is refused, with the nearest papers. --format json prints the whole Answer record.
    """
    from assistant.records import Filters

    stream_answer(_answerer(ctx), question, [], Filters.model_validate(filter_args), fmt)


@main.command()
@_filter_options
@click.pass_context
def chat(ctx: click.Context, /, **filter_args: object) -> None:
    """Talk with the collection: follow-up questions refer to earlier answers.

    Type a question and press Enter; "compare X with Y" (or "compare papers 1 and 3") answers
    with a comparison table; "/new" starts a new conversation; Ctrl-D quits.
    """
    from assistant.compare import Comparer
    from assistant.records import Filters, Turn

    answerer = _answerer(ctx)
    comparer = Comparer.beside(answerer)
    filters = Filters.model_validate(filter_args)
    history: list[Turn] = []
    click.echo(
        "Ask about the papers (/new starts over, /save FILE writes the conversation as "
        "Markdown, Ctrl-C stops an answer, Ctrl-D quits)."
    )
    for line in typed_lines():
        question = line.strip()
        if question == "/new":
            history.clear()
            click.echo("(new conversation)")
        elif question.startswith("/save"):
            save_transcript(question.removeprefix("/save").strip(), history, answerer)
        elif question:
            try:
                with interruptible("answer"):
                    if comparer.asked(question, history):
                        table = comparer.compare(question, history=history)
                        click.echo(table.markdown())
                        history.append(table.turn())
                        continue
                    answer = stream_answer(answerer, question, history, filters, "text")
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
@click.option(
    "--ingest",
    "ingest_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Files or folders to add in the background once serving (repeatable): the page and "
    "API answer at once, from the papers indexed so far (GET /v1/ingest shows progress). "
    "Unchanged papers are skipped, so passing the same folder at every start costs little.",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    workers: int | None,
    ingest_paths: tuple[Path, ...],
) -> None:
    """Serve the HTTP API (docs at /docs) and the browser UI (at /ui)."""
    from assistant.server import check_address, check_exposure, run_server

    settings = _settings(ctx)
    api = settings.api.model_copy(
        update={
            k: v
            for k, v in {"host": host, "port": port, "workers": workers}.items()
            if v is not None
        }
    )
    settings = settings.model_copy(update={"api": api})
    check_exposure(settings)
    check_address(api.host, api.port)
    from assistant.store import hold_for_serving, preload

    hold_for_serving(settings.store)
    if api.workers == 1:
        preload(settings.store)  # Chroma reads its vector index while the API is imported
    if ingest_paths and api.workers > 1:
        # Each worker would run its own job: index first, then serve.
        ctx.invoke(ingest, paths=ingest_paths)  # the command's own defaults for the rest
        ingest_paths = ()
    elif ingest_paths:
        from assistant.ingest import create_store

        create_store(settings)
    click.echo(
        f"serving http://{api.host}:{api.port}/ui/ (browser) and the API "
        f"(docs: http://{api.host}:{api.port}/docs)"
        + (f" with {api.workers} workers" if api.workers > 1 else "")
        + (
            f"; adding {', '.join(str(p) for p in ingest_paths)} in the background (progress on "
            "the page and at /v1/ingest)"
            if ingest_paths
            else ""
        ),
        err=True,
    )
    run_server(settings, ingest=ingest_paths)


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

    table = Comparer.beside(_answerer(ctx)).compare(prompt, paper_ids, aspects)
    click.echo(as_format(table, fmt))


class _EvalGroup(click.Group):
    """`assistant eval QUESTIONS` is `assistant eval retrieval QUESTIONS`, as it always was."""

    _MOVED: ClassVar[dict[str, str]] = {
        "--answers": "eval answers QUESTIONS",
        "--generate": "eval generate N QUESTIONS",
    }

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for flag, command in self._MOVED.items():
            if any(a == flag or a.startswith(flag + "=") for a in args):
                raise click.UsageError(f"{flag} is now a command of its own: assistant {command}")
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["retrieval", *args]
        return super().parse_args(ctx, args)


_FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)


def _question_file(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    if not value.exists():
        raise click.BadParameter(f"{value} does not exist", ctx, param)
    return value


_QUESTIONS = click.argument(
    "questions", type=click.Path(dir_okay=False, path_type=Path), callback=_question_file
)


@main.group(name="eval", cls=_EvalGroup)
def evaluate_group() -> None:
    """Measure retrieval and answers on questions with gold papers.

    QUESTIONS is JSONL, one {"question", "type", "gold_titles"} per line (the format of
    ../shared/eval/dev_questions.jsonl); `eval generate` writes such a file from your own
    collection. `assistant eval QUESTIONS` runs `eval retrieval`.
    """


@evaluate_group.command(name="retrieval")
@_QUESTIONS
@click.option(
    "--k",
    "k",
    type=click.IntRange(1, 100),
    default=10,
    show_default=True,
    help="Papers per question.",
)
@_FORMAT
@click.option(
    "--expand",
    is_flag=True,
    help="Search each question with the configured model's sketch of a matching paper too "
    "(as ASSISTANT_LLM__EXPAND does when answering); needs a model.",
)
@click.pass_context
def evaluate_retrieval(ctx: click.Context, questions: Path, k: int, fmt: str, expand: bool) -> None:
    """Recall@1/5/10 and MRR per question type, and the coverage verdict.

    Questions without gold papers (type "absent") measure how well the coverage verdict
    separates them from answerable ones.
    """
    from assistant.evaluate import dump, evaluate, load_questions
    from assistant.retrieve import Retriever

    settings = _settings(ctx)
    retriever = ctx.with_resource(Retriever(settings))
    sketch = None
    if expand:
        from assistant.answer import Answerer

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
    print_retrieval_report(report, questions.name)


@evaluate_group.command(name="answers")
@_QUESTIONS
@_FORMAT
@click.pass_context
def evaluate_answers_cmd(ctx: click.Context, questions: Path, fmt: str) -> None:
    """Answer every question and score the answers.

    Citations valid, gold papers cited, refusals of unanswerable questions, key facts. The
    configured model answers (or the extractive answerer): use it to measure your own model.
    """
    from assistant.answer import Answerer
    from assistant.evaluate import dump, evaluate_answers, load_questions
    from assistant.retrieve import Retriever

    settings = _settings(ctx)
    answerer = Answerer(settings, ctx.with_resource(Retriever(settings)))
    ctx.call_on_close(answerer.close)
    report = evaluate_answers(answerer, load_questions(questions))
    if fmt == "json":
        click.echo(dump(report))
        return
    print_answer_report(report)


@evaluate_group.command(name="generate")
@click.argument("count", type=click.IntRange(1, 100000))
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def evaluate_generate(ctx: click.Context, count: int, output: Path) -> None:
    """Write COUNT questions built from the collection's abstracts to OUTPUT.

    Each question has its source paper as gold: `assistant eval OUTPUT` then measures
    retrieval on a collection of your own.
    """
    from assistant.calibrate import generate_questions
    from assistant.retrieve import Retriever

    retriever = ctx.with_resource(Retriever(_settings(ctx)))
    made = generate_questions(retriever.lexical().papers, count)
    output.write_text("".join(q.model_dump_json() + "\n" for q in made))
    click.echo(f"wrote {len(made)} questions to {output}; run: assistant eval {output}")


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
