"""The command line through click's runner, on a real store."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import bulk_embedding, main
from assistant.config import Settings
from assistant.embed import embedder_name
from assistant.parse import parse_bytes
from assistant.records import Paper
from assistant.store import open_store

from .conftest import DATA
from .openai_stub import Reply, StubServer


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["ingest"],
        ["papers"],
        ["remove"],
        ["search"],
        ["eval"],
        ["eval", "retrieval"],
        ["eval", "answers"],
        ["eval", "generate"],
        ["config"],
    ],
)
def test_cli_every_command_has_help(runner: CliRunner, command: list[str]) -> None:
    result = runner.invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
    assert len(result.output.splitlines()) > 4


def test_cli_papers_jsonl_lists_the_collection(
    runner: CliRunner, sample_settings: Settings
) -> None:
    result = runner.invoke(
        main, ["--store", str(sample_settings.store.path), "papers", "--format", "jsonl"]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 318
    assert {"id", "title", "authors", "venue", "date", "categories"} <= set(rows[0])
    digirl = next(r for r in rows if r["title"].startswith("DigiRL"))
    assert digirl["date"] == "2024-06-14" and digirl["author_count"] == 7
    # The same papers as BibTeX read back to the same titles, abstracts, authors and dates.
    store = ["--store", str(sample_settings.store.path)]
    bib = runner.invoke(main, [*store, "papers", "--format", "bibtex"])
    assert bib.exit_code == 0, bib.output
    back = parse_bytes(bib.stdout.encode(), "export.bib")
    with open_store(sample_settings.store, embedder_name(sample_settings.embed)) as opened:
        stored = opened.papers()
    assert not back.skipped and len(back.papers) == len(stored) == 318

    def essentials(papers: list[Paper]) -> list[tuple[object, ...]]:
        return sorted((p.title, p.abstract, p.authors, p.date) for p in papers)

    assert essentials(back.papers) == essentials(stored)
    iclr = runner.invoke(main, [*store, "papers", "--format", "bibtex", "--venue", "ICLR"])
    assert 5 < iclr.stdout.count("\n@") < 318  # the usual filters apply


def test_cli_papers_table_renders(runner: CliRunner, sample_settings: Settings) -> None:
    result = runner.invoke(main, ["--store", str(sample_settings.store.path), "papers"])
    assert result.exit_code == 0 and "318 papers" in result.output


def test_cli_search_json_ranks_papers(runner: CliRunner, sample_settings: Settings) -> None:
    result = runner.invoke(
        main,
        [
            "--store",
            str(sample_settings.store.path),
            "search",
            "layer pruning of large language models with Gumbel-TopK",
            "-k",
            "4",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    hits = body["hits"]
    assert body["covered"] is True and body["relevance"] >= body["threshold"]
    assert 0 < body["lexical_threshold"] <= body["lexical_coverage"] <= 1
    assert [h["rank"] for h in hits] == [1, 2, 3, 4]
    assert hits[0]["paper"]["title"].startswith("E$^3$-Pruner")
    assert hits[0]["chunks"] and hits[0]["score"] >= hits[1]["score"]


def test_cli_search_interactive_reads_questions(
    runner: CliRunner, sample_settings: Settings
) -> None:
    result = runner.invoke(
        main,
        ["--store", str(sample_settings.store.path), "search", "-k", "1"],
        input="talking portrait\n\n",
    )
    assert result.exit_code == 0, result.output
    assert "318 papers" in result.output and "Talking" in result.output


def test_cli_ingest_reports_counts_and_skips(runner: CliRunner, tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    result = runner.invoke(
        main, ["--store", store, "ingest", str(DATA / "002_f8b4524b5541519b.txt")]
    )
    assert result.exit_code == 0, result.output
    assert "9 added, 0 updated, 0 unchanged, 1 skipped" in result.stdout
    assert ":8:" in result.stderr and "file name" in result.stderr
    again = runner.invoke(
        main, ["--store", store, "ingest", str(DATA / "002_f8b4524b5541519b.txt")]
    )
    assert "0 added, 0 updated, 9 unchanged" in again.stdout


def test_cli_missing_store_exits_1_with_next_step(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["--store", str(tmp_path / "none"), "papers"])
    assert result.exit_code == 1
    assert "No store at" in result.output and "assistant --store" in result.output
    assert "Traceback" not in result.output


def test_cli_empty_question_is_refused(runner: CliRunner, sample_settings: Settings) -> None:
    result = runner.invoke(main, ["--store", str(sample_settings.store.path), "search", "   "])
    assert result.exit_code == 1 and "empty" in result.output


def test_cli_bad_file_exits_1_naming_it(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("just a few words\nand nothing else\n")
    result = runner.invoke(main, ["--store", str(tmp_path / "s"), "ingest", str(bad)])
    assert result.exit_code == 1 and "notes.txt" in result.output and "expected" in result.output


def test_cli_config_masks_secrets(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_LLM__API_KEY", "sk-very-secret")
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__TOP_K", "7")
    result = runner.invoke(main, ["config"])
    assert result.exit_code == 0
    assert (
        "sk-very-secret" not in result.output
        and "ASSISTANT_LLM__API_KEY=**********" in result.output
    )
    assert "ASSISTANT_RETRIEVAL__TOP_K=7" in result.output


def test_cli_invalid_setting_exits_1_naming_it(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__TOP_K", "many")
    result = runner.invoke(main, ["config"])
    assert result.exit_code == 1 and "retrieval.top_k" in result.output


def test_serve_refuses_a_public_address_without_a_token(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["--store", str(tmp_path / "s"), "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert "without a token" in result.output and "ASSISTANT_API__TOKEN" in result.output


def test_serve_refuses_several_workers_on_an_embedded_store(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(main, ["--store", str(tmp_path / "s"), "serve", "--workers", "2"])
    assert result.exit_code == 1
    assert "not safe to share between processes" in result.output
    assert "chroma run" in result.output and "ASSISTANT_STORE__URL" in result.output


def test_help_and_config_start_without_loading_the_pipeline(tmp_path: Path) -> None:
    """`assistant --help`, `config` and early errors take 0.4 s, not the 3.8 s of loading
    llama-index, Chroma and onnxruntime; the library's names still import them on first use."""
    heavy = ("chromadb", "llama_index", "onnxruntime", "gradio", "fastapi", "nltk")
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from assistant.cli import main\n"
        "for args in (['--help'], ['ingest', '--help'], ['config']):\n"
        "    assert CliRunner().invoke(main, args).exit_code == 0, args\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
        "from assistant import Retriever, ingest_files\n"
        "import assistant.api\n"  # binds the submodule assistant.ingest beside the function
        "from assistant import ingest_files as again\n"
        "print(callable(ingest_files) and again is ingest_files, 'chromadb' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["[]", "True True"]


def test_serve_on_a_port_in_use_says_so_before_loading_anything(
    runner: CliRunner, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(main, ["--store", str(tmp_path / "s"), "serve", "--port", str(port)])
    assert result.exit_code == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in result.output
    assert f"--port {port + 1}" in result.output and "serving" not in result.output
    elsewhere = runner.invoke(
        main,
        ["--store", str(tmp_path / "s"), "serve", "--host", "192.0.2.1"],  # TEST-NET: not ours
        env={"ASSISTANT_API__TOKEN": "secret"},
    )
    assert elsewhere.exit_code == 1 and "Cannot listen on 192.0.2.1" in elsewhere.output
    assert "an address of this machine" in elsewhere.output


def test_ingest_lets_the_embedder_spin_unless_told_not_to(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().embed.spin is False  # a server's default
    assert bulk_embedding(Settings()).embed.spin is True
    monkeypatch.setenv("ASSISTANT_EMBED__SPIN", "false")
    assert bulk_embedding(Settings()).embed.spin is False


def test_remove_takes_ids_or_titles_and_removes_nothing_on_a_doubtful_name(
    runner: CliRunner, tmp_path: Path
) -> None:
    env = {"ASSISTANT_EMBED__MODEL": "minilm"}
    store = ["--store", str(tmp_path / "store")]
    listing = str(DATA / "002_f8b4524b5541519b.txt")
    assert runner.invoke(main, [*store, "ingest", listing], env=env).exit_code == 0

    def titles(*options: str) -> list[str]:
        listed = runner.invoke(main, [*store, "papers", "--format", "jsonl", *options], env=env)
        assert listed.exit_code == 0, listed.output
        return sorted(json.loads(line)["title"] for line in listed.stdout.splitlines())

    assert titles("--title", "edge of STABILITY") == [
        "Generalization at the Edge of Stability",
        "Zeroth-Order Optimization at the Edge of Stability",
    ]
    assert titles("--author", "kunin") == ["There Will Be a Scientific Theory of Deep Learning"]
    everything = titles()
    theory = "There Will Be a Scientific Theory of Deep Learning"
    # A name that fits two titles, or none, stops the whole command before anything is removed.
    for doubtful, said in [("edge of stability", "is in 2 titles"), ("Discreet Tilt", "like")]:
        result = runner.invoke(main, [*store, "remove", "-y", theory, doubtful], env=env)
        assert result.exit_code == 1 and said in result.output, result.output
    misspelt = runner.invoke(main, [*store, "remove", "Discreet Tilt Matchin"], env=env)
    assert "did you mean 'Discrete Tilt Matching'" in misspelt.output
    declined = runner.invoke(main, [*store, "remove", theory], input="n\n", env=env)
    assert declined.exit_code == 1 and "Nothing removed" in declined.output
    assert titles() == everything

    ids = {
        json.loads(row)["title"]: json.loads(row)["id"]
        for row in runner.invoke(
            main, [*store, "papers", "--format", "jsonl"], env=env
        ).stdout.splitlines()
    }
    result = runner.invoke(
        main,
        [*store, "remove", ids["Discrete Tilt Matching"], "scientific theory of deep"],
        input="y\n",
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "Removed 2 paper(s); 7 remain" in result.stdout
    assert titles() == sorted(set(everything) - {theory, "Discrete Tilt Matching"})
    found = runner.invoke(
        main,
        [*store, "search", "a scientific theory of deep learning", "--format", "json"],
        env=env,
    )
    assert theory not in {hit["paper"]["title"] for hit in json.loads(found.stdout)["hits"]}


class _Terminal:
    """`assistant` on a pseudo-terminal, the way a person runs it: what it prints is read back,
    typed lines go in, and Ctrl-C arrives as SIGINT."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "assistant", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**os.environ, **env},
            # Ctrl-C as a terminal delivers it: a suite started in the background by a shell
            # without job control ignores SIGINT, children inherit that, and Python then
            # raises no KeyboardInterrupt (the test waited for a stop that never came).
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, *, nudge: bool = False, unless: str | None = None) -> str:
        """Everything printed until ``text`` has appeared (counted from the last expect).

        Waits for the output itself, not for a clock (a busy machine may take minutes to load
        the embedder); it fails as soon as the process has ended without printing ``text``,
        or has printed ``unless`` first (a prompt: it waits for a line, and would wait
        forever), and pytest's own timeout bounds a process that hangs. ``nudge``: while
        nothing is printed, Ctrl-C again each second (see :meth:`interrupt_at_the_prompt`).
        """
        while text not in self.seen:
            ready, _, _ = select.select([self.master], [], [], 1.0)
            try:
                chunk = os.read(self.master, 65536) if ready else b""
            except OSError:  # EIO: the process closed the terminal
                chunk = b""
            if ready and chunk:
                self.seen += chunk.decode(errors="replace")
                if unless is not None and unless in self.seen and text not in self.seen:
                    raise AssertionError(f"printed {unless!r} before {text!r}: {self.seen!r}")
            elif nudge and self.process.poll() is None:
                self.interrupt()
            elif self.process.poll() is not None:
                raise AssertionError(
                    f"the process ended (exit {self.process.returncode}) before printing "
                    f"{text!r}; printed: {self.seen!r}"
                )
        printed, self.seen = self.seen.split(text, 1)
        return printed + text

    def type(self, line: str) -> None:
        os.write(self.master, line.encode())

    def interrupt(self) -> None:
        self.process.send_signal(signal.SIGINT)

    def interrupt_at_the_prompt(self) -> str:
        """Ctrl-C at the "> " prompt, until a fresh prompt is printed. Python's line editor
        (readline) misses a Ctrl-C that comes after it printed the prompt and before it waits
        for keys, until a line is typed: the test then waits for a prompt, and the prompt for
        a line. A Ctrl-C while it waits is seen at once."""
        self.interrupt()
        return self.expect("> ", nudge=True)

    def close(self) -> int:
        code = self.process.wait()
        os.close(self.master)
        return code


def test_chat_on_a_terminal_ctrl_c_stops_an_answer_not_the_session(
    sample_settings: Settings, llm_server: StubServer
) -> None:
    slow = " ".join(["LSUV normalises the variance of each layer's output to one [1]."] * 20)
    llm_server.script(Reply(content=slow, chunk_delay=0.2), "It uses orthonormal matrices [1].")
    chat = _Terminal(
        ["--store", str(sample_settings.store.path), "chat"],
        {"ASSISTANT_LLM__BASE_URL": llm_server.url, "ASSISTANT_LLM__MODEL": "stub"},
    )
    chat.expect("Ctrl-D quits).")
    chat.expect("> ")
    chat.interrupt_at_the_prompt()  # a fresh prompt, not the end of the session
    chat.type("How does LSUV initialization work?\n")
    chat.expect("LSUV normalises", unless="\n> ")
    chat.interrupt()  # mid-answer: the answer stops, the session goes on
    chat.expect("(answer stopped)", unless="\n> ")
    chat.expect("> ")
    chat.type("How does LSUV initialization work?\n")
    assert "orthonormal matrices" in chat.expect("> ")
    chat.type("\x04")  # Ctrl-D on an empty line
    assert chat.close() == 0
    # The stopped answer is not history: nothing sent after it (the second answer, the
    # model's check of its citations) holds a word of it.
    later = json.dumps([r["messages"] for r in llm_server.requests[1:]])
    assert "How does LSUV initialization work?" in later and "LSUV normalises" not in later


def test_a_served_store_refuses_other_processes_writes_and_a_second_server(
    runner: CliRunner, tmp_path: Path
) -> None:
    """A running server keeps the vector index in memory: a CLI write beside it would not
    reach it, so it is refused with the way to make it; the server itself still writes."""
    env = {"ASSISTANT_EMBED__MODEL": "minilm"}
    store = tmp_path / "store"
    listing = str(DATA / "002_f8b4524b5541519b.txt")
    assert runner.invoke(main, ["--store", str(store), "ingest", listing], env=env).exit_code == 0
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from assistant.config import EmbedSettings, Settings, StoreSettings\n"
            "from assistant.ingest import remove\n"
            "from assistant.store import hold_for_serving\n"
            f"settings = Settings(store=StoreSettings(path={str(store)!r}),"
            " embed=EmbedSettings(model='minilm'))\n"
            "hold_for_serving(settings.store)\n"
            "print(remove(['650b08c09b90'], settings), flush=True)\n"  # its own write works
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "1"
        for command in (["ingest", listing], ["remove", "-y", "Generalization at the Edge"]):
            refused = runner.invoke(main, ["--store", str(store), *command], env=env)
            assert refused.exit_code == 1, refused.output
            assert f"being served by another process (pid {server.pid})" in refused.output
            assert "POST /v1/papers/upload" in refused.output
        second = runner.invoke(main, ["--store", str(store), "serve", "--port", "0"], env=env)
        assert second.exit_code == 1 and "already being served" in second.output
        # Reading is fine, and nothing was written: 9 papers less the server's removal.
        listed = runner.invoke(
            main, ["--store", str(store), "papers", "--format", "jsonl"], env=env
        )
        assert len(listed.stdout.splitlines()) == 8
    finally:
        server.communicate("")
    again = runner.invoke(main, ["--store", str(store), "ingest", listing], env=env)
    assert again.exit_code == 0 and "1 added" in again.stdout  # the server has stopped
