"""One morfeusz2 analyser per process: threads share it (behind a lock) and get the same lemmas as
a single thread does."""
from __future__ import annotations

import threading

from index import analysis

WORDS = ("Miejskiego", "Ośrodka", "Pomocy", "Społecznej", "w", "Zabłudowie", "centrami", "integracji",
         "społecznej", "warsztatów", "terapii", "zajęciowej", "powiatowemu", "urzędowi", "pracy", "klubami",
         "domach", "pomocy")


def test_eight_threads_share_one_analyser_and_agree_with_one_thread():
    analysis.lemmas.cache_clear()
    analysis._generated_forms.cache_clear()
    serial = {word: analysis.lemmas(word) for word in WORDS}
    forms = analysis._generated_forms("ośrodek")
    assert serial["Ośrodka"] == ("ośrodek",) and "ośrodkach" in forms
    analysis.lemmas.cache_clear()
    analysis._generated_forms.cache_clear()

    barrier = threading.Barrier(8)
    seen: list[tuple[int, dict[str, tuple[str, ...]], tuple[str, ...]]] = []
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            barrier.wait(timeout=30)
            order = WORDS[offset:] + WORDS[:offset]   # every thread asks in another order
            got = {word: analysis.lemmas(word) for word in order}
            seen.append((id(analysis._morfeusz()), got, analysis._generated_forms("ośrodek")))
        except BaseException as error:  # noqa: BLE001 - reported below: a thread's exception must fail the test
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(seen) == 8
    assert len({analyser for analyser, _got, _forms in seen}) == 1
    assert all(got == serial and set(f) == set(forms) for _a, got, f in seen)


def test_the_analyser_lock_is_new_in_a_forked_child():
    import os

    lock_before = analysis._analyser_lock
    with lock_before:   # held at fork time: the child must not inherit it locked
        pid = os.fork()
        if pid == 0:   # pragma: no cover - child
            fresh = analysis._analyser_lock is not lock_before and analysis._analyser_lock.acquire(timeout=5)
            if fresh:
                analysis._analyser_lock.release()
            os._exit(0 if fresh and analysis.lemmas.__wrapped__("domach") == ("dom",) else 1)
    _pid, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
