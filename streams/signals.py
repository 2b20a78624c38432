"""Turn SIGINT/SIGTERM into a stop flag, so long-running loops end cleanly instead of dying mid-write."""

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Protocol


class Flag(Protocol):
    """What `threading.Event` and `multiprocessing.Event` share: a stop or idle flag across threads or processes."""

    def is_set(self) -> bool: ...

    def set(self) -> None: ...

    def clear(self) -> None: ...

    def wait(self, timeout: float | None = None) -> bool: ...


def stop_on_signals(stop: Flag) -> Callable[[], None]:
    """Set `stop` on SIGINT/SIGTERM; returns a function that restores the previous handlers.

    Signal handlers can only be installed from the main thread; elsewhere (a
    lander in a worker thread) the caller's own `stop` event is the only way in.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, frame: FrameType | None) -> None:
        # Not stop.set() here: the handler runs between two bytecodes of the main thread, which may
        # hold the flag's own lock at that moment. A helper thread waits for the lock instead.
        threading.Thread(target=stop.set, name="stop-on-signal", daemon=True).start()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore
