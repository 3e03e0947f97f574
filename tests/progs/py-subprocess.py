# SPDX-License-Identifier: MIT
# py-subprocess.py: subprocess.run from 20 threads at once, each running
# a shell that sleeps 0.2 s, writes to stdout and stderr and exits with
# its own status, while another thread ticks every 5 ms.  Prints each
# result in thread order, and whether the ticker advanced and all 20
# finished in under 2 s (they run at once, not one after another).
# Standard library only.
import subprocess, threading, time
res = [None]*20
ticks = [0]
stop = False
def tick():
    while not stop:
        time.sleep(0.005); ticks[0] += 1
def work(i):
    r = subprocess.run(["/bin/sh", "-c", "sleep 0.2; echo out %d; echo err %d >&2; exit %d" % (i, i, i % 7)], capture_output=True, text=True)
    res[i] = (r.returncode, r.stdout.strip(), r.stderr.strip())
t = threading.Thread(target=tick); t.start()
t0 = time.time()
ths = [threading.Thread(target=work, args=(i,)) for i in range(20)]
[x.start() for x in ths]; [x.join() for x in ths]
el = time.time() - t0
stop = True; t.join()
for r in res: print(r)
print("ticker advanced:", ticks[0] > 10, "elapsed under 2 s:", el < 2)
