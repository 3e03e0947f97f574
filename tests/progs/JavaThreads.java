// SPDX-License-Identifier: MIT
// JavaThreads [--kthreads FILE] SECTION...: Java's own threads and
// concurrency classes, several threads waiting at once.  Sections:
// monitor (synchronized, wait and notifyAll: 5 threads in wait() on one
// monitor, woken by notify one at a time, then 5 more by one notifyAll;
// a counter under contention), executor (a fixed pool of 4 running 100
// Callables, their Futures; invokeAll; a Future whose task throws;
// shutdown and awaitTermination), completable (CompletableFuture chains:
// supplyAsync, thenApply, thenCompose, thenCombine, allOf, exceptionally
// and handle on a pool of 3), echo (a ServerSocket on 127.0.0.1 with a
// thread per connection, 50 client threads exchanging 5 lines each).
// Ordering comes from handshakes (counters under the monitor, latches),
// never sleeps.  With --kthreads FILE, appends "LABEL N" lines to FILE,
// N being Threads: in /proc/self/status at points where many threads are
// alive and blocked.  Prints deterministic lines; exits 0 only when every
// check passed.
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

public class JavaThreads {
    static int failures = 0;
    static String kthreads = null;

    static synchronized void check(boolean ok, String what) {
        if (!ok) {
            StackTraceElement e = new Throwable().getStackTrace()[1];
            System.err.println("JavaThreads.java:" + e.getLineNumber() + ": " + what);
            failures++;
        }
    }

    static void sample(String label) throws IOException {
        if (kthreads == null) {
            return;
        }
        String n = "?";
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith("Threads:")) {
                n = l.substring(8).trim();
            }
        }
        Files.writeString(Path.of(kthreads), label + " " + n + "\n",
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    // --- monitor ---------------------------------------------------------
    static final Object lock = new Object();
    static int waiting = 0;
    static int tokens = 0;
    static int woken = 0;
    static boolean released = false;
    static long counter = 0;

    static void monitor() throws Exception {
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Thread t = new Thread(() -> {
                synchronized (lock) {
                    waiting++;
                    lock.notifyAll(); // tells main one more is waiting
                    while (tokens == 0) {
                        try {
                            lock.wait();
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                    tokens--;
                    waiting--;
                    woken++;
                    lock.notifyAll();
                }
            });
            t.start();
            ts.add(t);
        }
        synchronized (lock) {
            while (waiting < 5) {
                lock.wait();
            }
        }
        sample("monitor-5-waiting");
        // Hand out one token at a time; each wakes exactly one waiter.
        for (int k = 1; k <= 5; k++) {
            synchronized (lock) {
                tokens++;
                lock.notifyAll();
                while (woken < k) {
                    lock.wait();
                }
                check(waiting == 5 - k, "after token " + k + ": " + waiting + " waiting");
            }
        }
        for (Thread t : ts) {
            t.join();
        }
        System.out.println("monitor: 5 threads in wait(), 5 tokens woke " + woken);

        ts.clear();
        int[] count = {0};
        for (int i = 0; i < 5; i++) {
            Thread t = new Thread(() -> {
                synchronized (lock) {
                    count[0]++;
                    lock.notifyAll();
                    while (!released) {
                        try {
                            lock.wait();
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                    count[0]--;
                }
            });
            t.start();
            ts.add(t);
        }
        synchronized (lock) {
            while (count[0] < 5) {
                lock.wait();
            }
            released = true;
            lock.notifyAll();
        }
        for (Thread t : ts) {
            t.join();
        }
        check(count[0] == 0, "count " + count[0]);
        System.out.println("monitor: 5 threads in wait(), one notifyAll woke all 5");

        ts.clear();
        for (int i = 0; i < 8; i++) {
            Thread t = new Thread(() -> {
                for (int j = 0; j < 10000; j++) {
                    synchronized (lock) {
                        counter++;
                    }
                    if (j % 100 == 0) {
                        Thread.yield();
                    }
                }
            });
            t.start();
            ts.add(t);
        }
        for (Thread t : ts) {
            t.join();
        }
        check(counter == 80000, "counter " + counter);
        System.out.println("monitor: 8 threads x 10000 synchronized increments: " + counter);
    }

    // --- executor --------------------------------------------------------
    static void executor() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        CountDownLatch all4 = new CountDownLatch(4);
        CountDownLatch go = new CountDownLatch(1);
        // Four tasks that hold every pool thread until main has looked.
        List<Future<String>> held = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            held.add(pool.submit(() -> {
                all4.countDown();
                go.await();
                return Thread.currentThread().getName().replaceAll("[0-9]+", "N");
            }));
        }
        all4.await();
        sample("executor-4-busy");
        go.countDown();
        for (Future<String> f : held) {
            check(f.get().equals("pool-N-thread-N"), "name " + f.get());
        }
        List<Future<Long>> fs = new ArrayList<>();
        for (int i = 1; i <= 100; i++) {
            final long n = i;
            fs.add(pool.submit(() -> {
                long s = 0;
                for (long k = 1; k <= n * 1000; k++) {
                    s += k % 7;
                }
                return s;
            }));
        }
        long total = 0;
        for (Future<Long> f : fs) {
            total += f.get();
        }
        List<Callable<Integer>> cs = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            final int n = i;
            cs.add(() -> n * n);
        }
        int squares = 0;
        for (Future<Integer> f : pool.invokeAll(cs)) {
            squares += f.get();
        }
        Future<Integer> bad = pool.submit(() -> {
            throw new IllegalStateException("boom");
        });
        String cause;
        try {
            bad.get();
            cause = "none";
        } catch (ExecutionException e) {
            cause = e.getCause().getClass().getSimpleName() + ": " + e.getCause().getMessage();
        }
        pool.shutdown();
        boolean ended = pool.awaitTermination(30, TimeUnit.SECONDS);
        check(ended, "pool did not terminate");
        System.out.println("executor: 4 tasks held all 4 threads, then 100 futures summing to "
                + total + ", invokeAll of 20 squares " + squares + ", a failing task gave "
                + cause + ", terminated " + ended);
    }

    // --- completable -----------------------------------------------------
    static void completable() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(3);
        List<CompletableFuture<Integer>> chains = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            final int n = i;
            chains.add(CompletableFuture.supplyAsync(() -> n, pool)
                    .thenApply(x -> x * 2)
                    .thenCompose(x -> CompletableFuture.supplyAsync(() -> x + 1, pool))
                    .thenCombine(CompletableFuture.supplyAsync(() -> n * n, pool),
                            Integer::sum));
        }
        CompletableFuture.allOf(chains.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
        int sum = 0;
        for (CompletableFuture<Integer> c : chains) {
            sum += c.join();
        }
        int want = 0;
        for (int n = 0; n < 50; n++) {
            want += 2 * n + 1 + n * n;
        }
        check(sum == want, "sum " + sum + " != " + want);
        String recovered = CompletableFuture.supplyAsync(() -> {
            if (true) {
                throw new IllegalArgumentException("bad");
            }
            return "ok";
        }, pool).exceptionally(e -> "recovered from " + e.getCause().getClass().getSimpleName())
                .get(30, TimeUnit.SECONDS);
        String handled = CompletableFuture.supplyAsync(() -> 6, pool)
                .thenApplyAsync(x -> x * 7, pool)
                .handle((v, e) -> e == null ? "value " + v : "error")
                .get(30, TimeUnit.SECONDS);
        // A chain that waits for a future main completes later.
        CompletableFuture<String> gate = new CompletableFuture<>();
        CompletableFuture<String> after = gate.thenApplyAsync(s -> s + " then applied", pool);
        check(!after.isDone(), "chain done before its gate");
        gate.complete("gate opened");
        String afterGate = after.get(30, TimeUnit.SECONDS);
        pool.shutdown();
        check(pool.awaitTermination(30, TimeUnit.SECONDS), "pool did not terminate");
        System.out.println("completable: 50 chains summing to " + sum + "; " + recovered
                + "; " + handled + "; " + afterGate);
    }

    // --- echo ------------------------------------------------------------
    static void echo() throws Exception {
        final int clients = 50;
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        ServerSocket server = new ServerSocket(0, clients, lo);
        int port = server.getLocalPort();
        List<Thread> handlers = new ArrayList<>();
        AtomicInteger handled = new AtomicInteger();
        Thread acceptor = new Thread(() -> {
            try {
                for (int i = 0; i < clients; i++) {
                    Socket s = server.accept();
                    Thread h = new Thread(() -> {
                        try (Socket c = s;
                             BufferedReader in = new BufferedReader(new InputStreamReader(
                                     c.getInputStream(), StandardCharsets.UTF_8));
                             PrintWriter out = new PrintWriter(new OutputStreamWriter(
                                     c.getOutputStream(), StandardCharsets.UTF_8), true)) {
                            String line;
                            while ((line = in.readLine()) != null) {
                                out.println(line);
                                handled.incrementAndGet();
                            }
                        } catch (IOException e) {
                            check(false, "handler: " + e);
                        }
                    });
                    synchronized (handlers) {
                        handlers.add(h);
                    }
                    h.start();
                }
            } catch (IOException e) {
                check(false, "accept: " + e);
            }
        });
        acceptor.start();
        CountDownLatch mid = new CountDownLatch(clients);
        CountDownLatch go = new CountDownLatch(1);
        int[] ok = new int[clients];
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            final int id = i;
            Thread t = new Thread(() -> {
                try (Socket s = new Socket(lo, port);
                     BufferedReader in = new BufferedReader(new InputStreamReader(
                             s.getInputStream(), StandardCharsets.UTF_8));
                     PrintWriter out = new PrintWriter(new OutputStreamWriter(
                             s.getOutputStream(), StandardCharsets.UTF_8), true)) {
                    for (int k = 0; k < 5; k++) {
                        String msg = "client " + id + " line " + k;
                        out.println(msg);
                        if (msg.equals(in.readLine())) {
                            ok[id]++;
                        }
                        if (k == 0) {
                            mid.countDown();
                            go.await();
                        }
                    }
                } catch (IOException | InterruptedException e) {
                    check(false, "client " + id + ": " + e);
                    mid.countDown();
                }
            });
            t.start();
            ts.add(t);
        }
        mid.await();
        sample("echo-mid-exchange");
        go.countDown();
        for (Thread t : ts) {
            t.join();
        }
        acceptor.join();
        synchronized (handlers) {
            for (Thread h : handlers) {
                h.join();
            }
        }
        server.close();
        int echoed = 0;
        for (int n : ok) {
            echoed += n;
        }
        check(echoed == clients * 5, "echoed " + echoed);
        check(handled.get() == clients * 5, "handled " + handled.get());
        System.out.println("echo: " + clients + " clients, " + echoed
                + " lines echoed right, handler threads read " + handled.get());
    }

    public static void main(String[] args) throws Exception {
        int i = 0;
        if (args.length > 1 && args[0].equals("--kthreads")) {
            kthreads = args[1];
            i = 2;
        }
        if (i == args.length) {
            System.err.println("usage: JavaThreads [--kthreads FILE] SECTION...");
            System.exit(2);
        }
        for (; i < args.length; i++) {
            switch (args[i]) {
                case "monitor": monitor(); break;
                case "executor": executor(); break;
                case "completable": completable(); break;
                case "echo": echo(); break;
                default:
                    System.err.println("JavaThreads: unknown section " + args[i]);
                    System.exit(2);
            }
        }
        System.out.flush();
        System.exit(failures == 0 ? 0 : 1);
    }
}
