"""The build cache (generator/buildcache.py): a warm run gives exactly what a cold one does, and anything the build
depends on (a spec file's bytes, the generator's own files, the target, where diagnostics point) gives a new key."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import OUTPUT, ROOT, SPEC

from generator import buildcache, cli, pipeline
from generator.buildcache import Cache
from generator.lint import lint
from generator.pipeline import build


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cache on (conftest turns it off for the rest of the suite), in a directory of this test's own."""
    monkeypatch.setenv(buildcache.ENV_CACHE, "1")
    monkeypatch.setenv(buildcache.ENV_DIR, str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of SPEC-131's spec and output; the working directory, as users run pgspec."""
    root = tmp_path / "project"
    shutil.copytree(SPEC, root / "spec")
    shutil.copytree(OUTPUT, root / "output")
    (root / "generator").mkdir()
    shutil.copy(ROOT / "generator" / "spec.schema.json", root / "generator")  # the editor schema the files name
    monkeypatch.chdir(root)
    return root


def _entries(cache_dir: Path) -> list[str]:
    """The entries' kinds: `build` (the whole build) and `out` (outputs and findings)."""
    return sorted("build" if len(p.name) == 64 else p.name.split(".", 1)[1] for p in cache_dir.iterdir())


def test_a_warm_build_is_the_cold_build(cache_dir: Path, project: Path) -> None:
    cold = build(Path("spec"))
    first = Cache(Path("spec")).build(keep=True)  # a miss: builds and keeps it
    assert _entries(cache_dir) == ["build"]
    warm = Cache(Path("spec")).build()
    assert warm is not first  # read back from the entry
    assert warm.files == cold.files == first.files
    assert warm.mismatches == cold.mismatches
    assert [p.item.key for p in warm.placed] == [p.item.key for p in cold.placed]
    assert warm.catalog.schema == cold.catalog.schema
    assert Cache(Path("spec")).catalog().schema == cold.catalog.schema
    assert Cache(Path("spec")).outputs() is None
    expected = lint(cold.catalog)
    assert Cache(Path("spec")).findings(warm) == expected  # computed, then remembered with the outputs
    assert _entries(cache_dir) == ["build", "out"]
    outputs = Cache(Path("spec")).outputs()
    assert outputs is not None
    assert (outputs.files, outputs.mismatches, outputs.findings) == (cold.files, cold.mismatches, expected)


def test_only_a_judged_run_keeps_the_whole_build(cache_dir: Path, project: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """`generate --offline` remembers the outputs and findings (what `check --offline` needs) but not the model,
    which only the judge needs and which costs ten times as much to write."""
    assert cli.main(["generate", "--offline", "-q"]) == cli.EXIT_OK
    assert _entries(cache_dir) == ["out"]

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("built again")

    monkeypatch.setattr(pipeline, "build", no_build)
    assert cli.main(["check", "--offline", "-q"]) == cli.EXIT_OK  # from the outputs alone
    assert cli.main(["lint"]) == 0
    monkeypatch.undo()
    monkeypatch.setenv(buildcache.ENV_CACHE, "1")
    monkeypatch.setenv(buildcache.ENV_DIR, str(cache_dir))
    monkeypatch.chdir(project)
    assert cli.main(["check", "-q"]) == cli.EXIT_OK  # judged: needs and keeps the whole build
    assert _entries(cache_dir) == ["build", "out"]
    monkeypatch.setattr(pipeline, "build", no_build)
    assert cli.main(["check", "-q"]) == cli.EXIT_OK


def test_lint_after_generate_prints_the_remembered_findings(cache_dir: Path, project: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """`lint` after `generate` lints nothing (README: the cache skips loading, checking and linting the spec): it
    prints the findings generate remembered, the same as linting the spec now."""
    expected = [f.record().text() for f in lint(build(Path("spec")).catalog)]
    assert cli.main(["generate", "--offline", "-q"]) == cli.EXIT_OK
    capsys.readouterr()

    def no_model(*args: object) -> None:
        raise AssertionError("loaded and linted again")

    monkeypatch.setattr(Cache, "catalog", no_model)
    assert cli.main(["lint"]) == 0
    assert capsys.readouterr().out.splitlines() == expected


def test_a_changed_spec_file_is_built_again(cache_dir: Path, project: Path) -> None:
    before = Cache(Path("spec")).build(keep=True)
    module = project / "spec" / "03-support-tickets.yaml"
    text = module.read_text(encoding="utf-8")
    assert "Source of ticket numbers" in text
    module.write_text(text.replace("Source of ticket numbers", "Where ticket numbers come from", 1), encoding="utf-8")
    after = Cache(Path("spec")).build(keep=True)
    assert after.files == build(Path("spec")).files != before.files


def test_the_key_covers_what_the_build_depends_on(cache_dir: Path, project: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    spec = Path("spec")
    key = buildcache.key(spec, include_platform=True)
    assert buildcache.key(spec, include_platform=True) == key
    assert buildcache.key(spec, include_platform=False) != key
    monkeypatch.chdir(tmp_path)  # diagnostics name the files relative to the working directory
    assert buildcache.key(project / "spec", include_platform=True) != key
    monkeypatch.chdir(project)
    (project / "spec" / "99-extra.yml").write_text("module: Extra\n", encoding="utf-8")  # a new file
    assert buildcache.key(spec, include_platform=True) != key
    (project / "spec" / "99-extra.yml").unlink()
    (project / "spec" / "notes.txt").write_text("not a spec file\n", encoding="utf-8")  # not read by the build
    assert buildcache.key(spec, include_platform=True) == key
    # The generator's own files: a copy of the package with one template changed.
    package = tmp_path / "generator"
    shutil.copytree(buildcache.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(buildcache, "PACKAGE", package)
    buildcache.generator_digest.cache_clear()
    try:
        assert buildcache.key(spec, include_platform=True) == key
        template = package / "templates" / "table.sql.j2"
        template.write_text(template.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        buildcache.generator_digest.cache_clear()
        assert buildcache.key(spec, include_platform=True) != key
    finally:
        buildcache.generator_digest.cache_clear()


def test_a_damaged_entry_is_a_miss(cache_dir: Path, project: Path) -> None:
    result = Cache(Path("spec")).build(keep=True)
    expected = Cache(Path("spec")).findings(result)
    for entry in cache_dir.iterdir():
        entry.write_bytes(b"not a cache entry")
    assert Cache(Path("spec")).outputs() is None
    assert Cache(Path("spec")).build(keep=True).files == result.files
    assert Cache(Path("spec")).findings(result) == expected
    assert Cache(Path("spec")).build().files == result.files  # written again
    assert all(entry.read_bytes() != b"not a cache entry" for entry in cache_dir.iterdir())


def test_off_writes_nothing(cache_dir: Path, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(buildcache.ENV_CACHE, "0")
    result = Cache(Path("spec")).build(keep=True)
    Cache(Path("spec")).findings(result)
    assert not cache_dir.exists()


def test_a_spec_with_mistakes_is_not_cached(cache_dir: Path, project: Path) -> None:
    module = project / "spec" / "03-support-tickets.yaml"
    module.write_text(module.read_text(encoding="utf-8") + "\nnot_a_key: 1\n", encoding="utf-8")
    for _ in range(2):
        assert cli.main(["check", "--offline", "-q"]) == cli.EXIT_SPEC
    assert not cache_dir.exists() or not any(cache_dir.iterdir())


def test_only_the_newest_keys_are_kept(cache_dir: Path) -> None:
    cache_dir.mkdir()
    for i in range(buildcache.KEEP + 3):
        name = f"{i:064x}"
        (cache_dir / name).write_bytes(b"")
        (cache_dir / f"{name}.out").write_bytes(b"")
        stamp = 1_000_000 + i
        for path in cache_dir.glob(f"{name}*"):
            os.utime(path, (stamp, stamp))
    buildcache._evict(cache_dir)
    kept = sorted(p.name for p in cache_dir.iterdir())
    assert kept == sorted(f"{i:064x}{suffix}" for i in range(3, buildcache.KEEP + 3) for suffix in ("", ".out"))


def test_check_after_generate_sees_every_change(cache_dir: Path, project: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """The commands with the cache on: warm runs pass, and an edited spec is stale again at once."""
    assert cli.main(["generate", "--offline", "-q"]) == cli.EXIT_OK
    assert cli.main(["check", "--offline", "-q"]) == cli.EXIT_OK
    assert cli.main(["check", "--offline", "-q"]) == cli.EXIT_OK
    assert cli.main(["lint"]) == 0
    module = project / "spec" / "03-support-tickets.yaml"
    module.write_text(module.read_text(encoding="utf-8").replace("Source of ticket numbers",
                                                                 "Where ticket numbers come from", 1), encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["check", "--offline", "-q"]) == cli.EXIT_FAILED
    assert "03-support-tickets.sql: out of date" in capsys.readouterr().err
    assert cli.main(["generate", "--offline", "-q"]) == cli.EXIT_OK
    assert cli.main(["check", "--offline", "-q"]) == cli.EXIT_OK


def test_check_from_the_cache_loads_nothing_of_the_build(cache_dir: Path, project: Path) -> None:
    """`check` after `generate` compares the remembered outputs with output/: the parser, the templates, the checks
    and lint stay unloaded in its process (importing them was most of its time). Run in a process of its own, as
    this one has loaded everything."""
    assert cli.main(["generate", "--offline", "-q"]) == cli.EXIT_OK
    heavy = ("pglast", "jinja2", "generator.check", "generator.lint", "generator.pipeline", "generator.render",
             "generator.verify")
    code = (f"import sys; from generator import cli; code = cli.main(['check', '--offline', '-q']); "
            f"print(code, [m for m in {heavy!r} if m in sys.modules])")
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert ran.stdout.splitlines() == ["0 []"], ran.stderr
    (project / "output" / "schema.sql").write_text("-- edited\n", encoding="utf-8")  # and it still finds staleness
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert ran.stdout.splitlines() == ["1 []"], ran.stderr


def test_a_spec_changed_during_the_build_is_not_filed(cache_dir: Path, project: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A file saved while the build reads the spec: its result belongs to neither text, so nothing is kept."""
    module = project / "spec" / "03-support-tickets.yaml"
    original = module.read_text(encoding="utf-8")
    cache = Cache(Path("spec"))  # the key: the text before the save
    real_build = pipeline.build

    def build_during_a_save(spec_dir: Path, **kwargs: bool) -> object:
        module.write_text(original.replace("Source of ticket numbers", "Where ticket numbers come from", 1),
                          encoding="utf-8")
        return real_build(spec_dir, **kwargs)

    monkeypatch.setattr(pipeline, "build", build_during_a_save)
    result = cache.build(keep=True)
    cache.findings(result)
    assert not cache_dir.exists() or not any(cache_dir.iterdir())
