"""The convention every benchmark of the project follows.

Each benchmark is a plain script (``python benchmarks/<name>.py``) that prints one
JSON object per line on stdout, one per measure::

    {"name": "search.app_median", "value": 1.21, "unit": "ms", "target": "<= 5", "ok": true}

* ``name``   -- stable dotted identifier, so results can be compared across runs;
* ``value``  -- the number measured, rounded for reading;
* ``unit``   -- "ms", "s", "x" (a ratio), "rows"...;
* ``target`` -- the requirement from the issue as ``"<= 5"`` or ``">= 150"``, or
  null for a measure that is only informative (build time, per-query detail);
* ``ok``     -- whether the value meets the target, null when there is none;
* ``notes``  -- optional, only present when a measure needs a word of context.

Why JSON lines: CI and humans can both read them, and ``grep``/``jq`` are enough
to compare two runs. Progress and diagnostics go to stderr so stdout stays
machine-readable.

Every script accepts ``--quick`` (smaller sizes, a smoke run that proves the
benchmark still works) and ``--check`` (exit status 1 when a measure with a
target misses it), through `parser()` and `finish()`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": lambda v, t: v <= t,
    ">=": lambda v, t: v >= t,
    "<": lambda v, t: v < t,
    ">": lambda v, t: v > t,
}

# Every measure emitted by this process, so `finish()` can decide the exit status.
_emitted: list[dict[str, Any]] = []


def meets(value: float, target: str | None) -> bool | None:
    """Whether `value` satisfies a target such as ``"<= 5"``; None when there is no target."""
    if target is None:
        return None
    op, _, bound = target.strip().partition(" ")
    if op not in _OPS:
        raise ValueError(f"target must look like '<= 5' or '>= 150', not {target!r}")
    return _OPS[op](value, float(bound))


def emit(
    name: str,
    value: float,
    unit: str,
    target: str | None = None,
    *,
    notes: str | None = None,
    digits: int = 3,
) -> dict[str, Any]:
    """Print one measure as a JSON line on stdout (flushed, so a crash keeps earlier lines)."""
    record: dict[str, Any] = {
        "name": name,
        "value": round(value, digits),
        "unit": unit,
        "target": target,
        # Judged on the unrounded value, so rounding never turns a miss into a pass.
        "ok": meets(value, target),
    }
    if notes:
        record["notes"] = notes
    _emitted.append(record)
    print(json.dumps(record, ensure_ascii=False), flush=True)
    return record


def progress(message: str) -> None:
    """A human-readable line on stderr (never mixed with the JSON on stdout)."""
    print(message, file=sys.stderr, flush=True)


def time_ns(fn: Callable[[], object]) -> int:
    """Duration of one call of `fn`, in nanoseconds (perf_counter_ns: monotonic, no float loss)."""
    start = time.perf_counter_ns()
    fn()
    return time.perf_counter_ns() - start


def median_ns(fn: Callable[[], object], repeat: int, *, warmup: int = 1) -> float:
    """Median duration of `fn` over `repeat` calls, after `warmup` untimed calls.

    The median, not the mean: one scheduler hiccup or GC pause must not move the result.
    """
    for _ in range(warmup):
        fn()
    return statistics.median(time_ns(fn) for _ in range(repeat))


def interleaved_ns(
    fns: Mapping[str, Callable[[], object]], repeat: int, *, warmup: int = 1
) -> dict[str, list[int]]:
    """Time several functions in turn (a, b, b, a, a, b, ...) and return every sample per name.

    Comparisons (app vs raw SQL, encrypted vs plain) are only fair when noise -- CPU
    frequency, other processes, page cache -- hits both sides equally; interleaving does
    that, timing one side after the other does not. The order is reversed every other
    round so that neither side always runs on caches the other just warmed.
    """
    items = list(fns.items())
    for _ in range(warmup):
        for _name, fn in items:
            fn()
    samples: dict[str, list[int]] = {name: [] for name in fns}
    for i in range(repeat):
        for name, fn in items if i % 2 == 0 else reversed(items):
            samples[name].append(time_ns(fn))
    return samples


def ms(ns: float) -> float:
    return ns / 1e6


def parser(description: str) -> argparse.ArgumentParser:
    """An ArgumentParser with the two options every benchmark accepts."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--check",
        action="store_true",
        help="exit with status 1 when a measure with a target misses it",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="smaller sizes: a smoke run proving the benchmark works, not a measurement",
    )
    return p


def finish(args: argparse.Namespace) -> int:
    """Exit status for the script: 1 under --check when any emitted target was missed."""
    missed = [m["name"] for m in _emitted if m["ok"] is False]
    if missed:
        progress("missed targets: " + ", ".join(missed))
    return 1 if args.check and missed else 0
