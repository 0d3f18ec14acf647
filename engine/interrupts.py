"""Ctrl-C held off around a commit, so the command can say truthfully what was saved."""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold SIGINT off for the body and raise KeyboardInterrupt after it, if one came.

    Only the main thread receives signals; elsewhere (the bot's scans) the body
    just runs.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt
