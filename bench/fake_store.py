"""One fake store process for the benchmark: ``python -m app.testing`` that also ends itself
once the benchmark that started it is gone, even if that was killed with SIGKILL and could not
stop it. Same arguments as ``python -m app.testing``."""

from __future__ import annotations

import os
import sys
import threading
import time

from app.testing.server import main

PARENT_ENV = "WCSYNC_BENCH_PARENT_PID"


def exit_with_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os._exit(0)  # orphaned: nobody will read our stats or stop us


if __name__ == "__main__":
    parent = os.environ.get(PARENT_ENV)
    if parent is not None:
        threading.Thread(target=exit_with_parent, args=(int(parent),), daemon=True).start()
    sys.exit(main())
