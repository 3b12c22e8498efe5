"""Generated schema docs (`pgspec docs --out DIR`): complete, deterministic, kept fresh by `check --docs`, with
Mermaid ER diagrams whose every line has a shape Mermaid's erDiagram grammar accepts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SPEC

from generator import cli
from generator.derive import Catalog
from generator.erd import edges, graphviz_missing
from generator.output import staleness
from generator.pipeline import Build, build
from generator.schemadocs import DOCS_PATTERN, docs_files, trigger_words
from generator.sqltext import qname

DOCS = ROOT / "docs" / "schema"
# The erDiagram lines the docs emit: an entity opening, a key attribute, a closing brace, a relationship.
_MERMAID_LINE = re.compile(r"erDiagram|    \w+ \{|        \w+ \w+ (PK|FK|UK)(,(PK|FK|UK))*|    \}"
                           r"|    \w+ (\|\||\|o)--(o\{|o\|) \w+ : \"[\w, ]+\"")


def _mermaid_blocks(text: str) -> list[str]:
    return re.findall(r"```mermaid\n(.*?)```", text, re.S)


def test_committed_schema_docs_are_current(spec_build: Build) -> None:
    """docs/schema/ is exactly what `pgspec docs --out docs/schema` writes (make check runs check --docs)."""
    stale = staleness(DOCS, docs_files(spec_build.catalog), DOCS_PATTERN)
    assert not stale.stale, stale.lines(DOCS)


def test_docs_cover_every_module_table_column_and_foreign_key(spec_build: Build) -> None:
    catalog: Catalog = spec_build.catalog
    pages = {f.name: f.text for f in docs_files(catalog)}
    assert set(pages) == {f"{m.stem}.md" for m in catalog.schema.modules} | {"index.md"}
    (whole,) = _mermaid_blocks(pages["index.md"])
    for module in catalog.schema.modules:
        page = pages[f"{module.stem}.md"]
        for table in module.tables:
            assert f"## {qname(table.name)}\n" in page
            for column in table.columns:
                assert f"| `{column.name}` |" in page, (table.name, column.name)
            for trigger in table.triggers:
                assert f"`{trigger.name}`: {trigger_words(trigger)}." in page
            for policy in table.policies:
                assert f"| {policy.name} | {policy.command} |" in page
            for edge in edges(catalog, table):
                relation = re.compile(rf"    \w+ \S+ {edge.child.name} : \"{', '.join(edge.columns)}\"")
                assert relation.search(whole), edge
        for view in module.views:
            assert f"## {qname(view.name)} (view)" in page
    tickets = pages["03-support-tickets.md"]
    assert "- `calculate_ticket_sla_targets`: before insert or update of priority on each row: runs " \
           "`public.calculate_sla_targets()`." in tickets
    assert "| customer | own | own+tenant;" in tickets  # the access matrix
    assert "| `support_tickets_customer_id_fkey` | foreign key | (customer_id) → auth.users(id), on delete set " \
           "null |" in tickets


def test_mermaid_diagrams_have_valid_lines(spec_build: Build) -> None:
    examples = [build(d) for d in sorted(ROOT.glob("examples/*/spec"))]
    for catalog in [spec_build.catalog, *(b.catalog for b in examples)]:
        for page in docs_files(catalog):
            for block in _mermaid_blocks(page.text):
                for line in block.splitlines():
                    assert _MERMAID_LINE.fullmatch(line), f"{page.name}: {line!r}"


def test_docs_are_deterministic(tmp_path: Path) -> None:
    assert [(f.name, f.text) for f in docs_files(build(SPEC).catalog)] == \
        [(f.name, f.text) for f in docs_files(build(SPEC).catalog)]


def test_check_docs_names_stale_missing_and_removed_pages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    (docs / "03-support-tickets.md").write_text("edited by hand\n")
    (docs / "08-views.md").unlink()
    (docs / "99-old.md").write_text((DOCS / "08-views.md").read_text())  # a page of a module that is gone
    (docs / "notes.md").write_text("# our own notes, not generated\n")
    assert cli.main(["check", "--quiet", "--docs", str(docs)]) == 1
    err = capsys.readouterr().err
    assert f"{docs}/03-support-tickets.md: out of date (run `pgspec docs --out {docs}`)" in err
    assert f"{docs}/08-views.md: missing" in err and f"{docs}/99-old.md: no longer generated" in err
    assert "notes.md" not in err
    assert cli.main(["docs", "--out", str(docs)]) == 0
    assert not (docs / "99-old.md").exists() and (docs / "notes.md").exists()
    assert cli.main(["check", "--quiet", "--docs", str(docs)]) == 0


def test_docs_readme_mode_still_refreshes_the_readme(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = tmp_path / "README.md"
    readme.write_text((ROOT / "README.md").read_text().replace("| customer | own |", "| customer | stale |"))
    assert cli.main(["docs", "--readme", str(readme)]) == 0
    assert readme.read_text() == (ROOT / "README.md").read_text()
    assert "updated" in capsys.readouterr().out


def _docs_with_images(out: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "generator", "docs", "--out", str(out), "--images"], cwd=ROOT,
                          capture_output=True, text=True, check=False, env=env)


def test_images_are_skipped_with_a_note_without_graphviz(tmp_path: Path) -> None:
    result = _docs_with_images(tmp_path / "docs", {**os.environ, "PATH": str(tmp_path)})  # no `dot` here
    assert result.returncode == 0, result.stderr
    assert "images skipped:" in result.stdout
    assert not list((tmp_path / "docs").glob("schema.*")) and (tmp_path / "docs" / "index.md").exists()


def test_images_are_drawn_with_graphviz(tmp_path: Path) -> None:
    missing = graphviz_missing()
    if missing:
        pytest.skip(f"Graphviz not available here: {missing}")
    result = _docs_with_images(tmp_path / "docs", dict(os.environ))
    assert result.returncode == 0, result.stderr
    svg = (tmp_path / "docs" / "schema.svg").read_text()
    assert "<svg" in svg and "support_tickets" in svg
    assert (tmp_path / "docs" / "schema.png").read_bytes().startswith(b"\x89PNG")
