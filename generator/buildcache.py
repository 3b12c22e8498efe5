"""A content-addressed cache of what `generate` and `check` compute from a spec, so that `check` after `generate`
(or either run again on an unchanged spec) does not load, check, render, verify and lint the same spec twice.

The key is a SHA-256 of everything the build reads or depends on: each spec file's bytes, name and the path
diagnostics show for it (relative to the working directory), the target (platform modules kept or not), and the
generator itself (every file of the package: code, templates, catalog SQL) with the versions of Python, pglast,
Jinja and PyYAML. Any change gives another key, so an entry is never stale, only unused; the newest few keys are
kept. A spec with mistakes is never cached (its errors are found again). Per key: the output files, the
verifier's mismatches and lint's findings (small: what `check --offline` and `lint` need), and, written only by a
run that had the PostgreSQL judge run, the whole build (the model, placed items and pieces the judge needs). The
judge itself and the comparison with output/ run on every command.

Entries live outside the project, in $PGSPEC_CACHE_DIR (default: $XDG_CACHE_HOME/pgspec, else ~/.cache/pgspec):
they are pickles, which a process must only read from a place that nobody else writes to (a repository could
otherwise carry one). Deleting the directory is always safe. PGSPEC_CACHE=0 (or off, false, no) turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import pickle
import sys
import tempfile
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from .diagnostics import Mismatch
from .load import display_path, load_spec, spec_files
from .output import OutputFile
from .report import Finding

if TYPE_CHECKING:
    from .derive import Catalog
    from .pipeline import Build

# The pipeline, the checks and lint are imported where a build is made, not here: `check` after `generate` reads
# the remembered outputs and needs none of them (loading them was most of its time).

T = TypeVar("T")

FORMAT = b"pgspec build cache 1"
ENV_CACHE = "PGSPEC_CACHE"
ENV_DIR = "PGSPEC_CACHE_DIR"
KEEP = 8  # entries kept (the newest by modification time); one per spec version and target in use
PACKAGE = Path(__file__).resolve().parent


def enabled() -> bool:
    return os.environ.get(ENV_CACHE, "").lower() not in ("0", "off", "false", "no")


def cache_dir() -> Path:
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pgspec"


@cache
def generator_digest() -> bytes:
    """What the generator's own behaviour depends on: its files and the libraries that shape its results."""
    import yaml  # loaded by every command (the spec's reader)

    h = hashlib.sha256(FORMAT)
    for part in (sys.version, yaml.__version__, str(getattr(yaml, "__with_libyaml__", False))):
        h.update(part.encode() + b"\0")
    # pglast's and Jinja's versions, read from the file that declares them (`__version__` in the package's
    # __init__.py) without importing them: `check` with a warm cache uses neither, and importing both cost more
    # than the rest of it.
    for library in ("pglast", "jinja2"):
        spec = importlib.util.find_spec(library)
        h.update(library.encode() + b"\0")
        if spec is not None and spec.origin is not None:
            h.update(hashlib.sha256(Path(spec.origin).read_bytes()).digest())
    for path in sorted(p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.digest()


def key(spec_dir: Path, *, include_platform: bool) -> str:
    """The cache key of building `spec_dir` (which must be a directory) from this working directory."""
    h = hashlib.sha256(generator_digest())
    h.update(b"platform" if include_platform else b"no platform")
    h.update(spec_dir.name.encode() + b"\0")
    for path in spec_files(spec_dir):
        h.update(f"{path.name}\0{display_path(path)}\0".encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


@dataclass(frozen=True)
class Outputs:
    """What `check --offline` needs of a build, small enough to write on every run: the output files, the
    verifier's mismatches and lint's findings."""

    files: list[OutputFile]
    mismatches: list[Mismatch]
    findings: list[Finding]


class Cache:
    """The cache entries of one spec directory as it is now: KEY.out (Outputs), and KEY, the whole build, which
    only the PostgreSQL judge needs (its model, placed items and pieces: ten times the size and the time to
    write), so it is written only by a run that judged. No entry at all when the cache is off or the spec cannot
    be read (the build reports that)."""

    def __init__(self, spec_dir: Path, *, include_platform: bool = True) -> None:
        self.spec_dir = spec_dir
        self.include_platform = include_platform
        self.entry: Path | None = None
        if enabled() and spec_dir.is_dir():
            with contextlib.suppress(OSError):
                self.entry = cache_dir() / key(spec_dir, include_platform=include_platform)

    @property
    def _outputs_entry(self) -> Path | None:
        return None if self.entry is None else self.entry.with_name(f"{self.entry.name}.out")

    def build(self, *, keep: bool = False) -> Build:
        """`build(spec_dir)`: the whole build from the cache when a run kept it, else built (and kept when
        `keep`: the caller judges it)."""
        from .pipeline import Build, build

        found = _read(self.entry, Build)
        if found is not None:
            return found
        result = build(self.spec_dir, include_platform=self.include_platform)
        if keep and self._unchanged():
            _write(self.entry, result)
        return result

    def outputs(self) -> Outputs | None:
        """The output files, mismatches and lint findings of this spec, when a run remembered them."""
        return _read(self._outputs_entry, Outputs)

    def findings(self, result: Build) -> list[Finding]:
        """`lint(result.catalog)`, from the cache when remembered; remembers them with the outputs."""
        found = self.outputs()
        if found is not None:
            return found.findings
        from .lint import lint

        findings = lint(result.catalog)
        if self._unchanged():
            _write(self._outputs_entry, Outputs(result.files, result.mismatches, findings))
        return findings

    def _unchanged(self) -> bool:
        """Whether the spec is still what the key was computed from: a file saved while the build read the spec
        must not file that build under the key of the text before (a later undo would be served it)."""
        try:
            return self.entry is not None and key(self.spec_dir, include_platform=self.include_platform) == \
                self.entry.name
        except OSError:
            return False

    def catalog(self) -> Catalog:
        """The checked catalog: the cached build's, else `check(load_spec(spec_dir))` (not cached: a command that
        needs no SQL does not pay for rendering it)."""
        from .check import check

        found: Build | None = None
        # Reading a build loads the pipeline (the renderer with Jinja, the verifier), which `lint` of the spec does
        # not use otherwise: loaded only when a build was kept.
        if self.entry is not None and self.entry.is_file():
            from .pipeline import Build

            found = _read(self.entry, Build)
        return found.catalog if found is not None else check(load_spec(self.spec_dir))


def _read(entry: Path | None, kind: type[T]) -> T | None:
    if entry is None:
        return None
    try:
        data = entry.read_bytes()
    except OSError:
        return None
    try:
        result = pickle.loads(zlib.decompress(data))
    except Exception:  # a damaged or foreign entry is a miss: the work is done and the entry written again
        return None
    if not isinstance(result, kind):
        return None
    with contextlib.suppress(OSError):
        os.utime(entry)  # recently used: kept by the eviction
    return result


def _write(entry: Path | None, result: object) -> None:
    """Best effort: a cache that cannot be written only means the next run builds again."""
    if entry is None:
        return
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        data = zlib.compress(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL), 1)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, entry)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _evict(entry.parent)
    except (OSError, pickle.PicklingError, RecursionError):
        pass


def _evict(directory: Path) -> None:
    """Keep the entries of the KEEP most recently used keys (a build and its outputs share a key)."""
    newest: dict[str, float] = {}
    for path in directory.iterdir():
        if len(path.name) >= 64 and not path.name.startswith("."):
            try:
                newest[path.name[:64]] = max(newest.get(path.name[:64], 0.0), path.stat().st_mtime)
            except OSError:
                continue
    for stale in sorted(newest, key=lambda k: newest[k], reverse=True)[KEEP:]:
        for path in directory.glob(f"{stale}*"):
            path.unlink(missing_ok=True)
