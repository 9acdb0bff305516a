"""Property-based fuzzing of every endpoint from the OpenAPI schema: no input gives a 5xx."""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from assistant.api import create_app
from assistant.config import ApiSettings, LLMSettings
from assistant.ingest import ingest

from .conftest import make_settings
from .openai_stub import StubServer


@pytest.fixture(scope="module")
def api_schema(
    tmp_path_factory: pytest.TempPathFactory, llm_server: StubServer
) -> schemathesis.BaseSchema:
    """The app on a small store of its own (fuzzing adds and deletes papers), with the stub."""
    folder = tmp_path_factory.mktemp("fuzz")
    source = folder / "seed.jsonl"
    rows = [
        {"title": f"Fuzz Seed {i}", "abstract": f"We study topic number {i} with care. " * 4}
        for i in range(4)
    ]
    source.write_text("\n".join(json.dumps(r) for r in rows))
    settings = make_settings(folder / "store")
    ingest([source], settings)
    settings = settings.model_copy(
        update={
            "llm": LLMSettings(base_url=llm_server.url, model="stub", max_retries=0),
            # Bodies over 50 kB get 413, so generated uploads stay small enough to embed.
            # schemathesis calls the app in-process as the host "testserver".
            "api": ApiSettings(max_body_mb=0.05, allowed_hosts=["testserver"]),
        }
    )
    # Without the page: it is not in the schema, and building it in a thread beside
    # Hypothesis races on the interpreter's warning filters and (Python 3.11.7) its AST parser.
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(settings, ui=False))


def test_no_input_makes_the_server_fail(api_schema: schemathesis.BaseSchema) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        call()
