"""The HTTP API (FastAPI): search, ask, papers, and an OpenAI-compatible chat endpoint."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
import json
import logging
import os
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from pydantic import BaseModel, Field
from starlette.routing import Mount

from assistant.answer import Delta, Event, Final, Sources
from assistant.bibliography import to_bibtex
from assistant.collection import Collection
from assistant.compare import Comparer, Comparison, as_format
from assistant.config import Settings
from assistant.errors import AssistantError, LLMError, error_body
from assistant.gate import Gate, loopback_host
from assistant.openai_compat import openai_router
from assistant.records import DATE_PATTERN, Answer, Filters, IngestJob, IngestReport, Paper, Turn
from assistant.retrieve import HitOut, SearchResponse, in_background

log = logging.getLogger("assistant")

# -- request and response bodies ------------------------------------------------------------


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=2000)
    k: int = Field(5, ge=1, le=100)
    filters: Filters = Field(default_factory=Filters)


class HistoryTurn(BaseModel):
    question: str = Field(max_length=20000)
    answer: str = Field(max_length=100000)


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    history: list[HistoryTurn] = Field(default_factory=list, max_length=50)
    filters: Filters = Field(default_factory=Filters)
    stream: bool = False


class PapersPage(BaseModel):
    total: int
    offset: int
    papers: list[Paper]


class NewPaper(BaseModel):
    title: str = Field(min_length=1, max_length=2000)
    abstract: str = Field(min_length=1, max_length=20000)
    authors: list[str] = Field(default_factory=list)
    venue: str | None = None
    date: str | None = None
    year: int | None = None
    url: str | None = None
    categories: list[str] = Field(default_factory=list)
    doi: str | None = Field(None, max_length=300)
    arxiv_id: str | None = Field(None, max_length=100)


class AddPapers(BaseModel):
    papers: list[NewPaper] = Field(min_length=1, max_length=1000)


class AddReport(BaseModel):
    added: int
    updated: int
    unchanged: int
    skipped: list[str]


class CompareRequest(BaseModel):
    prompt: str = Field("", max_length=2000)
    papers: list[str] = Field(default_factory=list, max_length=8)
    aspects: list[str] = Field(default_factory=list, max_length=12)
    format: Literal["json", "md", "csv"] = "json"


# -- the app ---------------------------------------------------------------------------------


def create_app(settings: Settings, *, ui: bool = True, ingest: Sequence[Path] = ()) -> FastAPI:
    """The API over the store in ``settings``, with the browser UI at /ui unless ``ui=False``.
    The files or folders in ``ingest`` are indexed in the background once it starts serving
    (GET /v1/ingest shows how far it got); the store must exist (ingest.create_store)."""
    service = Collection(settings)
    limit = int(settings.api.max_body_mb * 1024 * 1024)
    later = _LaterUI(service, settings, limit) if ui else None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The first request to a route run in a worker thread would import anyio's thread
        # pool on the event loop, while the word index and the page load beside it: seconds.
        await anyio.to_thread.run_sync(lambda: None)
        # Serving starts before the word index is loaded (seconds at 100k papers); then the
        # coverage thresholds are checked against the collection.
        service.retriever.warm(then=service.settle)
        stop = asyncio.Event()
        building = asyncio.create_task(later.run(stop)) if later is not None else None
        if ingest:
            service.start_ingest(ingest)
        yield
        stop.set()
        if building is not None:
            await building
        service.close()  # stops ingest jobs and the threshold worker before the process exits

    app = FastAPI(
        title="assistant",
        summary="Search and cited answers over a collection of research-paper abstracts.",
        version="0.1",
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.ui = later

    @app.exception_handler(AssistantError)
    async def assistant_error(request: Request, exc: AssistantError) -> JSONResponse:
        body = exc.wire()
        if isinstance(exc, LLMError) and exc.sources:  # what was retrieved before it failed
            body["sources"] = [HitOut.of(h).model_dump(mode="json") for h in exc.sources]
        return JSONResponse(body, status_code=exc.status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        detail = exc.detail
        body = detail if isinstance(detail, dict) else error_body("HTTPError", str(detail))
        return JSONResponse(body, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own body echoes the input, which may not even be JSON (1e400 is infinite):
        # name the field and the problem only.
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        problem = str(first.get("msg", "invalid request"))
        return JSONResponse(
            error_body(
                "InvalidRequest",
                f"{where or 'request'}: {problem}",
                "see the request schemas at /docs",
            ),
            status_code=422,
        )

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, Any]:
        """Store and model reachability, the collection's size, an ingest job running, whether
        the browser UI is mounted yet (ui: loading, ready, failed or off), whether the word
        index is loaded (words: loading while answers find papers by meaning alone, or ready),
        whether its coverage
        thresholds are current, being rebuilt after a write (the previous ones decide
        meanwhile), or missing (answers then carry no coverage verdict)."""
        store_ok, papers, problem, thresholds = True, 0, "", "missing"
        try:
            papers = service.retriever.size()
            thresholds = service.thresholds()
        except AssistantError as exc:
            store_ok, problem = False, exc.describe()
        llm: dict[str, Any] = {"configured": settings.llm.configured, "model": "extractive"}
        model = service.answerer.model
        if model is not None:
            llm.update(model=model.name, reachable=_reachable(model.where))
        job = service.indexing()
        return {
            "status": "ok" if store_ok else "degraded",
            "papers": papers,
            "indexing": job.model_dump(include=_JOB_SUMMARY) | {"summary": job.summary()}
            if job is not None and job.running
            else None,
            "coverage_thresholds": thresholds,
            "words": "loading" if service.retriever.loading_words else "ready",
            "ui": "off"
            if later is None
            else ("failed" if later.problem else "ready")
            if later.ready.is_set()
            else "loading",
            "worker": os.getpid(),
            "store": {
                "ok": store_ok,
                "location": settings.store.url or str(settings.store.path),
                "problem": problem,
            },
            "llm": llm,
        }

    app.include_router(_papers(service))
    app.include_router(_jobs(service))
    app.include_router(_answers(service))
    app.include_router(openai_router(service))

    if later is not None:

        @app.get("/", include_in_schema=False)
        def home() -> RedirectResponse:
            return RedirectResponse("/ui/")

        app.mount("/ui", later)
    # Outermost, so that it also stands in front of the mounted UI's own routes.
    app.add_middleware(
        Gate,
        token=settings.api.token.get_secret_value() if settings.api.token else None,
        allowed_hosts=_allowed_hosts(settings),
        max_body=limit,
    )
    return app


class _LaterUI:
    """The browser UI at /ui, mounted once it is built.

    Importing Gradio takes about 5 s on two cores, as long as everything else a first answer
    needs, so the API does not wait for it: the UI is built in a worker thread after the
    server starts, and until then /ui answers 503 with a page that retries every second.
    ``ready`` is set once it is mounted (or has failed: the page then says why).
    """

    def __init__(self, service: Collection, settings: Settings, max_file_size: int) -> None:
        self.service = service
        self.settings = settings
        self.max_file_size = max_file_size
        self.ready = threading.Event()
        self.app: Any = None
        self.problem: str | None = None

    def _build(self) -> FastAPI:
        import gradio as gr

        from ui import CSS, HEAD, build_ui

        blocks = build_ui(self.service)
        host = FastAPI()
        gr.mount_gradio_app(
            host,
            blocks,
            path="/ui",
            css=CSS,
            head=HEAD,
            max_file_size=self.max_file_size,
            blocked_paths=[str(self.settings.store.path.resolve())],
        )
        # Gradio checks the file paths that requests carry (only files it received as uploads
        # are accepted as inputs) once its Blocks count as launched; mounting never marks them
        # so, and every path on the server would then be readable through the UI's API.
        blocks.has_launched = True
        return host

    async def _built(self) -> FastAPI:
        """``_build`` in a thread of its own, at background priority (retrieve.in_background):
        not in the event loop's thread pool, whose threads would keep that priority."""
        built: concurrent.futures.Future[FastAPI] = concurrent.futures.Future()

        def build() -> None:
            in_background()
            try:
                built.set_result(self._build())
            except BaseException as exc:  # raised in the awaiting task, which says why
                built.set_exception(exc)

        threading.Thread(target=build, name="build-ui", daemon=True).start()
        return await asyncio.wrap_future(built)

    async def run(self, stop: asyncio.Event) -> None:
        """Build the UI, run its startup (Gradio's queue) until ``stop``, then its shutdown."""
        try:
            host = await self._built()
            # mount_gradio_app put Gradio's startup into the lifespan of the app it mounted on.
            async with host.router.lifespan_context(host):
                mounted = host.routes[-1]
                assert isinstance(mounted, Mount)
                self.app = mounted.app  # the Gradio app it mounted at /ui
                self.ready.set()
                await stop.wait()
        except Exception as exc:  # the API keeps serving; the page says why it is missing
            log.exception("the browser UI could not be built")
            self.problem = f"{type(exc).__name__}: {exc}"
            self.ready.set()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.app is not None:
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # a websocket before the UI exists
            await send({"type": "websocket.close", "code": 1013})
            return
        response: Response
        if self.problem is not None:
            response = JSONResponse(
                error_body(
                    "UIError",
                    "The browser UI could not be built; the API works",
                    "see the server's log for why",
                ),
                status_code=500,
            )
        else:
            response = HTMLResponse(
                "<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=1>"
                "<title>assistant</title><p>The page is loading (a few seconds after the "
                "server starts; the API already answers)…</p>",
                status_code=503,
                headers={"Retry-After": "1", "Cache-Control": "no-store"},
            )
        await response(scope, receive, send)


def _allowed_hosts(settings: Settings) -> frozenset[str] | None:
    """The Host names the server answers to; None for any."""
    named = [h.strip().lower() for h in settings.api.allowed_hosts if h.strip()]
    if "*" in named:
        return None
    if named:
        return frozenset(named)
    if loopback_host(settings.api.host):
        return frozenset({"127.0.0.1", "localhost", "::1", settings.api.host.lower()})
    return None


def _papers(service: Collection) -> APIRouter:
    """/v1/papers: list, get, add (JSON or a file) and delete papers."""
    router = APIRouter()

    @router.get("/v1/papers", tags=["papers"])
    def list_papers(
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
        q: Annotated[str | None, Query(max_length=500, description="Title contains")] = None,
        author: str | None = None,
        since: Annotated[str | None, Query(pattern=DATE_PATTERN)] = None,
        until: Annotated[str | None, Query(pattern=DATE_PATTERN)] = None,
        venue: str | None = None,
        category: str | None = None,
    ) -> PapersPage:
        """The papers, in title order, optionally filtered; paged with offset and limit."""
        filters = Filters(author=author, since=since, until=until, venue=venue, category=category)
        found = [
            p
            for p in filters.passing(sorted(service.papers(), key=lambda p: p.title.lower()))
            if not q or q.lower() in p.title.lower()
        ]
        return PapersPage(total=len(found), offset=offset, papers=found[offset : offset + limit])

    @router.get("/v1/papers/{paper_id}", tags=["papers"], response_model=Paper)
    def get_paper(
        paper_id: str, format: Literal["json", "bibtex"] = "json"
    ) -> Paper | PlainTextResponse:
        """One paper by id; ``format=bibtex`` gives its BibTeX entry."""
        for paper in service.papers():
            if paper.paper_id == paper_id:
                return _bibtex_response([paper]) if format == "bibtex" else paper
        raise HTTPException(404, detail=_unknown_paper(paper_id))

    @router.get("/v1/bibtex", tags=["papers"], response_class=PlainTextResponse)
    def export_bibtex(
        ids: Annotated[list[str] | None, Query(max_length=1000)] = None,
    ) -> PlainTextResponse:
        """BibTeX entries (with abstracts and stable keys) for the papers ``ids`` names
        (repeat it: ``?ids=a&ids=b``), or for every paper without it."""
        known = {p.paper_id: p for p in service.papers()}
        missing = [i for i in ids or [] if i not in known]
        if missing:
            raise HTTPException(404, detail=_unknown_paper(missing[0]))
        return _bibtex_response([known[i] for i in ids] if ids else list(known.values()))

    @router.post("/v1/papers", tags=["papers"])
    def add_papers(body: AddPapers) -> AddReport:
        """Add papers given as JSON (idempotent: unchanged papers are not re-embedded)."""
        lines = [p.model_dump_json(exclude_none=True) for p in body.papers]
        return _report(service.add_file(io.BytesIO("\n".join(lines).encode()), "papers.jsonl"))

    @router.post("/v1/papers/upload", tags=["papers"], response_model=None)
    def upload_papers(
        file: Annotated[UploadFile, File()],
        background: Annotated[
            bool,
            Query(
                description="Return at once (202) with an ingest job to watch at "
                "GET /v1/ingest/{id} (and cancel with DELETE) instead of the report."
            ),
        ] = False,
    ) -> AddReport | JSONResponse:
        """Add the papers in an uploaded file: JSONL, CSV or a listing in one of our layouts."""
        # Copied to disk in pieces, never read whole into memory.
        if not background:
            return _report(service.add_file(file.file, file.filename))
        job = service.start_upload(file.file, file.filename)
        return JSONResponse(
            job.model_dump(mode="json"),
            status_code=202,
            headers={"Location": f"/v1/ingest/{job.id}"},
        )

    @router.delete("/v1/papers/{paper_id}", tags=["papers"])
    def delete_paper(paper_id: str) -> dict[str, Any]:
        """Remove one paper."""
        if not service.remove([paper_id]):
            raise HTTPException(404, detail=_unknown_paper(paper_id))
        return {"deleted": paper_id}

    return router


def _jobs(service: Collection) -> APIRouter:
    """/v1/ingest: the ingest jobs running inside the server (at start, background uploads)."""
    router = APIRouter()

    def known(job_id: str) -> IngestJob:
        try:
            return service.job(job_id)
        except KeyError:
            raise HTTPException(404, detail=_unknown_job(job_id)) from None

    @router.get("/v1/ingest", tags=["papers"])
    def list_jobs() -> list[IngestJob]:
        """Every ingest job of this server, oldest first."""
        return service.jobs()

    @router.get("/v1/ingest/{job_id}", tags=["papers"])
    def get_job(job_id: str) -> IngestJob:
        """How far an ingest job got: its state, per-file status, papers done, an ETA."""
        return known(job_id)

    @router.delete("/v1/ingest/{job_id}", tags=["papers"])
    def cancel_job(job_id: str) -> IngestJob:
        """Stop a job after the batch it is embedding; papers written so far stay, and
        adding the same file again resumes."""
        known(job_id)
        return service.cancel(job_id)

    return router


def _answers(service: Collection) -> APIRouter:
    """/v1/search, /v1/ask and /v1/compare."""
    router = APIRouter()

    @router.post("/v1/search", tags=["search"])
    def search(body: SearchRequest) -> SearchResponse:
        """Papers matching a query (constraints in the query are applied too), with scores."""
        found = service.retriever.retrieve(body.query, body.k, body.filters)
        return SearchResponse.of(found)

    @router.post("/v1/ask", tags=["ask"], response_model=None)
    def ask(body: AskRequest) -> Answer | StreamingResponse:
        """A cited, checked answer; with "stream": true, Server-Sent Events: "delta" events
        with text, then one "answer" event with the whole Answer (citations included)."""
        history = [Turn(question=t.question, answer=t.answer) for t in body.history]
        if not body.stream:
            return service.answerer.ask(body.question, history, body.filters)
        events = service.answerer.stream(body.question, history, body.filters)
        return StreamingResponse(_sse(events), media_type="text/event-stream")

    @router.post("/v1/compare", tags=["compare"], response_model=None)
    def compare(body: CompareRequest) -> Comparison | PlainTextResponse:
        """A comparison table of the papers a prompt names (or given by id): JSON, Markdown
        or CSV. Every cell comes from that paper's abstract and cites it."""
        table = Comparer.beside(service.answerer).compare(body.prompt, body.papers, body.aspects)
        if body.format == "json":
            return table
        media = "text/markdown" if body.format == "md" else "text/csv"
        return PlainTextResponse(as_format(table, body.format), media_type=media)

    return router


# -- helpers ---------------------------------------------------------------------------------


def _unknown_paper(paper_id: str) -> dict[str, Any]:
    return error_body(
        "UnknownPaper",
        f"No paper with id {paper_id!r} in the collection",
        "list ids with GET /v1/papers (or `assistant papers`)",
    )


def _unknown_job(job_id: str) -> dict[str, Any]:
    return error_body(
        "UnknownJob",
        f"No ingest job with id {job_id!r} on this server",
        "list this server's jobs with GET /v1/ingest (jobs are not kept across restarts)",
    )


#: What /healthz says of a running ingest job (GET /v1/ingest/{id} has the rest).
_JOB_SUMMARY = {"id", "state", "done", "total", "eta_s"}


def _bibtex_response(papers: list[Paper]) -> PlainTextResponse:
    return PlainTextResponse(to_bibtex(papers), media_type="application/x-bibtex")


def _reachable(base_url: str) -> bool:
    import httpx

    try:
        return httpx.get(base_url.rstrip("/") + "/models", timeout=2).status_code < 500
    except httpx.HTTPError:
        return False


def _report(report: IngestReport) -> AddReport:
    return AddReport(
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        skipped=[str(s) for s in report.skipped],
    )


def _sse(events: Iterator[Event]) -> Iterator[str]:
    try:
        for event in events:
            match event:
                case Final(answer=answer):
                    yield f"event: answer\ndata: {answer.model_dump_json()}\n\n"
                case Sources(retrieval=found):
                    sources = [HitOut.of(h).model_dump(mode="json") for h in found.hits]
                    yield f"event: sources\ndata: {json.dumps({'sources': sources})}\n\n"
                case Delta(text=text):
                    yield f"event: delta\ndata: {json.dumps({'text': text})}\n\n"
    except AssistantError as exc:
        yield f"event: error\ndata: {json.dumps(exc.wire())}\n\n"
    yield "event: done\ndata: {}\n\n"
