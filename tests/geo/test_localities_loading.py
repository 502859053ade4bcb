"""The SIMC register is loaded once per process, also when a fresh worker's threads all ask at once."""
from __future__ import annotations

import threading

from geo import localities


def test_threads_asking_at_once_share_one_load():
    localities._load_register.cache_clear()
    start = threading.Barrier(8)
    got: list[localities.Register] = []

    def ask() -> None:
        start.wait()
        got.append(localities.register())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8
    assert all(r is got[0] for r in got), "each thread loaded its own copy of the register"
    assert localities.register() is got[0]
