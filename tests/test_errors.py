"""Every error class answers with the HTTP status its place in the tree gives it."""

from __future__ import annotations

import inspect

import assistant.errors as errors
from assistant.errors import AssistantError, LLMUnavailableError

#: A fault of the server is a 5xx; only the request's own problems are 4xx.
EXPECTED = {
    "AssistantError": 422,
    "ConfigError": 500,
    "ParseError": 400,
    "UnknownPaperError": 404,
    "ResolutionError": 422,
    "StoreError": 503,
    "StoreMissingError": 503,
    "StoreLockedError": 409,
    "StoreWriteError": 507,
    "EmbedderMismatchError": 503,
    "EmbedderError": 503,
    "PromptError": 500,
    "LLMError": 502,
    "LLMUnavailableError": 502,
    "LLMResponseError": 502,
}


def test_errors_every_class_has_its_status_and_is_drawn_in_the_tree() -> None:
    classes = {
        name: cls
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, AssistantError)
    }
    assert set(classes) == set(EXPECTED)
    assert {name: cls.status for name, cls in classes.items()} == EXPECTED
    tree = errors.__doc__ or ""
    for name, status in EXPECTED.items():
        assert f"{name} " in tree and str(status) in tree, name


def test_errors_a_timed_out_model_is_a_gateway_timeout() -> None:
    assert LLMUnavailableError("slow", timed_out=True).status == 504
    assert LLMUnavailableError("down").status == 502
