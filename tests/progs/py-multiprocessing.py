# SPDX-License-Identifier: MIT
"""py-multiprocessing.py: Python's multiprocessing with the fork start
method, the way a threaded program uses it.

A Pool of 4 forked workers maps a function over 200 items (each sleeps
1 ms, so that results keep the parent's threads waiting) and a function
that starts threads inside the worker; the pool's own three handler
threads (one of which polls in a loop while results wait in a pipe
another of them reads) run in the parent.  Then 8
Processes put their numbers on a Queue and exit; their exit codes are
checked.  Prints only results, which do not depend on timing.
"""
import multiprocessing as mp
import threading
import time


def square(x):
    time.sleep(0.001)
    return x * x


def with_threads(n):
    out = []
    lock = threading.Lock()

    def work(i):
        with lock:
            out.append(i * 2)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(out), max(out)


def main():
    mp.set_start_method("fork")
    with mp.Pool(4) as pool:
        print("pool map sum:", sum(pool.map(square, range(200))))
        print("pool threads in workers:", pool.map(with_threads, [10, 20, 30]))
        r = pool.apply_async(square, (12,))
        print("apply_async:", r.get(timeout=30))
    q = mp.Queue()
    procs = [mp.Process(target=q.put, args=(i,)) for i in range(8)]
    for p in procs:
        p.start()
    print("queue:", sorted(q.get(timeout=30) for _ in procs))
    for p in procs:
        p.join(30)
    print("exit codes:", [p.exitcode for p in procs])


if __name__ == "__main__":
    main()
