# SPDX-License-Identifier: MIT
# py-threads.py [--hold FILE] [--kthreads FILE] [SECTION]...: Python's
# threading module, its locks, conditions, events, semaphores, barriers and
# queues, and socketserver.ThreadingTCPServer, as an ordinary Python 3
# program uses them (standard library only).
#
# Sections: lock, rlock, condition, event, semaphore, barrier, queue,
# timer, local, pool, socketserver, parked.  Without SECTION arguments all
# but socketserver and parked run.  Each one checks its results; the timed
# waits that expire (Lock.acquire(timeout=), Condition.wait(timeout),
# Event.wait(timeout), Semaphore.acquire(timeout=), a Barrier timeout,
# Queue.get(timeout) on an empty queue, Queue.put(timeout) on a full one,
# Thread.join(timeout), Future.result(timeout)) must return no earlier than
# their timeout, measured on time.monotonic() from before the wait began.
#
# socketserver: a ThreadingTCPServer on 127.0.0.1 (port 0) and 200 client
# threads, each exchanging 6 lines with its handler thread.  Once every
# client has exchanged its first 2 lines (200 handler threads blocked in
# readline, 200 clients in Event.wait), main prints "socketserver: 200
# clients mid-exchange ..."; parked: threads block in 12 kinds of wait at
# once and main prints "parked 36 in 12 kinds".  At those two points main
# waits for FILE when given --hold FILE (so that a test can look at the
# process), then releases the threads.
#
# With --kthreads FILE, appends "Threads: max N in M samples" to FILE at
# the end: the largest Threads: count of /proc/self/status, read whenever
# threads are alive (before each join_all, before each expiring wait, at
# the two points above).
#
# Where a thread must be waiting before another acts (a lock released, a
# semaphore or queue fed, the parked threads' release), the waiter says it
# is about to block and the other side waits until /proc shows it asleep
# (as tests/progs/handshake.h does for the C programs); that nothing else
# woke a waiter is judged once other threads ran, not after a sleep.  Only
# the expiring waits measure time, as lower bounds, which no load can
# break; other sleeps only mix the threads' turns.
#
# Prints counts, sums and booleans only, nothing that depends on the order
# in which threads run.  Failed checks go to stderr with the line number;
# the exit status is 1 if any failed.  A daemon watchdog thread ends the
# process with status 99 if it is still running 30 s after it started (or
# after the hold file appeared).
import concurrent.futures
import os
import queue
import select
import socket
import socketserver
import sys
import threading
import time

FAILURES = 0
FAILURES_LOCK = threading.Lock()


def check(cond, what):
    """Report a failed check on stderr with the caller's line number."""
    global FAILURES
    if not cond:
        line = sys._getframe(1).f_lineno
        print(f"py-threads.py:{line}: check failed: {what}", file=sys.stderr,
              flush=True)
        with FAILURES_LOCK:
            FAILURES += 1
    return cond


def check_eq(got, want, what):
    global FAILURES
    if got != want:
        line = sys._getframe(1).f_lineno
        print(f"py-threads.py:{line}: check failed: {what}: {got!r} != "
              f"{want!r}", file=sys.stderr, flush=True)
        with FAILURES_LOCK:
            FAILURES += 1
    return got == want


def yes_no(b):
    return "yes" if b else "no"


def eventually(pred, limit=5.0):
    """Sleep in 1 ms steps until pred() holds or `limit` seconds passed."""
    deadline = time.monotonic() + limit
    while not pred():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def kernel_tid():
    """The kernel's id of the calling thread's kernel thread."""
    try:
        return int(os.readlink("/proc/thread-self").rsplit("/", 1)[1])
    except (OSError, ValueError):
        return -1


def thread_state(tid):
    """The state letter of kernel thread `tid` of this process, or None."""
    try:
        with open(f"/proc/self/task/{tid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:][:1] or None


def wait_blocked(tid):
    """Wait until the thread whose get_native_id() is `tid`, which said
    its next call blocks, sleeps in the kernel (state S).  A thread /proc
    does not list, or the caller's own kernel thread, shares its kernel
    thread with the caller (green threads): it is not running while the
    caller runs, so it already stopped in its blocking call."""
    if tid == kernel_tid():
        return
    while thread_state(tid) not in (None, "S"):
        time.sleep(0.0002)


class Blockers:
    """Threads that say they are about to block; another waits until they
    sleep in their calls."""

    def __init__(self):
        self.cv = threading.Condition()
        self.said = self.taken = 0
        self.tids = []

    def about_to_block(self):
        with self.cv:
            self.said += 1
            self.tids.append(threading.get_native_id())
            self.cv.notify_all()

    def wait_blocked_all(self, n):
        """Once n more threads said so, wait until each that ever did
        sleeps (or has ended)."""
        with self.cv:
            self.taken += n
            check(self.cv.wait_for(lambda: self.said >= self.taken, 20),
                  "threads said they block")
            tids = list(self.tids)
        for t in tids:
            wait_blocked(t)


MAIN_TID = threading.get_native_id()


def when_main_waits():
    """For a thread that makes main's next call return: main sleeps in it
    (main calls it right after starting this thread)."""
    wait_blocked(MAIN_TID)


def others_run():
    """Let the other runnable threads run: 3 round trips with new ones."""
    for _ in range(3):
        t = threading.Thread(target=lambda: None)
        t.start()
        t.join()


def timed(call, *args, **kwargs):
    """(result or exception class name, seconds taken) of call(...)."""
    t0 = time.monotonic()
    try:
        r = call(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - the class is the result
        r = type(e).__name__
    return r, time.monotonic() - t0


KTHREADS = {"max": 0, "samples": 0}


def sample_kthreads():
    """Note this process's kernel thread count (Threads: in its status)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                n = int(line.split()[1])
                KTHREADS["max"] = max(KTHREADS["max"], n)
                KTHREADS["samples"] += 1


def expires(label, call, secs, want, *args, **kwargs):
    """call(*args, **kwargs) must give `want` no earlier than `secs`."""
    sample_kthreads()
    r, took = timed(call, *args, **kwargs)
    check_eq(r, want, label)
    check(took >= secs, f"{label}: took {took * 1000:.1f} ms, "
          f"less than {secs * 1000:.0f} ms")
    print(f"{label}: {r} after >= {secs * 1000:.0f} ms: "
          f"{yes_no(took >= secs)}")


def start(target, *args, name=None, daemon=None):
    t = threading.Thread(target=target, args=args, name=name, daemon=daemon)
    t.start()
    return t


def join_all(threads):
    sample_kthreads()
    for t in threads:
        t.join(10)
        check(not t.is_alive(), f"thread {t.name} still running after 10 s")


# ---- the watchdog ----

WATCHDOG = {"start": time.monotonic(), "limit": 30.0}


def watchdog():
    while True:
        time.sleep(0.25)
        elapsed = time.monotonic() - WATCHDOG["start"]
        if elapsed > WATCHDOG["limit"]:
            print(f"py-threads.py: watchdog: still running after "
                  f"{elapsed:.1f} s", file=sys.stderr, flush=True)
            os._exit(99)


def hold(path):
    """Wait (at most 15 s) for the hold file, then restart the watchdog."""
    if path is None:
        return
    if not eventually(lambda: os.path.exists(path), 15.0):
        check(False, f"hold file {path} never appeared")
    WATCHDOG["start"] = time.monotonic()


# ---- Lock ----

def section_lock():
    lock = threading.Lock()
    counter = [0]

    def add(n):
        for i in range(n):
            with lock:
                v = counter[0]
                if i % 50 == 0:
                    time.sleep(0.001)  # switch away while holding it
                counter[0] = v + 1

    join_all([start(add, 200) for _ in range(8)])
    print(f"lock: 8 threads x 200 increments under contention: "
          f"{counter[0]}")
    check_eq(counter[0], 1600, "counter")

    # Another thread holds the lock until main sets `go`.
    held = threading.Lock()
    taken, go = threading.Event(), threading.Event()

    def holder():
        with held:
            taken.set()
            go.wait()
            when_main_waits()

    t = start(holder)
    taken.wait()
    print(f"lock: locked() while another thread holds it: "
          f"{held.locked()}")
    print(f"lock: acquire(blocking=False): {held.acquire(blocking=False)}")
    expires("lock: acquire(timeout=0.05) while held", held.acquire, 0.05,
            False, timeout=0.05)
    go.set()
    ok = held.acquire(timeout=10)
    print(f"lock: acquire(timeout=10) once the holder lets go: {ok}")
    check(ok, "acquire after release")
    held.release()
    t.join()

    # A Lock may be released by a thread that does not hold it: a hand-off.
    handoff = threading.Lock()
    handoff.acquire()
    order = []

    def releaser():
        when_main_waits()
        order.append("release")
        handoff.release()

    t = start(releaser)
    handoff.acquire()
    order.append("acquired")
    t.join()
    print(f"lock: released by another thread, then acquired: "
          f"{' '.join(order)}")
    check_eq(order, ["release", "acquired"], "hand-off order")
    handoff.release()
    r, _ = timed(handoff.release)
    print(f"lock: release() of an unlocked lock: {r}")
    check_eq(r, "RuntimeError", "release unlocked")


# ---- RLock ----

def section_rlock():
    rl = threading.RLock()
    for _ in range(3):
        rl.acquire()
    results = {}
    phase = threading.Event()
    done_phase = threading.Event()
    waiting = Blockers()

    def other():
        r, took = timed(rl.acquire, timeout=0.05)
        results["timed"] = (r, took)
        done_phase.set()
        phase.wait()
        results["nonblocking"] = rl.acquire(blocking=False)
        done_phase.set()
        waiting.about_to_block()
        results["blocking"] = rl.acquire(timeout=10)
        rl.release()

    t = start(other)
    done_phase.wait()
    r, took = results["timed"]
    print(f"rlock: acquire(timeout=0.05) while another thread holds it 3 "
          f"deep: {r} after >= 50 ms: {yes_no(took >= 0.05)}")
    check(r is False and took >= 0.05, f"rlock timed acquire {r} {took}")
    rl.release()
    rl.release()
    done_phase.clear()
    phase.set()
    done_phase.wait()
    print(f"rlock: acquire(blocking=False) while still held 1 deep: "
          f"{results['nonblocking']}")
    check(results["nonblocking"] is False, "rlock nonblocking")
    waiting.wait_blocked_all(1)
    rl.release()
    t.join()
    print(f"rlock: acquire once fully released: {results['blocking']}")
    check(results["blocking"] is True, "rlock blocking")

    # release() by a thread that does not own it.
    rl.acquire()
    err = []
    t = start(lambda: err.append(timed(rl.release)[0]))
    t.join()
    rl.release()
    print(f"rlock: release() by a thread that does not own it: {err[0]}")
    check_eq(err[0], "RuntimeError", "non-owner release")

    # Recursion under contention.
    total = [0]
    lock = threading.RLock()

    def rec(depth):
        with lock:
            v = total[0]
            if depth == 3:
                time.sleep(0.001)
            total[0] = v + 1
            if depth < 5:
                rec(depth + 1)

    def worker():
        for _ in range(20):
            rec(1)

    join_all([start(worker) for _ in range(6)])
    print(f"rlock: 6 threads x 20 recursions 5 deep: {total[0]}")
    check_eq(total[0], 600, "recursive total")


# ---- Condition ----

def section_condition():
    # A bounded buffer: 4 producers x 250 items, 3 consumers, capacity 5.
    cv = threading.Condition()
    buf = []
    consumed = []
    done = [0]
    maxlen = [0]

    def producer(p):
        for i in range(250):
            with cv:
                cv.wait_for(lambda: len(buf) < 5)
                buf.append(p * 1000 + i)
                maxlen[0] = max(maxlen[0], len(buf))
                cv.notify_all()
            if i % 25 == 0:
                time.sleep(0.001)

    def consumer():
        while True:
            with cv:
                cv.wait_for(lambda: buf or done[0])
                if not buf:
                    return
                consumed.append(buf.pop(0))
                cv.notify_all()

    cons = [start(consumer) for _ in range(3)]
    join_all([start(producer, p) for p in range(4)])
    with cv:
        done[0] = 1
        cv.notify_all()
    join_all(cons)
    want = sum(p * 1000 + i for p in range(4) for i in range(250))
    print(f"condition: bounded buffer: {len(consumed)} items, sum "
          f"{sum(consumed)}, never more than 5 buffered: "
          f"{yes_no(maxlen[0] <= 5)}")
    check_eq((len(consumed), sum(consumed)), (1000, want), "consumed")
    check(sorted(consumed) == sorted(p * 1000 + i for p in range(4)
                                     for i in range(250)), "each item once")

    # Timeouts that expire: a second thread stays alive meanwhile.
    busy = threading.Event()
    t = start(busy.wait, 10)
    with cv:
        expires("condition: wait(0.05) with no notify", cv.wait, 0.05,
                False, 0.05)
        expires("condition: wait_for(false, timeout=0.05)", cv.wait_for,
                0.05, False, lambda: False, timeout=0.05)
    busy.set()
    t.join()

    # notify(2) wakes exactly 2 of 5 waiters; notify_all the other 3.
    cv2 = threading.Condition()
    waiting, woke = [0], [0]
    blockers = Blockers()

    def waiter():
        with cv2:
            waiting[0] += 1
            blockers.about_to_block()
            cv2.wait()
            woke[0] += 1

    ws = [start(waiter) for _ in range(5)]

    def count(c):
        with cv2:
            return c[0]

    blockers.wait_blocked_all(5)
    with cv2:
        cv2.notify(2)
    check(eventually(lambda: count(woke) == 2), "2 woken")
    blockers.wait_blocked_all(0)    # the other 3 still wait
    others_run()
    after_two = count(woke)
    with cv2:
        cv2.notify_all()
    join_all(ws)
    print(f"condition: notify(2) woke {after_two} of 5, notify_all woke "
          f"{woke[0] - after_two} more")
    check_eq((after_two, woke[0]), (2, 5), "woken")


# ---- Event ----

def section_event():
    ev = threading.Event()
    returned = []
    rlock = threading.Lock()
    blockers = Blockers()

    def waiter(timeout):
        blockers.about_to_block()
        r = ev.wait(timeout)
        with rlock:
            returned.append(r)

    ts = [start(waiter, None) for _ in range(10)]
    ts += [start(waiter, 10) for _ in range(5)]
    blockers.wait_blocked_all(15)
    others_run()
    with rlock:
        early = len(returned)
    ev.set()
    join_all(ts)
    print(f"event: 15 waiters, returned before set: {early}, after set: "
          f"{len(returned)}, all True: {yes_no(all(returned))}")
    check_eq((early, len(returned), all(returned)), (0, 15, True), "event")
    # When set, wait returns True at once: no one would set it again, and
    # the watchdog turns a wait of 1000 s into a failure.
    r, _ = timed(ev.wait, 1000)
    print(f"event: wait(1000) when set: {r}")
    ev.clear()
    print(f"event: is_set() after clear: {ev.is_set()}")
    busy = threading.Event()
    t = start(busy.wait, 10)
    expires("event: wait(0.05) when clear", ev.wait, 0.05, False, 0.05)
    busy.set()
    t.join()


# ---- Semaphore ----

def section_semaphore():
    sem = threading.Semaphore(3)
    state = threading.Condition()
    inside, peak, ran = [0], [0], [0]

    def worker():
        with sem:
            with state:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
                state.notify_all()
                # The first three wait for each other, so that 3 is reached.
                state.wait_for(lambda: peak[0] == 3, 10)
            time.sleep(0.005)
            with state:
                inside[0] -= 1
                ran[0] += 1

    join_all([start(worker) for _ in range(12)])
    print(f"semaphore: Semaphore(3), 12 threads: {ran[0]} ran, at most "
          f"{peak[0]} inside at once")
    check_eq((ran[0], peak[0]), (12, 3), "semaphore")

    zero = threading.Semaphore(0)
    print(f"semaphore: acquire(blocking=False) at 0: "
          f"{zero.acquire(blocking=False)}")
    expires("semaphore: acquire(timeout=0.05) at 0", zero.acquire, 0.05,
            False, timeout=0.05)
    t = start(lambda: (when_main_waits(), zero.release()))
    ok = zero.acquire(timeout=10)
    t.join()
    print(f"semaphore: acquire(timeout=10) released by another thread: {ok}")
    zero.release(3)
    got = [zero.acquire(blocking=False) for _ in range(4)]
    print(f"semaphore: release(3) then 4 non-blocking acquires: {got}")
    check_eq(got, [True, True, True, False], "release(3)")

    bounded = threading.BoundedSemaphore(2)
    bounded.acquire()
    bounded.release()
    r, _ = timed(bounded.release)
    print(f"semaphore: BoundedSemaphore(2) released past its value: {r}")
    check_eq(r, "ValueError", "bounded")

    # Ping-pong: two threads alternate through two semaphores.
    ping, pong = threading.Semaphore(0), threading.Semaphore(0)
    log = []

    def ponger():
        for i in range(100):
            ping.acquire()
            log.append(("pong", i))
            pong.release()

    t = start(ponger)
    for i in range(100):
        log.append(("ping", i))
        ping.release()
        pong.acquire()
    t.join()
    want = [(w, i) for i in range(100) for w in ("ping", "pong")]
    print(f"semaphore: ping-pong, {len(log)} turns in order: "
          f"{yes_no(log == want)}")
    check(log == want, "ping-pong order")


# ---- Barrier ----

def section_barrier():
    parties, rounds = 5, 4
    actions = [0]
    arrived = [[0] * rounds for _ in range(parties)]
    indices = [[] for _ in range(rounds)]
    early = [0]
    lock = threading.Lock()

    def action():
        actions[0] += 1

    b = threading.Barrier(parties, action=action)

    def worker(me):
        for r in range(rounds):
            with lock:
                arrived[me][r] = 1
            if me == r % parties:
                time.sleep(0.01)  # one late arrival per round
            idx = b.wait()
            with lock:
                indices[r].append(idx)
                if sum(arrived[p][r] for p in range(parties)) != parties:
                    early[0] += 1

    join_all([start(worker, p) for p in range(parties)])
    ok = all(sorted(ix) == list(range(parties)) for ix in indices)
    print(f"barrier: {parties} threads x {rounds} rounds: action ran "
          f"{actions[0]} times, indices 0..{parties - 1} once per round: "
          f"{yes_no(ok)}, left early: {early[0]}")
    check_eq((actions[0], ok, early[0]), (rounds, True, 0), "barrier")

    # Barrier(3, timeout=0.05) reached by 2 only: both break.  The first
    # timeout to expire breaks it for both, so both are timed from before
    # either began to wait.
    tb = threading.Barrier(3, timeout=0.05)
    t0 = time.monotonic()

    def party():
        r = timed(tb.wait)[0]
        return r, time.monotonic() - t0

    other = []
    t = start(lambda: other.append(party()))
    sample_kthreads()
    mine = party()
    t.join()
    both = [mine, other[0]]
    late = all(took >= 0.05 for _, took in both)
    print(f"barrier: Barrier(3, timeout=0.05) with 2 parties: "
          f"{[r for r, _ in both]} after >= 50 ms: {yes_no(late)}, broken: "
          f"{tb.broken}")
    check_eq([r for r, _ in both], ["BrokenBarrierError"] * 2, "timeout")
    check(late, f"barrier timed out early: {both}")
    r, _ = timed(tb.wait)
    print(f"barrier: wait() on a broken barrier: {r}")
    tb.reset()
    print(f"barrier: after reset(): broken {tb.broken}, n_waiting "
          f"{tb.n_waiting}")
    res = []
    ts = [start(lambda: res.append(timed(tb.wait, 10)[0])) for _ in range(2)]
    idx = tb.wait(10)
    join_all(ts)
    print(f"barrier: 3 parties after reset: indices "
          f"{sorted(res + [idx])}")
    check_eq(sorted(res + [idx]), [0, 1, 2], "after reset")

    # wait(timeout) on a barrier without a default timeout; abort().
    nb = threading.Barrier(2)
    expires("barrier: wait(timeout=0.05) alone", nb.wait, 0.05,
            "BrokenBarrierError", timeout=0.05)
    ab = threading.Barrier(3)
    res = []
    ts = [start(lambda: res.append(timed(ab.wait)[0])) for _ in range(2)]
    check(eventually(lambda: ab.n_waiting == 2), "2 waiting")
    ab.abort()
    join_all(ts)
    print(f"barrier: abort() with 2 waiting: {sorted(res)}")
    check_eq(res, ["BrokenBarrierError"] * 2, "abort")


# ---- queue ----

def section_queue():
    # 4 producers x 500 items through Queue(10) to one consumer, which
    # sees each producer's items in order.
    q = queue.Queue(maxsize=10)

    def producer(p):
        for i in range(500):
            q.put((p, i))
        q.put((p, None))

    ps = [start(producer, p) for p in range(4)]
    nxt = [0] * 4
    in_order, finished, total = True, 0, 0
    while finished < 4:
        p, i = q.get(timeout=10)
        if i is None:
            finished += 1
            continue
        in_order = in_order and i == nxt[p]
        nxt[p] = i + 1
        total += i
    join_all(ps)
    print(f"queue: 4 producers x 500 items through Queue(10): sum {total}, "
          f"each producer in order: {yes_no(in_order)}")
    check_eq((total, in_order), (4 * sum(range(500)), True), "queue fifo")

    # task_done/join with 4 workers.
    work = queue.Queue()
    done = []
    dlock = threading.Lock()

    def worker():
        while True:
            item = work.get()
            if item is None:
                work.task_done()
                return
            if item % 10 == 0:
                time.sleep(0.001)
            with dlock:
                done.append(item)
            work.task_done()

    ws = [start(worker) for _ in range(4)]
    for i in range(200):
        work.put(i)
    work.join()
    n_at_join = len(done)
    for _ in ws:
        work.put(None)
    join_all(ws)
    print(f"queue: join() returned after {n_at_join} of 200 task_done()s, "
          f"sum {sum(done)}")
    check_eq((n_at_join, sum(done)), (200, sum(range(200))), "join")

    # Timeouts that expire.
    busy = threading.Event()
    t = start(busy.wait, 10)
    empty = queue.Queue()
    print(f"queue: get_nowait() on an empty queue: "
          f"{timed(empty.get_nowait)[0]}")
    expires("queue: get(timeout=0.05) on an empty queue", empty.get, 0.05,
            "Empty", timeout=0.05)
    full = queue.Queue(maxsize=2)
    full.put(1)
    full.put(2)
    print(f"queue: put_nowait() on a full queue: "
          f"{timed(full.put_nowait, 3)[0]}")
    expires("queue: put(timeout=0.05) on a full queue", full.put, 0.05,
            "Full", 3, timeout=0.05)
    sq = queue.SimpleQueue()
    expires("queue: SimpleQueue.get(timeout=0.05) when empty", sq.get, 0.05,
            "Empty", timeout=0.05)
    busy.set()
    t.join()

    # Blocked get and put released by other threads.
    t = start(lambda: (when_main_waits(), empty.put("late")))
    r = empty.get(timeout=10)
    t.join()
    print(f"queue: get(timeout=10) released by a put: {r}")
    t = start(lambda: (when_main_waits(), full.get()))
    r, _ = timed(full.put, 3, timeout=10)
    t.join()
    print(f"queue: put(timeout=10) on a full queue released by a get: {r}, "
          f"then holds {[full.get(), full.get()]}")

    # PriorityQueue, LifoQueue and SimpleQueue filled by several threads.
    pq = queue.PriorityQueue()
    join_all([start(lambda k=k: [pq.put(k + 3 * i) for i in range(20)])
              for k in range(3)])
    got = [pq.get_nowait() for _ in range(60)]
    print(f"queue: PriorityQueue filled by 3 threads comes out sorted: "
          f"{yes_no(got == list(range(60)))}")
    check_eq(got, list(range(60)), "priority")
    lq = queue.LifoQueue()
    t = start(lambda: [lq.put(i) for i in range(5)])
    t.join()
    print(f"queue: LifoQueue: {[lq.get() for _ in range(5)]}")

    def sq_producer(k):
        for i in range(100):
            sq.put(k * 100 + i)

    ps = [start(sq_producer, k) for k in range(5)]
    got = [sq.get(timeout=10) for _ in range(500)]
    join_all(ps)
    print(f"queue: SimpleQueue from 5 threads: {len(got)} items, sum "
          f"{sum(got)}")
    check_eq(sorted(got), list(range(500)), "simple queue")


# ---- Timer, Thread.join(timeout) ----

def section_timer():
    fired = []
    t0 = time.monotonic()
    tm = threading.Timer(0.05, lambda: fired.append(time.monotonic() - t0))
    tm.start()
    tm.join(10)
    print(f"timer: Timer(0.05) fired {len(fired)} time(s), after >= 50 ms: "
          f"{yes_no(fired and fired[0] >= 0.05)}")
    check(len(fired) == 1 and fired[0] >= 0.05, f"timer fired {fired}")

    cancelled = []
    tc = threading.Timer(10, lambda: cancelled.append(1))
    tc.start()
    time.sleep(0.01)
    tc.cancel()
    tc.join(5)
    print(f"timer: a Timer(10) cancelled after 10 ms: fired "
          f"{len(cancelled)} time(s), ended: {yes_no(not tc.is_alive())}")
    check_eq(cancelled, [], "cancelled timer")

    many = []
    mlock = threading.Lock()
    timers = [threading.Timer(0.01 * (i % 5), lambda i=i: (
        mlock.acquire(), many.append(i), mlock.release())) for i in range(20)]
    for t in timers:
        t.start()
    join_all(timers)
    print(f"timer: 20 timers fired: {len(many)}, sum {sum(many)}")
    check_eq(sorted(many), list(range(20)), "20 timers")

    stop = threading.Event()
    t = start(stop.wait, 10)
    expires("timer: join(timeout=0.05) on a running thread", t.join, 0.05,
            None, 0.05)
    print(f"timer: still alive after join(timeout): {t.is_alive()}")
    stop.set()
    t.join()


# ---- threading.local, names, identities, excepthook ----

def section_local():
    class Local(threading.local):
        def __init__(self):
            self.inits = 1
            self.value = None

    loc = Local()
    loc.value = "main"
    n = 12
    seen = [None] * n
    idents = [None] * n
    names = [None] * n
    all_in = threading.Barrier(n + 1)

    def worker(i):
        loc.value = i * 7
        idents[i] = threading.get_ident()
        names[i] = threading.current_thread().name
        all_in.wait(10)  # everyone alive at once
        time.sleep(0.001 * (i % 3))
        seen[i] = (loc.value, loc.inits)
        all_in.wait(10)

    ts = [start(worker, i, name=f"worker-{i}") for i in range(n)]
    all_in.wait(10)
    alive = threading.active_count()
    listed = sum(1 for t in threading.enumerate() if t.name.startswith(
        "worker-"))
    all_in.wait(10)
    join_all(ts)
    ok = seen == [(i * 7, 1) for i in range(n)]
    print(f"local: {n} threads each see their own value: {yes_no(ok)}, "
          f"main still sees {loc.value}")
    check(ok, f"local values {seen}")
    print(f"local: {len(set(idents))} distinct get_ident() among {n} live "
          f"threads, main's differs: "
          f"{yes_no(threading.get_ident() not in idents)}")
    check_eq(len(set(idents)), n, "distinct idents")
    print(f"local: names {names == [f'worker-{i}' for i in range(n)]}, "
          f"active_count() grew by {alive - 2}, enumerate() listed {listed}")
    print(f"local: main_thread() is current in main: "
          f"{threading.main_thread() is threading.current_thread()}")

    # An uncaught exception in a thread goes to threading.excepthook.
    caught = []
    old = threading.excepthook
    threading.excepthook = lambda a: caught.append(
        (a.exc_type.__name__, str(a.exc_value), a.thread.name))

    def boom():
        time.sleep(0.001)
        raise ValueError("boom")

    t = start(boom, name="boomer")
    t.join()
    threading.excepthook = old
    print(f"local: excepthook saw {caught}")
    check_eq(caught, [("ValueError", "boom", "boomer")], "excepthook")

    # A thread created with a smaller stack size.
    threading.stack_size(512 * 1024)
    depth = []

    def recurse(k):
        return k if k == 0 else 1 + recurse(k - 1)

    t = start(lambda: depth.append(recurse(300)))
    t.join()
    threading.stack_size(0)
    print(f"local: a thread with stack_size(512 KiB) recursed {depth} deep")
    check_eq(depth, [300], "recursion")


# ---- concurrent.futures ----

def section_pool():
    def slow_square(x):
        time.sleep(0.001 * (x % 4))
        return x * x

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
        squares = list(ex.map(slow_square, range(100)))
        futs = [ex.submit(slow_square, x) for x in range(50)]
        done = sum(f.result() for f in
                   concurrent.futures.as_completed(futs, timeout=10))
        gate = threading.Event()
        blocked = ex.submit(gate.wait, 10)
        expires("pool: Future.result(timeout=0.05) of a blocked task",
                blocked.result, 0.05, "TimeoutError", timeout=0.05)
        d, nd = concurrent.futures.wait([blocked], timeout=0.05)
        print(f"pool: wait(timeout=0.05): {len(d)} done, {len(nd)} not done")
        gate.set()
        print(f"pool: the blocked task returns {blocked.result(10)}")
        err = ex.submit(lambda: 1 / 0)
        print(f"pool: exception(): "
              f"{type(err.exception(10)).__name__}")
    print(f"pool: map over 100 items in order: "
          f"{yes_no(squares == [x * x for x in range(100)])}, as_completed "
          f"sum {done}")
    check_eq(squares, [x * x for x in range(100)], "map")
    check_eq(done, sum(x * x for x in range(50)), "as_completed")


# ---- socketserver.ThreadingTCPServer ----

CLIENTS, LINES, HELD_AFTER = 200, 6, 2


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        n = 0
        for line in self.rfile:
            n += 1
            self.wfile.write(b"%d %s" % (n, line.upper()))
        with self.server.lock:
            self.server.lines += n
            self.server.handled += 1


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    request_queue_size = 256


def section_socketserver(hold_file):
    srv = Server(("127.0.0.1", 0), Handler)
    srv.lock = threading.Lock()
    srv.lines = srv.handled = 0
    port = srv.server_address[1]
    serving = start(srv.serve_forever, 0.05)

    state = threading.Condition()
    mid = [0]
    go = threading.Event()
    ok = [0]
    bad = []

    def client(c):
        try:
            # Even clients use a socket timeout (poll inside Python), odd
            # ones plain blocking calls.
            s = socket.create_connection(
                ("127.0.0.1", port), timeout=10 if c % 2 == 0 else None)
            f = s.makefile("rwb")
            for j in range(LINES):
                if j == HELD_AFTER:
                    with state:
                        mid[0] += 1
                        state.notify_all()
                    go.wait(30)
                f.write(b"client %d line %d\n" % (c, j))
                f.flush()
                want = b"%d CLIENT %d LINE %d\n" % (j + 1, c, j)
                got = f.readline()
                if got != want:
                    raise AssertionError(f"got {got!r}, want {want!r}")
            f.close()
            s.shutdown(socket.SHUT_WR)
            rest = s.recv(100)
            s.close()
            if rest != b"":
                raise AssertionError(f"after EOF: {rest!r}")
            with state:
                ok[0] += 1
        except Exception as e:  # noqa: BLE001 - reported below
            with state:
                bad.append(f"client {c}: {type(e).__name__}: {e}")

    ts = [start(client, c) for c in range(CLIENTS)]
    with state:
        state.wait_for(lambda: mid[0] + len(bad) == CLIENTS, 20)
        reached = mid[0]
    others_run()  # the handlers reach their next readline
    sample_kthreads()
    # main, the watchdog, serve_forever, 200 clients and 200 handlers
    print(f"socketserver: {reached} clients mid-exchange, "
          f"{threading.active_count()} threads alive", flush=True)
    hold(hold_file)
    go.set()
    join_all(ts)
    srv.shutdown()
    serving.join(10)
    srv.server_close()  # joins the handler threads
    for b in bad[:5]:
        print(f"py-threads.py: {b}", file=sys.stderr)
    print(f"socketserver: {ok[0]} of {CLIENTS} clients verified "
          f"{LINES} replies each; server counted {srv.handled} "
          f"connections, {srv.lines} lines")
    check_eq((ok[0], len(bad), srv.handled, srv.lines),
             (CLIENTS, 0, CLIENTS, CLIENTS * LINES), "socketserver")


# ---- threads parked in 12 kinds of wait at once ----

def section_parked(hold_file):
    per = 3
    kinds = ["Lock", "RLock", "Condition", "Event", "Semaphore", "Barrier",
             "Queue.get", "Queue.put", "sleep", "join", "recv", "select"]
    arrived = [0]
    returned = {k: 0 for k in kinds}
    lock = threading.Lock()
    threads = []
    blockers = Blockers()

    def spawn(kind, body):
        def run():
            with lock:
                arrived[0] += 1
            blockers.about_to_block()
            body()
            with lock:
                returned[kind] += 1
        for _ in range(per):
            threads.append(start(run))

    held = threading.Lock()
    held.acquire()
    spawn("Lock", lambda: (held.acquire(), held.release()))

    rl = threading.RLock()
    rl_taken, rl_go = threading.Event(), threading.Event()

    def rl_holder():
        with rl:
            rl_taken.set()
            blockers.about_to_block()
            rl_go.wait()

    rl_thread = start(rl_holder)
    rl_taken.wait()
    spawn("RLock", lambda: (rl.acquire(), rl.release()))

    cv, cv_go = threading.Condition(), [False]

    def cv_wait():
        with cv:
            cv.wait_for(lambda: cv_go[0])

    spawn("Condition", cv_wait)
    ev = threading.Event()
    spawn("Event", ev.wait)
    sem = threading.Semaphore(0)
    spawn("Semaphore", sem.acquire)
    bar = threading.Barrier(per + 1)
    spawn("Barrier", bar.wait)
    q = queue.Queue()
    spawn("Queue.get", q.get)
    fq = queue.Queue(maxsize=1)
    fq.put(None)
    spawn("Queue.put", lambda: fq.put(None))
    stop = [False]

    def sleeper():
        while not stop[0]:
            time.sleep(0.005)

    spawn("sleep", sleeper)
    jev = threading.Event()

    def joinee():
        blockers.about_to_block()
        jev.wait()

    joinees = [start(joinee) for _ in range(per)]
    it = iter(joinees)
    spawn("join", lambda: next(it).join())
    pairs = [socket.socketpair() for _ in range(per)]
    pit = iter(pairs)
    spawn("recv", lambda: next(pit)[1].recv(1))
    rfd, wfd = os.pipe()
    spawn("select", lambda: select.select([rfd], [], []))

    # Every one of them (and the RLock's holder and the joinees) sleeps in
    # its wait.
    blockers.wait_blocked_all(per * len(kinds) + 1 + per)
    check_eq(arrived[0], per * len(kinds), "arrivals")
    sample_kthreads()
    with lock:
        early = sum(returned.values())
    print(f"parked {arrived[0]} in {len(kinds)} kinds", flush=True)
    print(f"parked: returned before release: {early}")
    check_eq(early, 0, "returned early")
    hold(hold_file)

    held.release()  # each waiter takes it in turn and lets it go
    rl_go.set()
    with cv:
        cv_go[0] = True
        cv.notify_all()
    ev.set()
    sem.release(per)
    bar.wait(10)
    for _ in range(per):
        q.put(None)
    for _ in range(per):
        fq.get(timeout=10)
    stop[0] = True
    jev.set()
    for a, _ in pairs:
        a.send(b"x")
    os.write(wfd, b"x")
    join_all(threads + joinees + [rl_thread])
    print("released: " + " ".join(f"{k} {returned[k]}" for k in kinds))
    check_eq(list(returned.values()), [per] * len(kinds), "released")
    for a, b in pairs:
        a.close()
        b.close()
    os.close(rfd)
    os.close(wfd)


SECTIONS = {
    "lock": section_lock,
    "rlock": section_rlock,
    "condition": section_condition,
    "event": section_event,
    "semaphore": section_semaphore,
    "barrier": section_barrier,
    "queue": section_queue,
    "timer": section_timer,
    "local": section_local,
    "pool": section_pool,
    "socketserver": section_socketserver,
    "parked": section_parked,
}
HOLDING = ("socketserver", "parked")


def main(argv):
    hold_file, kthreads_file, chosen = None, None, []
    i = 0
    while i < len(argv):
        if argv[i] == "--hold" and i + 1 < len(argv):
            hold_file = argv[i + 1]
            i += 2
        elif argv[i] == "--kthreads" and i + 1 < len(argv):
            kthreads_file = argv[i + 1]
            i += 2
        else:
            chosen.append(argv[i])
            i += 1
    for c in chosen:
        if c not in SECTIONS:
            print(f"usage: py-threads.py [--hold FILE] [--kthreads FILE] "
                  f"[SECTION]...\n"
                  f"unknown section '{c}'", file=sys.stderr)
            return 2
    if not chosen:
        chosen = [s for s in SECTIONS if s not in HOLDING]
    threading.Thread(target=watchdog, name="watchdog", daemon=True).start()
    for name in SECTIONS:
        if name in chosen:
            if name in HOLDING:
                SECTIONS[name](hold_file)
            else:
                SECTIONS[name]()
    print(f"threads left at the end: {threading.active_count() - 2}")
    if kthreads_file is not None:
        with open(kthreads_file, "a") as f:
            f.write(f"Threads: max {KTHREADS['max']} in "
                    f"{KTHREADS['samples']} samples\n")
    if FAILURES:
        print(f"{FAILURES} check(s) failed", file=sys.stderr)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
