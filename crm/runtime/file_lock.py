"""File locks shared by the Rasa workers on one machine (flock: the kernel drops a lock when its
process ends, so a crashed worker never leaves one behind)."""

from __future__ import annotations

import contextlib
import fcntl
import threading
from pathlib import Path
from typing import IO, Iterator, Optional


@contextlib.contextmanager
def exclusive(path: Path, threads: threading.Lock) -> Iterator[None]:
    """Wait for `path`'s lock, held against the other processes and, through `threads`, this
    process's other threads (a flock belongs to an open file, not to a thread). Blocks the caller
    only: call it from a pool thread, not the event loop. `path`'s folder must exist."""
    with threads, open(path, "a") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(guard, fcntl.LOCK_UN)


def hold(path: Path) -> Optional[IO[str]]:
    """Take `path`'s lock for as long as the returned file stays open (the process's life), or
    None at once when another process has it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle
