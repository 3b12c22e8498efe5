"""Migrations: from a database (or an older spec) to the spec, as a reviewed, ordered, hazard-checked SQL script.

The pipeline, top to bottom:

    old side (live database, or an older spec)  --snapshot--> Snapshot (model objects, as introspect reads them)
    declared renames (`renamed_from:`)           --renames--> the old snapshot under the new names
    drift.compare(new spec, old snapshot)        -----------> differences (kind, key, field)
    differences                                  --planner--> typed changes (changes.py), with dependants
    changes                                      --order----> one dependency-sorted list (phases, graph ranks)
    changes                                      --hazards--> named hazards per change (hazards.py)
    plan                                         --script---> SQL text for psql, JSON, or `apply` (live)

The differences are the ones `verify --db` prints, so a plan is empty exactly when `verify` finds no drift.
"""

from dataclasses import dataclass

# The hazard kinds (hazards.py says what each means) and the settings of an --online plan: here, not in hazards.py
# and script.py, so that the command line declares its options without loading the planner.
KINDS = ("data-loss", "rewrite", "lock", "index-build", "authz")
REFUSED_BY_DEFAULT = frozenset({"data-loss"})


@dataclass(frozen=True)
class Timeouts:
    """Session settings an --online plan starts with, so a blocked lock fails fast instead of queueing."""

    lock: str = "5s"
    statement: str = "15min"
