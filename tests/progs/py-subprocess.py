# SPDX-License-Identifier: MIT
# py-subprocess.py: subprocess.run from 20 threads at once.  Each thread
# runs a shell that reports on a pipe that it started, waits for the main
# thread's "go" (end of file on its stdin), then writes to stdout and
# stderr and exits with its own status.  Main lets them go only once all
# 20 have started, so the shells can finish only if the 20 threads wait
# in subprocess.run at the same time while main runs: a wait that held
# the whole process up would hang instead (the test's timeout).  Prints
# each result in thread order, then what main saw: every shell started,
# none finished before main let them go.
# With --kthreads FILE it appends "all-started N" to FILE, N being the
# kernel threads (Threads: in /proc/self/status) while the 20 threads wait.
# Standard library only.
import fcntl, os, subprocess, sys, threading

N = 20
STARTED_FD = 8  # in the shells: dash takes only one-digit fds

kthreads = sys.argv[sys.argv.index("--kthreads") + 1] \
    if "--kthreads" in sys.argv else None



def above_nine(fd):
    """fd moved to a close-on-exec fd above 9, out of STARTED_FD's way."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


started_r, started_w = map(above_nine, os.pipe())
os.dup2(started_w, STARTED_FD, inheritable=False)
os.close(started_w)
go_r, go_w = os.pipe()
res = [None] * N


def work(i):
    cmd = ("echo %d >&%d; read x; echo out %d; echo err %d >&2; exit %d"
           % (i, STARTED_FD, i, i, i % 7))
    r = subprocess.run(["/bin/sh", "-c", cmd], stdin=go_r,
                       capture_output=True, text=True,
                       pass_fds=(STARTED_FD,))
    res[i] = (r.returncode, r.stdout.strip(), r.stderr.strip())


ths = [threading.Thread(target=work, args=(i,)) for i in range(N)]
for t in ths:
    t.start()
with os.fdopen(started_r) as started:
    seen = sorted(int(started.readline()) for _ in range(N))
finished_early = sum(r is not None for r in res)
if kthreads:
    with open("/proc/self/status") as st, open(kthreads, "a") as out:
        n = next(l.split()[1] for l in st if l.startswith("Threads:"))
        out.write("all-started %s\n" % n)
os.close(go_w)  # every shell's read sees end of file
for t in ths:
    t.join()
for r in res:
    print(r)
print("all %d shells running at once: %s" % (N, seen == list(range(N))))
print("finished before main let them go:", finished_early)
