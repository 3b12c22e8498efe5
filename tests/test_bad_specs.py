"""The corpus of bad specs: every mistake is reported where it was made, all at once, and nothing is written.

Each case is a directory under bad_specs/ holding a small spec/ and expected.txt. Each line of expected.txt reads
`spec/FILE.yaml:LINE:COL: text`: some diagnostic on stderr must have exactly that FILE:LINE:COL and contain the text
in its message. Cases run with the case directory as working directory, so diagnostics name files `spec/...`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from specs import run_in_process

from generator import cli

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "bad_specs"
GOOD_SPEC = ROOT / "spec"
# `FILE:LINE:COL: message`, the one shape a spec mistake is printed in.
DIAGNOSTIC = re.compile(r"(?P<where>[^\s:][^:]*:[1-9][0-9]*:[1-9][0-9]*): (?P<message>.+)\Z")
SUMMARY = re.compile(r"[0-9]+ errors? in the spec; nothing written\.\Z")


def case_dirs() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if (p / "spec").is_dir())


def expected_diagnostics(case: Path) -> list[tuple[str, str]]:
    lines = [line for line in (case / "expected.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    assert lines, f"{case.name}/expected.txt lists no diagnostics"
    parsed = []
    for line in lines:
        m = DIAGNOSTIC.match(line)
        assert m, f"{case.name}/expected.txt: not `FILE:LINE:COL: text`: {line!r}"
        parsed.append((m["where"], m["message"]))
    return parsed


def run_check(case: Path, out: Path, *, process: bool = False) -> subprocess.CompletedProcess[str]:
    """`pgspec check` on a case, in this process (a subprocess per case cost half a second of interpreter start
    for nothing the case tests; under mutmut it must be this process anyway), or in a real one (`process=True`:
    what a user runs, exit status and streams included; not under mutmut, whose mutants a subprocess would not
    import)."""
    args = ["check", "--spec", str(case / "spec"), "--out", str(out)]
    if not process or os.environ.get("MUTANT_UNDER_TEST"):
        return run_in_process(case, args)
    # PYTHONPATH: the case directory is the working directory, yet `generator` must be this checkout's.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=case, env=env, capture_output=True,
                          text=True, check=False)


@pytest.mark.parametrize("case", case_dirs(), ids=lambda p: p.name)
def test_bad_spec_is_reported(case: Path, tmp_path: Path) -> None:
    out = _empty(tmp_path / "out")
    assert_reported(case, out, run_check(case, out))


def test_bad_spec_is_reported_by_a_real_process(tmp_path: Path) -> None:
    """The corpus runs in this process; one case, with errors in several files, as a user's shell runs it."""
    case = CASES / "several_mistakes_two_files"
    out = _empty(tmp_path / "out")
    assert_reported(case, out, run_check(case, out, process=True))


def _empty(directory: Path) -> Path:
    directory.mkdir()
    return directory


def assert_reported(case: Path, out: Path, result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 2, f"exit code {result.returncode}\n{result.stdout}{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert lines and SUMMARY.match(lines[-1]), result.stderr
    diagnostics = []
    for line in lines[:-1]:
        m = DIAGNOSTIC.match(line)
        assert m and m["where"].startswith("spec/"), f"not a diagnostic of this case's spec: {line!r}"
        diagnostics.append((m["where"], m["message"]))
    missing = [f"{where}: {text}" for where, text in expected_diagnostics(case)
               if not any(where == got_where and text in message for got_where, message in diagnostics)]
    assert not missing, "expected but not reported:\n  " + "\n  ".join(missing) + "\nstderr:\n" + result.stderr
    assert list(out.iterdir()) == [], "check wrote into the output directory"


def _snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Every file's bytes and modification time: a failing run must not even rewrite identical content."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(directory.iterdir())}


def _yaml_syntax_error(spec: Path) -> None:
    first = sorted(spec.glob("*.yaml"))[0]
    first.write_text(first.read_text(encoding="utf-8") + "\nbroken: {unclosed: [\n", encoding="utf-8")


def _unknown_key(spec: Path) -> None:
    last = sorted(spec.glob("*.yaml"))[-1]
    last.write_text(last.read_text(encoding="utf-8") + "\ntabels: {}\n", encoding="utf-8")


def _dangling_reference(spec: Path) -> None:
    (spec / "99-broken.yaml").write_text(
        "module: Broken\ntables:\n  broken:\n    columns:\n      id: {type: integer, references: nowhere(id)}\n",
        encoding="utf-8")


@pytest.mark.parametrize("breakage", [_yaml_syntax_error, _unknown_key, _dangling_reference],
                         ids=["yaml-syntax", "unknown-key", "dangling-reference"])
def test_failing_generate_leaves_output_untouched(breakage: Callable[[Path], None], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    spec, out = tmp_path / "spec", tmp_path / "output"
    shutil.copytree(GOOD_SPEC, spec)
    assert cli.main(["generate", "--quiet", "--spec", str(spec), "--out", str(out)]) == 0, capsys.readouterr().err
    before = _snapshot(out)
    assert any(name.endswith(".sql") for name in before)
    capsys.readouterr()
    breakage(spec)
    assert cli.main(["generate", "--quiet", "--spec", str(spec), "--out", str(out)]) == 2
    assert "in the spec; nothing written." in capsys.readouterr().err
    assert _snapshot(out) == before
