"""A content-addressed cache of `build`'s result, so that `check` after `generate` (or either run again on an
unchanged spec) does not load, check, render and verify the same spec twice.

The key is a SHA-256 of everything the build reads or depends on: each spec file's bytes, name and the path
diagnostics show for it (relative to the working directory), the target (platform modules kept or not), and the
generator itself (every file of the package: code, templates, catalog SQL) with the versions of Python, pglast,
Jinja and PyYAML. Any change gives another key, so an entry is never stale, only unused; the newest few are kept.
A spec with mistakes is never cached (its errors are found again). The PostgreSQL judge, the comparison with
output/ and lint still run on every command: only the offline pipeline's result is reused.

Entries live outside the project, in $PGSPEC_CACHE_DIR (default: $XDG_CACHE_HOME/pgspec, else ~/.cache/pgspec):
they are pickles, which a process must only read from a place that nobody else writes to (a repository could
otherwise carry one). Deleting the directory is always safe. PGSPEC_CACHE=0 (or off, false, no) turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
import tempfile
import zlib
from functools import cache
from pathlib import Path
from typing import TypeVar

from . import lint as linting
from .check import check
from .derive import Catalog
from .lint import API_SCHEMAS, Finding
from .load import display_path, load_spec, spec_files
from .pipeline import Build, build

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
    import jinja2
    import pglast
    import yaml

    h = hashlib.sha256(FORMAT)
    for part in (sys.version, pglast.__version__, jinja2.__version__, yaml.__version__,
                 str(getattr(yaml, "__with_libyaml__", False))):
        h.update(part.encode() + b"\0")
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


class Cache:
    """The cache entry of one spec directory as it is now (None: the cache is off, or the spec cannot be read,
    which the build reports)."""

    def __init__(self, spec_dir: Path, *, include_platform: bool = True) -> None:
        self.spec_dir = spec_dir
        self.include_platform = include_platform
        self.entry: Path | None = None
        if enabled() and spec_dir.is_dir():
            with contextlib.suppress(OSError):
                self.entry = cache_dir() / key(spec_dir, include_platform=include_platform)

    def build(self) -> Build:
        """`build(spec_dir)`, from the cache when this spec was built before by this generator."""
        found = _read(self.entry, Build)
        if found is not None:
            return found
        result = build(self.spec_dir, include_platform=self.include_platform)
        _write(self.entry, result)
        return result

    def catalog(self) -> Catalog:
        """The checked catalog: the cached build's, else `check(load_spec(spec_dir))` (not cached: a command that
        needs no SQL does not pay for rendering it)."""
        found = _read(self.entry, Build)
        return found.catalog if found is not None else check(load_spec(self.spec_dir))

    def lint(self, catalog: Catalog, api_schemas: tuple[str, ...] = API_SCHEMAS) -> list[Finding]:
        """`lint(catalog)` of this spec's catalog (the one `build` returned), remembered beside the build."""
        entry = None if self.entry is None else self.entry.with_name(
            f"{self.entry.name}.lint-{hashlib.sha256(repr(api_schemas).encode()).hexdigest()[:16]}")
        found = _read(entry, list)
        if found is not None:
            return found
        findings = linting.lint(catalog, api_schemas=api_schemas)
        _write(entry, findings)
        return findings


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
    """Keep the entries of the KEEP most recently used keys (a build and its lint findings share a key)."""
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
