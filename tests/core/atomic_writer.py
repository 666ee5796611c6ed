"""Child process of test_files: replaces a keyslots.json and stops at one step of it.

Run from the project root as ``python -m tests.core.atomic_writer PATH STEP``. The new
slots are ``[{"kind": "new"}]``. A step is a system call of the replacement and its
occurrence, seen through ``sys.setprofile`` (no hook in the code under test):

  ``fsync:1``        stop just before the first fsync and wait to be killed
  ``replace:1:after`` stop just after the first rename returned
  ``trace``          no stop: print the steps in the order they ran, then exit

Protocol on stdout, one flushed line each: ``AT <step>`` at the stop (then waits on stdin,
which the test never writes to), ``STEPS <name> <name> ...`` for a trace.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from havre_desktop.core.keys import KeySlots

EXIT_NOT_KILLED = 3


def step_name(function: Any) -> str | None:
    """The step a C function call is, if it is one: a write to a file, an fsync, a rename."""
    if function is os.fsync:
        return "fsync"
    if function is os.replace:
        return "replace"
    target = getattr(function, "__self__", None)
    if (
        getattr(function, "__name__", "") == "write"
        and isinstance(target, io.IOBase)
        and target not in (sys.stdout, sys.stderr)
    ):
        return "write"
    return None


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> int:
    path, wanted = Path(sys.argv[1]), sys.argv[2]
    name, _, rest = wanted.partition(":")
    occurrence, _, when = rest.partition(":")
    stop_event = "c_return" if when == "after" else "c_call"
    counts: dict[str, int] = {}
    steps: list[str] = []

    def profiler(frame: FrameType, event: str, arg: Any) -> None:
        if event not in ("c_call", "c_return"):
            return
        step = step_name(arg)
        if step is None:
            return
        if event == "c_call":
            counts[step] = counts.get(step, 0) + 1
            steps.append(step)
        if wanted != "trace" and (event, step, str(counts.get(step))) == (
            stop_event,
            name,
            occurrence,
        ):
            say(f"AT {wanted}")
            sys.stdin.readline()  # the test kills this process here
            sys.exit(EXIT_NOT_KILLED)

    sys.setprofile(profiler)
    KeySlots(path).write([{"kind": "new"}])
    sys.setprofile(None)
    if wanted == "trace":
        say("STEPS " + " ".join(steps))
        return 0
    return EXIT_NOT_KILLED  # the step never came


if __name__ == "__main__":
    sys.exit(main())
