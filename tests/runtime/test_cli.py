"""The CLI on a fresh data dir: create a tenant, ingest articles, chat (the walking skeleton's script)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from tests.conftest import KB_FIXTURES, run_cli


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh data dir with tenant 'acme' and the test articles (one unreadable file among them)."""
    data = tmp_path_factory.mktemp("cli-data")
    kb = data.parent / "cli-kb"
    shutil.copytree(KB_FIXTURES, kb)
    (kb / "broken.md").write_bytes(b"\xff\xfe\xfa not text")

    created = run_cli(data, "tenant", "create", "acme", "--name", "Acme Fibra")
    assert created.returncode == 0, created.stderr
    ingested = run_cli(data, "kb", "ingest", str(kb), "--tenant", "acme")
    assert ingested.returncode == 1, "a file failed, so scripts are told"
    assert "3 added" in ingested.stdout and "1 failed" in ingested.stdout
    assert "broken.md: not UTF-8 text" in ingested.stdout
    return data


def chat(data_dir: Path, session: str, text: str) -> dict:
    result = run_cli(data_dir, "chat", "--tenant", "acme", "--session", session, "--json", text)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_covered_question_is_answered_citing_the_right_file(data_dir: Path) -> None:
    answer = chat(data_dir, "c1", "Como faço para emitir a segunda via do boleto?")
    assert answer["escalated"] is False and answer["ticket_id"] is None
    assert "Financeiro" in answer["reply"]
    assert answer["citations"][0]["document"] == "segunda-via-boleto.md"
    assert set(answer["citations"][0]) == {"document", "chunk_id", "score"}
    assert set(answer["classification"]) == {"sentiment", "intent", "churn_risk"}


def test_asking_for_an_attendant_escalates_with_a_ticket(data_dir: Path) -> None:
    answer = chat(data_dir, "c2", "quero falar com um atendente")
    assert answer["escalated"] is True
    assert answer["ticket_id"]
    assert answer["classification"]["intent"] == "human_agent"


def test_an_uncovered_question_is_not_answered_with_an_invention(data_dir: Path) -> None:
    answer = chat(data_dir, "c3", "Vocês vendem celulares e televisores?")
    assert answer["escalated"] is True
    assert answer["citations"] == []
    assert "celular" not in answer["reply"].lower()


def test_reingesting_the_same_folder_changes_nothing(data_dir: Path) -> None:
    again = run_cli(data_dir, "kb", "ingest", str(data_dir.parent / "cli-kb"), "--tenant", "acme")
    assert "0 added, 0 updated, 3 unchanged, 1 failed" in again.stdout


def test_an_unknown_tenant_is_a_clear_error(data_dir: Path) -> None:
    result = run_cli(data_dir, "chat", "--tenant", "nobody", "--session", "x", "--json", "oi")
    assert result.returncode == 1
    assert "tenant 'nobody' not found" in result.stderr
    assert result.stdout == ""


def test_kb_list_search_and_delete(data_dir: Path) -> None:
    listed = run_cli(data_dir, "kb", "list", "--tenant", "acme", "--json")
    assert listed.returncode == 0, listed.stderr
    documents = {d["source"]: d for d in json.loads(listed.stdout)}
    assert set(documents) == {
        "segunda-via-boleto.md",
        "wifi-troubleshooting.md",
        "planos/mudanca-de-endereco.md",
    }
    assert documents["segunda-via-boleto.md"]["language"] == "pt"
    assert documents["wifi-troubleshooting.md"]["status"] == "embedded"

    found = run_cli(data_dir, "kb", "search", "--tenant", "acme", "--k", "2", "--json", "router red light")
    assert found.returncode == 0, found.stderr
    [best, _] = json.loads(found.stdout)
    assert best["document"] == "wifi-troubleshooting.md"
    assert best["heading_path"] == "Wi-Fi troubleshooting › Red light on the router"
    assert best["dense_rank"] == 1 and best["lexical_rank"] == 1

    deleted = run_cli(
        data_dir, "kb", "delete", "--tenant", "acme", "planos/mudanca-de-endereco.md", "nope.md"
    )
    assert deleted.returncode == 1
    assert "deleted 1 document(s); not found: nope.md" in deleted.stdout
    after = json.loads(run_cli(data_dir, "kb", "list", "--tenant", "acme", "--json").stdout)
    assert "planos/mudanca-de-endereco.md" not in {d["source"] for d in after}


def test_every_format_ingests_from_the_cli(data_dir: Path, tmp_path: Path) -> None:
    from tests.knowledge.test_formats import FORMATS, write_every_format

    write_every_format(tmp_path)
    result = run_cli(data_dir, "kb", "ingest", str(tmp_path), "--tenant", "acme", "--collection", "formats")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 added, 0 updated, 0 unchanged, 0 failed" in result.stdout
    listed = json.loads(
        run_cli(data_dir, "kb", "list", "--tenant", "acme", "--collection", "formats", "--json").stdout
    )
    assert {d["source"]: d["format"] for d in listed} == FORMATS


def _sheet_cut_in_half(path: Path) -> None:
    """A real workbook whose sheet's XML ends half way: openpyxl raises an XML ParseError reading it."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(("question", "answer"))
    workbook.active.append(("Do you deliver on Sundays?", "Only in São Paulo."))
    whole = path.with_suffix(".whole")
    workbook.save(whole)
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as cut:
        for member in source.infolist():
            data = source.read(member.filename)
            cut.writestr(
                member.filename, data[: len(data) // 2] if "worksheets/" in member.filename else data
            )
    whole.unlink()


def test_a_file_a_parser_fails_on_is_reported_and_the_others_go_on(data_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "first.md").write_text("# Gift cards\n\nGift cards never expire and work online too.\n")
    _sheet_cut_in_half(tmp_path / "cut.xlsx")
    (tmp_path / "last.txt").write_text("Returns are free within 30 days of delivery, in any shop.\n")

    result = run_cli(data_dir, "kb", "ingest", str(tmp_path), "--tenant", "acme", "--collection", "fault")
    assert result.returncode == 1, result.stdout + result.stderr
    said = " ".join(result.stdout.split())  # the console wraps long lines
    assert "cut.xlsx: the XLSX parser failed (ParseError: unclosed token" in said
    assert "2 added, 0 updated, 0 unchanged, 1 failed" in said
    listed = json.loads(
        run_cli(data_dir, "kb", "list", "--tenant", "acme", "--collection", "fault", "--json").stdout
    )
    assert {d["source"] for d in listed} == {"first.md", "last.txt"}
