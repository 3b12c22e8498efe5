"""Mutation testing of the pure modules with mutmut: the score per module and the surviving mutants.

`make mutation` runs every mutant of the modules listed under [tool.mutmut] only_mutate in pyproject.toml (check,
derive, order, render, verify, drift, lint, access; the live harness is left out), each against the tests that
need no database and that cover the mutated function (mutmut selects them from a coverage run). It then writes:

- bench/mutation/score.json: killed / survived / no tests / timeout per module, and the score;
- bench/mutation/survivors-MODULE.txt: each surviving mutant as a diff (`mutmut show`), to be killed by a new test
  or explained as equivalent in bench/RESULTS.md;
- the table between the `mutation:start` / `mutation:end` markers of bench/RESULTS.md.

Results accumulate per module: `bench/mutation.py PATTERN...` (e.g. 'generator.derive.*', or the names of a
module's survivors after adding tests) runs only the matching mutants, then rewrites the rows of the modules those
patterns touch, each counted over all of that module's mutants in mutants/ (the ones not run yet show as "not
checked"); the rows of other modules in score.json (from earlier runs, possibly in another checkout) are kept.

`bench/mutation.py --sample N PATTERN...` runs N mutants of each module the patterns match, drawn at random
(seeded by the module's name), and reports the score of those N only, with its margin (95 %): check and drift
have ~4,000 mutants each, hours on this machine. `--sample N --report PATTERN...` reports the same sample again
without running it.

`make mutation-smoke` (under 3 minutes) runs only the mutants named by the patterns given on the command line
(default: generator.access.x_resolve_path*, 44 mutants) and reports them, without touching the committed
results. `bench/mutation.py --report PATTERN...` writes the results of earlier runs without running mutmut.

mutmut runs under `nice -n 19` (the machines have 2 shared cores) with 2 children. The score counts a timeout as
killed (mutmut's convention) and leaves out mutants no test reaches ("no tests"), which are listed apart.
"""

from __future__ import annotations

import json
import math
import random
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTMUT = [sys.executable, "-m", "mutmut"]
OUT = ROOT / "bench" / "mutation"
RESULTS = ROOT / "bench" / "RESULTS.md"
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 36: "timeout",
          24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", 37: "killed", None: "not checked"}


def sync_data_files() -> None:
    """Copy generator/'s files that are not Python (templates, catalog queries, the editor schema) into an existing
    mutants/generator/: mutmut refreshes the .py files it mutates and nothing else, so after a change to a template
    or a .sql file every test of the old copy fails its clean run ("Failed to run clean test")."""
    target = ROOT / "mutants" / "generator"
    if not target.is_dir():
        return  # mutmut copies everything when it creates mutants/
    for source in (ROOT / "generator").rglob("*"):
        if source.is_file() and source.suffix not in (".py", ".pyc", ".meta"):
            copy = target / source.relative_to(ROOT / "generator")
            if not copy.exists() or copy.read_bytes() != source.read_bytes():
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, copy)


def run_mutmut(patterns: list[str]) -> float:
    sync_data_files()
    started = time.perf_counter()
    log = ROOT / "mutants" / "run.log"  # mutmut's progress output; its last lines say why a run failed
    log.parent.mkdir(exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        done = subprocess.run(["nice", "-n", "19", *MUTMUT, "run", "--max-children", "2", *patterns], cwd=ROOT,
                              check=False, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").replace("\r", "\n").splitlines()[-5:]
        sys.exit(f"mutmut failed (exit {done.returncode}), end of {log}:\n" + "\n".join(tail))
    return time.perf_counter() - started


def statuses(patterns: list[str]) -> dict[str, str]:
    """mutant name -> status, from mutmut's meta files (those matching the patterns)."""
    out = {}
    for meta in sorted((ROOT / "mutants" / "generator").glob("*.py.meta")):
        for name, code in json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"].items():
            if any(re.fullmatch(p.replace(".", r"\.").replace("*", ".*"), name) for p in patterns):
                out[name] = STATUS.get(code, "suspicious")
    return out


def module_of(mutant: str) -> str:
    return mutant.split(".")[1]


def summary(found: dict[str, str]) -> dict[str, dict[str, int | float]]:
    table: dict[str, dict[str, int | float]] = {}
    for module in sorted({module_of(m) for m in found}):
        counts = Counter(s for m, s in found.items() if module_of(m) == module)
        tested = counts["killed"] + counts["timeout"] + counts["survived"]
        table[module] = {**counts, "score": round(100 * (counts["killed"] + counts["timeout"]) / tested, 1)
                         if tested else 0.0}
    return table


def markdown(table: dict[str, dict[str, int | float]], seconds: float) -> str:
    took = f", {seconds / 60:.0f} min" if seconds else ""
    lines = ["<!-- mutation:start -->", f"## Mutation score (mutmut, `make mutation`{took})", "",
             "| module | killed | survived | timeout | no tests | not run | score |", "|---|---|---|---|---|---|---|"]
    for module, c in table.items():
        lines.append(f"| {module} | {c.get('killed', 0)} | {c.get('survived', 0)} | {c.get('timeout', 0)} | "
                     f"{c.get('no tests', 0)} | {c.get('not checked', 0)} | {c['score']} %"
                     + (f" (random sample, ± {c['margin']} at 95 %)" if "margin" in c else "") + " |")
    lines += ["", "Survivors: bench/mutation/survivors-MODULE.txt (each a diff); see the notes below the table.",
              "<!-- mutation:end -->"]
    return "\n".join(lines)


def write_survivors(found: dict[str, str]) -> None:
    for module in sorted({module_of(m) for m in found}):
        survivors = sorted(m for m, s in found.items() if module_of(m) == module and s in ("survived", "no tests"))
        parts = []
        for mutant in survivors:
            shown = subprocess.run([*MUTMUT, "show", mutant], cwd=ROOT, capture_output=True, text=True, check=False)
            parts.append(f"# {mutant} ({found[mutant]})\n{shown.stdout.strip()}\n")
        (OUT / f"survivors-{module}.txt").write_text("\n".join(parts), encoding="utf-8")


def sample(patterns: list[str], size: int) -> list[str]:
    """`size` mutants of each module the patterns match, drawn at random (seeded by the module's name, so a rerun
    draws the same ones) among those matched: the modules too large for a full run on this machine (check,
    drift: 4,000 mutants each, hours) get a score estimated from a sample, with its margin."""
    matched = statuses(patterns)
    chosen: list[str] = []
    for module in sorted({module_of(m) for m in matched}):
        names = sorted(m for m in matched if module_of(m) == module)
        chosen += sorted(random.Random(module).sample(names, min(size, len(names))))
    return chosen


def margin(score: float, run: int, population: int) -> float:
    """Half the width of the 95 % confidence interval of a score measured on `run` mutants drawn at random among
    `population` (normal approximation, finite-population correction), in points."""
    p = score / 100
    if run < 2 or population < 2:
        return 0.0
    return round(100 * 1.96 * math.sqrt(p * (1 - p) / run) * math.sqrt((population - run) / (population - 1)), 1)


def main(argv: list[str]) -> int:
    smoke = argv[:1] == ["--smoke"]
    report_only = "--report" in argv[:3]  # write the results of earlier runs (e.g. one module at a time)
    sampled = argv[:1] == ["--sample"]  # --sample N [--report] PATTERN...: N random mutants of each module
    patterns = [a for a in (argv[2:] if sampled else argv[1:] if smoke or report_only else argv) if a != "--report"]
    if not patterns:
        patterns = ["generator.access.x_resolve_path*"] if smoke else ["generator.*"]
    if sampled:
        patterns = sample(patterns, int(argv[1]))
    seconds = 0.0 if report_only else run_mutmut(patterns)
    found = statuses(patterns)
    table = summary(found)
    print(json.dumps(table, indent=2))
    print(f"{len(found)} mutants in {seconds:.0f} s")
    if smoke:
        return 0 if found else 1
    # every mutant of each module the patterns touch, so that a rerun of a few survivors keeps the module's row whole
    found = statuses([f"generator.{module}.*" for module in table])
    if sampled:  # only the sample counts: results of an earlier sample (kept by mutmut for unchanged code) do not
        found = {m: s if m in patterns else "not checked" for m, s in found.items()}
    table = summary(found)
    if sampled:  # the score of a sample is an estimate: its margin goes with it
        for c in table.values():
            run = int(c.get("killed", 0) + c.get("timeout", 0) + c.get("survived", 0))
            c["margin"] = margin(float(c["score"]), run, run + int(c.get("not checked", 0)))
    OUT.mkdir(parents=True, exist_ok=True)
    score = OUT / "score.json"
    earlier = json.loads(score.read_text(encoding="utf-8")) if score.exists() else {}
    table = dict(sorted({**earlier, **table}.items()))
    score.write_text(json.dumps(table, indent=2) + "\n", encoding="utf-8")
    write_survivors(found)
    text = RESULTS.read_text(encoding="utf-8")
    block = markdown(table, seconds if patterns == ["generator.*"] else 0.0)  # a partial run's time is in the notes
    if "<!-- mutation:start -->" in text:
        text = re.sub(r"<!-- mutation:start -->.*?<!-- mutation:end -->", lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
