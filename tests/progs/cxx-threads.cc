/* SPDX-License-Identifier: MIT */
/* cxx-threads [--hold FILE] [SECTION]...: the C++ standard library's
 * threads and synchronisation, as an unmodified g++ -pthread program uses
 * them.  With SECTION arguments only those sections run, in the order
 * below.
 *
 * thread: std::thread, join, distinct ids.  mutex: std::mutex under
 * contention with sleeps inside the critical section, std::timed_mutex
 * timeouts, std::recursive_mutex.  condvar: std::condition_variable (a
 * bounded buffer; wait_for and wait_until on the system clock return false
 * after at least their duration; a notified wait_for).  shared_mutex: no
 * torn pairs, readers holding it at once, try_lock, std::shared_timed_mutex
 * timeouts.  once: std::call_once with a sleeping initialiser from 8
 * threads.  futures: std::async, std::promise (value, exception, wait_for
 * timeout), std::shared_future, std::packaged_task, broken promises.
 * atomic_wait: C++20 std::atomic and std::atomic_flag wait/notify.
 * semaphore: std::counting_semaphore, std::binary_semaphore, std::latch and
 * std::barrier.  thread_local: thread_local objects owning long strings,
 * whose destructors run once per thread with that thread's value.
 * exceptions: exceptions thrown, caught, nested and rethrown in several
 * threads at once, each sleeping inside its catch blocks and in a
 * destructor run by unwinding (std::uncaught_exceptions() per thread).
 * static_init: a function-local static whose constructor sleeps, first used
 * by 4 threads at once (libstdc++'s __cxa_guard_acquire waits on a futex,
 * unless __libc_single_threaded says the process has one thread).
 * stop_token: std::jthread stop requests ending a sleeping loop and a
 * condition_variable_any wait; a stop_callback run by the requesting
 * thread while its owner's destructor waits for it.  parked: threads block
 * in ten kinds of wait at once; main prints "parked N on 10 kinds", waits
 * for FILE when given --hold FILE (so that a test can look at the process)
 * and releases them.  once_throwing: std::call_once whose initialiser
 * throws: the flag stays unset and the next caller runs it (last, because
 * an implementation that gets it wrong hangs).
 *
 * Prints counts, sums and results only, nothing that depends on the order
 * in which threads run; failures go to stderr with file:line.  alarm(20)
 * ends the program if a wait never returns.  Where a thread must be
 * waiting before another acts (a lock held until a timed try failed and a
 * second try waits, a notify, a value set, a stop requested, an
 * initialiser others wait for), the waiter says it is about to block and
 * the other side waits until it sleeps in its call (handshake.h): those
 * steps do not depend on timing.  Timed waits are checked to last at
 * least their time, a bound no load can break; other naps only mix the
 * threads' turns.
 */
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <barrier>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <exception>
#include <functional>
#include <future>
#include <latch>
#include <mutex>
#include <numeric>
#include <semaphore>
#include <shared_mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "handshake.h"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

/* One transcript line, flushed at once so that a hang still shows how far
 * the program got. */
__attribute__((format(printf, 1, 2))) void say(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

template <class Rep, class Period>
void nap(std::chrono::duration<Rep, Period> d)
{
    std::this_thread::sleep_for(d);
}

long ms_since(Clock::time_point t0)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               Clock::now() - t0)
        .count();
}

/* Sleep in 1 ms steps until pred() holds or 5 s have passed. */
template <class Pred> bool eventually(Pred pred)
{
    const auto deadline = Clock::now() + 5s;
    while (!pred()) {
        if (Clock::now() > deadline) {
            return false;
        }
        nap(1ms);
    }
    return true;
}

/* Threads that say they are about to block; another waits until they
 * sleep in their calls. */
struct Blockers {
    struct handshake hs;
    std::mutex m;
    std::vector<pid_t> tids;

    Blockers() { hs_init(&hs); }
    ~Blockers() { hs_destroy(&hs); }
    Blockers(const Blockers &) = delete;
    Blockers &operator=(const Blockers &) = delete;

    void about_to_block()
    {
        {
            std::lock_guard g(m);
            tids.push_back(gettid());
        }
        hs_post(&hs);
    }

    /* Once n more threads said so, wait until each thread that ever said
     * so sleeps (or has ended). */
    void wait_blocked_all(int n)
    {
        for (int i = 0; i < n; i++) {
            hs_wait(&hs);
        }
        std::vector<pid_t> copy;
        {
            std::lock_guard g(m);
            copy = tids;
        }
        for (pid_t t : copy) {
            wait_blocked(t);
        }
    }
};

void join_all(std::vector<std::thread> &threads)
{
    for (auto &t : threads) {
        t.join();
    }
    threads.clear();
}

/* ---- std::thread, std::jthread ---- */

void test_thread()
{
    constexpr int N = 8;
    std::array<long, N> results{};
    std::array<std::thread::id, N> ids{};
    std::vector<std::thread> threads;

    for (int i = 0; i < N; i++) {
        threads.emplace_back([i, &results, &ids] {
            long sum = 0;
            ids[i] = std::this_thread::get_id();
            for (int k = 1; k <= 100; k++) {
                sum += k * (i + 1);
                if (k % 25 == 0) {
                    nap(1ms);
                }
            }
            results[i] = sum;
        });
    }
    for (auto &t : threads) {
        CHECK(t.joinable());
        t.join();
        CHECK(!t.joinable());
    }
    std::sort(ids.begin(), ids.end());
    const auto distinct = std::unique(ids.begin(), ids.end()) - ids.begin();
    CHECK_EQ(distinct, N);
    CHECK(std::find(ids.begin(), ids.end(), std::this_thread::get_id()) ==
          ids.end());
    const long sum = std::accumulate(results.begin(), results.end(), 0L);
    CHECK_EQ(sum, 5050L * 36);
    say("std::thread: %d threads joined, sum %ld, %ld distinct ids", N, sum,
        (long)distinct);
}

/* ---- std::mutex, std::timed_mutex ---- */

void test_mutex()
{
    constexpr int N = 16, ITER = 20;
    std::mutex m;
    long counter = 0;
    int inside = 0, overlaps = 0;
    std::vector<std::thread> threads;

    for (int i = 0; i < N; i++) {
        threads.emplace_back([&, i] {
            for (int k = 0; k < ITER; k++) {
                std::lock_guard g(m);
                if (inside++ != 0) {
                    overlaps++;
                }
                const long c = counter;
                if ((k + i) % 4 == 0) {
                    nap(200us);
                }
                counter = c + 1;
                inside--;
            }
        });
    }
    join_all(threads);
    CHECK_EQ(counter, N * ITER);
    CHECK_EQ(overlaps, 0);
    say("std::mutex: counter %ld from %d threads x %d, %d overlaps", counter,
        N, ITER, overlaps);

    /* main holds it until the thread's try_lock_for(30ms) failed and its
     * try_lock_for(5s) waits. */
    std::timed_mutex tm;
    bool try_lock = true, timed_out = true, got_it = false;
    long waited_ms = 0;
    Blockers second_try;
    tm.lock();
    std::thread t([&] {
        try_lock = tm.try_lock();
        auto t0 = Clock::now();
        timed_out = !tm.try_lock_for(30ms);
        waited_ms = ms_since(t0);
        second_try.about_to_block();
        got_it = tm.try_lock_for(5s);
        if (got_it) {
            tm.unlock();
        }
    });
    second_try.wait_blocked_all(1);
    tm.unlock();
    t.join();
    CHECK(!try_lock);
    CHECK(timed_out);
    CHECK(waited_ms >= 30);
    CHECK(got_it);
    say("std::timed_mutex: try_lock %s, try_lock_for(30ms) %s after >= 30 ms "
        "%s, try_lock_for(5s) %s once unlocked",
        try_lock ? "true" : "false", timed_out ? "false" : "true",
        waited_ms >= 30 ? "yes" : "no", got_it ? "true" : "false");

    std::recursive_mutex rm;
    int depth = 0;
    std::thread r([&] {
        std::function<void(int)> down = [&](int n) {
            std::lock_guard g(rm);
            depth++;
            nap(1ms);
            if (n > 1) {
                down(n - 1);
            }
        };
        down(5);
    });
    {
        nap(2ms);
        std::lock_guard g(rm);
        depth *= 10;
    }
    r.join();
    /* Either main multiplies before the thread starts (0) or after it has
     * released all five levels (50): never in between. */
    CHECK(depth == 5 || depth == 50);
    say("std::recursive_mutex: 5 nested locks held together");
}

/* ---- std::condition_variable ---- */

void test_condition_variable()
{
    constexpr int PRODUCERS = 3, CONSUMERS = 3, ITEMS = 30, CAPACITY = 4;
    std::mutex m;
    std::condition_variable not_full, not_empty;
    std::vector<int> queue;
    int produced_done = 0;
    long consumed_sum = 0, consumed = 0;
    std::vector<std::thread> threads;

    for (int p = 0; p < PRODUCERS; p++) {
        threads.emplace_back([&, p] {
            for (int i = 1; i <= ITEMS; i++) {
                std::unique_lock lk(m);
                not_full.wait(lk, [&] { return queue.size() < CAPACITY; });
                queue.push_back(p * 1000 + i);
                not_empty.notify_one();
                lk.unlock();
                if (i % 7 == 0) {
                    nap(1ms);
                }
            }
            std::lock_guard g(m);
            produced_done++;
            not_empty.notify_all();
        });
    }
    for (int c = 0; c < CONSUMERS; c++) {
        threads.emplace_back([&] {
            for (;;) {
                std::unique_lock lk(m);
                not_empty.wait(lk, [&] {
                    return !queue.empty() || produced_done == PRODUCERS;
                });
                if (queue.empty()) {
                    return;
                }
                consumed_sum += queue.front();
                consumed++;
                queue.erase(queue.begin());
                not_full.notify_one();
                lk.unlock();
                nap(200us);
            }
        });
    }
    join_all(threads);
    long expected = 0;
    for (int p = 0; p < PRODUCERS; p++) {
        for (int i = 1; i <= ITEMS; i++) {
            expected += p * 1000 + i;
        }
    }
    CHECK_EQ(consumed, PRODUCERS * ITEMS);
    CHECK_EQ(consumed_sum, expected);
    say("std::condition_variable: %ld items through a %d-slot queue, sum %ld",
        consumed, CAPACITY, consumed_sum);

    std::condition_variable cv;
    bool flag = false;
    std::unique_lock lk(m);
    auto t0 = Clock::now();
    const bool r1 = cv.wait_for(lk, 50ms, [&] { return flag; });
    const long w1 = ms_since(t0);
    t0 = Clock::now();
    const bool r2 = cv.wait_until(
        lk, std::chrono::system_clock::now() + 30ms, [&] { return flag; });
    const long w2 = ms_since(t0);
    lk.unlock();
    CHECK(!r1);
    CHECK(w1 >= 50);
    CHECK(!r2);
    CHECK(w2 >= 30);
    say("std::condition_variable: wait_for(50ms) %s after >= 50 ms %s, "
        "wait_until(system_clock + 30ms) %s after >= 30 ms %s",
        r1 ? "true" : "false", w1 >= 50 ? "yes" : "no",
        r2 ? "true" : "false", w2 >= 30 ? "yes" : "no");

    /* Notified once main waits: true, before the 5 s (which only turn a
     * lost notify into a failure). */
    Blockers waiting;
    std::thread notifier([&] {
        waiting.wait_blocked_all(1);
        std::lock_guard g(m);
        flag = true;
        cv.notify_one();
    });
    lk.lock();
    waiting.about_to_block();
    const bool r3 = cv.wait_for(lk, 5s, [&] { return flag; });
    lk.unlock();
    notifier.join();
    CHECK(r3);
    say("std::condition_variable: wait_for(5s) notified while it waited: %s",
        r3 ? "true" : "false");
}

/* ---- std::shared_mutex, std::shared_timed_mutex ---- */

void test_shared_mutex()
{
    constexpr int WRITERS = 3, WRITES = 10, READERS = 6, READS = 15;
    std::shared_mutex sm;
    long a = 0, b = 0;
    std::atomic<int> torn{0}, reads{0};
    std::vector<std::thread> threads;

    for (int w = 0; w < WRITERS; w++) {
        threads.emplace_back([&] {
            for (int i = 0; i < WRITES; i++) {
                {
                    std::unique_lock g(sm);
                    a++;
                    nap(300us);
                    b++;
                }
                nap(200us);
            }
        });
    }
    for (int r = 0; r < READERS; r++) {
        threads.emplace_back([&] {
            for (int i = 0; i < READS; i++) {
                {
                    std::shared_lock g(sm);
                    if (a != b) {
                        torn++;
                    }
                    nap(200us);
                    if (a != b) {
                        torn++;
                    }
                    reads++;
                }
                nap(100us);
            }
        });
    }
    join_all(threads);
    CHECK_EQ(a, WRITERS * WRITES);
    CHECK_EQ(b, WRITERS * WRITES);
    CHECK_EQ(torn.load(), 0);
    say("std::shared_mutex: %d writers x %d and %d readers x %d: pair %ld/%ld, "
        "%d reads, %d torn",
        WRITERS, WRITES, READERS, READS, a, b, reads.load(), torn.load());

    constexpr int TOGETHER = 4;
    std::atomic<int> inside{0}, met{0};
    bool try_excl = true, try_shared = false;
    for (int r = 0; r < TOGETHER; r++) {
        threads.emplace_back([&] {
            std::shared_lock g(sm);
            inside++;
            if (eventually([&] { return inside.load() == TOGETHER; })) {
                met++;
            }
            /* Stay until main has tried both kinds of try_lock. */
            eventually([&] { return inside.load() > TOGETHER; });
        });
    }
    CHECK(eventually([&] { return met.load() == TOGETHER; }));
    try_excl = sm.try_lock();
    if (try_excl) {
        sm.unlock();
    }
    try_shared = sm.try_lock_shared();
    if (try_shared) {
        sm.unlock_shared();
    }
    inside += 100;
    join_all(threads);
    CHECK_EQ(met.load(), TOGETHER);
    CHECK(!try_excl);
    CHECK(try_shared);
    say("std::shared_mutex: %d readers held it at once; try_lock %s, "
        "try_lock_shared %s meanwhile",
        met.load(), try_excl ? "true" : "false",
        try_shared ? "true" : "false");

    /* main holds it shared until the thread's try_lock_for(30ms) failed
     * and its try_lock_until waits. */
    std::shared_timed_mutex stm;
    bool excl_timed_out = false, excl_got = false, shared_got = false;
    long waited_ms = 0;
    Blockers second_try;
    stm.lock_shared();
    std::thread t([&] {
        shared_got = stm.try_lock_shared_for(1s);
        if (shared_got) {
            stm.unlock_shared();
        }
        auto t0 = Clock::now();
        excl_timed_out = !stm.try_lock_for(30ms);
        waited_ms = ms_since(t0);
        second_try.about_to_block();
        excl_got = stm.try_lock_until(Clock::now() + 5s);
        if (excl_got) {
            stm.unlock();
        }
    });
    second_try.wait_blocked_all(1);
    stm.unlock_shared();
    t.join();
    CHECK(shared_got);
    CHECK(excl_timed_out);
    CHECK(waited_ms >= 30);
    CHECK(excl_got);
    say("std::shared_timed_mutex: try_lock_shared_for %s, try_lock_for(30ms) "
        "%s after >= 30 ms %s, try_lock_until(+5s) %s once unlocked",
        shared_got ? "true" : "false", excl_timed_out ? "false" : "true",
        waited_ms >= 30 ? "yes" : "no", excl_got ? "true" : "false");
}

/* ---- std::call_once, magic statics ---- */

std::atomic<int> slow_constructions{0};
constexpr int STATIC_USERS = 4;
Blockers *static_users;

/* The constructor finishes only once the other users wait for it. */
struct Slow {
    int value;
    Slow() : value(0)
    {
        slow_constructions++;
        static_users->wait_blocked_all(STATIC_USERS);
        value = 42;
    }
};

int slow_value()
{
    static Slow instance; /* __cxa_guard_acquire: others wait on a futex */
    return instance.value;
}

void test_once()
{
    constexpr int CALLERS = 8;
    std::once_flag flag;
    std::atomic<int> runs{0}, saw_done{0};
    std::atomic<bool> done{false};
    std::vector<std::thread> threads;
    Blockers callers;

    /* The initialiser finishes only once the other callers wait for it. */
    for (int i = 0; i < CALLERS; i++) {
        threads.emplace_back([&] {
            callers.about_to_block();
            std::call_once(flag, [&] {
                callers.wait_blocked_all(CALLERS);
                runs++;
                done = true;
            });
            if (done) {
                saw_done++;
            }
        });
    }
    join_all(threads);
    CHECK_EQ(runs.load(), 1);
    CHECK_EQ(saw_done.load(), CALLERS);
    say("std::call_once: an initialiser that others waited for ran %d "
        "time(s), %d of %d callers returned after it finished",
        runs.load(), saw_done.load(), CALLERS);
}

/* A function-local static first used by several threads at once. */
void test_static_init()
{
    constexpr int USERS = STATIC_USERS;
    std::atomic<int> sum{0};
    std::vector<std::thread> threads;
    Blockers users;
    static_users = &users;
    for (int i = 0; i < USERS; i++) {
        threads.emplace_back([&] {
            users.about_to_block();
            sum += slow_value();
        });
    }
    join_all(threads);
    CHECK_EQ(slow_constructions.load(), 1);
    CHECK_EQ(sum.load(), 42 * USERS);
    say("function-local static: constructed %d time(s) for %d threads, "
        "sum %d",
        slow_constructions.load(), USERS, sum.load());
}

/* ---- std::async, std::promise, std::packaged_task ---- */

void test_futures()
{
    constexpr int TASKS = 6;
    std::vector<std::future<long>> futures;

    for (int i = 0; i < TASKS; i++) {
        futures.push_back(std::async(std::launch::async, [i] {
            nap(std::chrono::milliseconds(5 * (TASKS - i)));
            return (long)i * i;
        }));
    }
    long sum = 0;
    for (auto &f : futures) {
        sum += f.get();
    }
    CHECK_EQ(sum, 55);
    say("std::async: %d tasks, sum of results %ld", TASKS, sum);

    /* Each value below is set once the getter waits for it. */
    Blockers getter;
    std::promise<std::string> p;
    std::future<std::string> f = p.get_future();
    auto t0 = Clock::now();
    const bool timed_out = f.wait_for(30ms) == std::future_status::timeout;
    const long w = ms_since(t0);
    std::thread setter([&p, &getter] {
        getter.wait_blocked_all(1);
        p.set_value("a value from another thread");
    });
    getter.about_to_block();
    const std::string v = f.get();
    setter.join();
    CHECK(timed_out);
    CHECK(w >= 30);
    CHECK(v == "a value from another thread");
    say("std::promise: wait_for(30ms) %s after >= 30 ms %s; get() \"%s\"",
        timed_out ? "timeout" : "ready", w >= 30 ? "yes" : "no", v.c_str());

    std::promise<int> pe;
    std::future<int> fe = pe.get_future();
    std::thread thrower([&pe, &getter] {
        getter.wait_blocked_all(1);
        try {
            throw std::runtime_error("set_exception from a thread");
        } catch (...) {
            pe.set_exception(std::current_exception());
        }
    });
    std::string what = "(nothing thrown)";
    getter.about_to_block();
    try {
        fe.get();
    } catch (const std::runtime_error &e) {
        what = e.what();
    }
    thrower.join();
    CHECK(what == "set_exception from a thread");
    say("std::promise: get() rethrows \"%s\"", what.c_str());

    constexpr int SHARERS = 4;
    std::promise<int> ps;
    std::shared_future<int> sf = ps.get_future().share();
    std::atomic<int> shared_sum{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < SHARERS; i++) {
        threads.emplace_back([sf, &shared_sum, &getter] {
            getter.about_to_block();
            shared_sum += sf.get();
        });
    }
    getter.wait_blocked_all(SHARERS);
    ps.set_value(7);
    join_all(threads);
    CHECK_EQ(shared_sum.load(), 7 * SHARERS);
    say("std::shared_future: %d waiters got %d in all", SHARERS,
        shared_sum.load());

    std::packaged_task<int(int, int)> task([](int x, int y) {
        nap(5ms);
        return x * y;
    });
    std::future<int> ft = task.get_future();
    std::thread runner(std::move(task), 6, 7);
    const int product = ft.get();
    runner.join();
    CHECK_EQ(product, 42);
    say("std::packaged_task: 6 * 7 = %d in another thread", product);

    std::future<int> orphan;
    {
        std::promise<int> dropped;
        orphan = dropped.get_future();
        std::thread dropper([d = std::move(dropped), &getter]() mutable {
            getter.wait_blocked_all(1);
            std::promise<int> gone = std::move(d);
        });
        dropper.detach();
    }
    bool broken = false;
    getter.about_to_block();
    try {
        orphan.get();
    } catch (const std::future_error &e) {
        broken = e.code() == std::future_errc::broken_promise;
    }
    CHECK(broken);
    say("std::future: a promise destroyed in another thread gives "
        "broken_promise: %s",
        broken ? "yes" : "no");
}

/* ---- C++20: std::atomic wait/notify, semaphores, latch, barrier ---- */

void test_atomic_wait()
{
    constexpr int ROUNDS = 100, WAITERS = 5;
    std::atomic<int> turn{0};
    int pings = 0, pongs = 0;

    std::thread ping([&] {
        for (int i = 0; i < ROUNDS; i++) {
            int v;
            while ((v = turn.load()) != 0) {
                turn.wait(v);
            }
            pings++;
            turn.store(1);
            turn.notify_one();
        }
    });
    std::thread pong([&] {
        for (int i = 0; i < ROUNDS; i++) {
            int v;
            while ((v = turn.load()) != 1) {
                turn.wait(v);
            }
            pongs++;
            if (i % 10 == 0) {
                nap(200us);
            }
            turn.store(0);
            turn.notify_one();
        }
    });
    ping.join();
    pong.join();
    CHECK_EQ(pings, ROUNDS);
    CHECK_EQ(pongs, ROUNDS);
    say("std::atomic wait/notify_one: %d pings, %d pongs", pings, pongs);

    std::atomic<int> gate{0};
    std::atomic<int> woken{0}, before{0};
    std::vector<std::thread> threads;
    Blockers waiters;
    for (int i = 0; i < WAITERS; i++) {
        threads.emplace_back([&] {
            waiters.about_to_block();
            gate.wait(0);
            woken++;
        });
    }
    waiters.wait_blocked_all(WAITERS);
    before = woken.load();
    gate.store(1);
    gate.notify_all();
    join_all(threads);
    CHECK_EQ(before.load(), 0);
    CHECK_EQ(woken.load(), WAITERS);
    say("std::atomic wait/notify_all: %d woken before the store, %d after",
        before.load(), woken.load());

    std::atomic_flag af;
    std::atomic<int> flag_seen{0};
    std::thread fw([&] {
        waiters.about_to_block();
        af.wait(false);
        flag_seen = 1;
    });
    waiters.wait_blocked_all(1);
    af.test_and_set();
    af.notify_one();
    fw.join();
    CHECK_EQ(flag_seen.load(), 1);
    say("std::atomic_flag wait/notify_one: woken %d", flag_seen.load());
}

void test_semaphore_latch_barrier()
{
    constexpr int PERMITS = 3, USERS = 10;
    std::counting_semaphore<8> sem(PERMITS);
    std::atomic<int> inside{0}, max_inside{0}, uses{0};
    std::vector<std::thread> threads;

    for (int i = 0; i < USERS; i++) {
        threads.emplace_back([&] {
            for (int k = 0; k < 3; k++) {
                sem.acquire();
                const int n = ++inside;
                int m = max_inside.load();
                while (n > m && !max_inside.compare_exchange_weak(m, n)) {
                }
                nap(2ms);
                uses++;
                inside--;
                sem.release();
            }
        });
    }
    join_all(threads);
    CHECK(max_inside.load() <= PERMITS);
    CHECK_EQ(uses.load(), USERS * 3);
    say("std::counting_semaphore<8>(%d): %d acquisitions, never more than %d "
        "inside: %s",
        PERMITS, uses.load(), PERMITS,
        max_inside.load() <= PERMITS ? "yes" : "no");

    std::atomic<int> holders{0}, met{0};
    for (int i = 0; i < PERMITS; i++) {
        threads.emplace_back([&] {
            sem.acquire();
            holders++;
            if (eventually([&] { return holders.load() >= PERMITS; })) {
                met++;
            }
            eventually([&] { return holders.load() > PERMITS; });
            sem.release();
        });
    }
    CHECK(eventually([&] { return met.load() == PERMITS; }));
    const bool try_acq = sem.try_acquire();
    auto t0 = Clock::now();
    const bool try_for = sem.try_acquire_for(30ms);
    const long w = ms_since(t0);
    holders += 100;
    join_all(threads);
    CHECK_EQ(met.load(), PERMITS);
    CHECK(!try_acq);
    CHECK(!try_for);
    CHECK(w >= 30);
    say("std::counting_semaphore: %d holders at once; try_acquire %s, "
        "try_acquire_for(30ms) %s after >= 30 ms %s",
        met.load(), try_acq ? "true" : "false", try_for ? "true" : "false",
        w >= 30 ? "yes" : "no");

    std::binary_semaphore ping(0), pong(0);
    int volleys = 0;
    std::thread partner([&] {
        for (int i = 0; i < 50; i++) {
            ping.acquire();
            volleys++;
            pong.release();
        }
    });
    for (int i = 0; i < 50; i++) {
        ping.release();
        pong.acquire();
    }
    partner.join();
    CHECK_EQ(volleys, 50);
    say("std::binary_semaphore: %d volleys", volleys);

    constexpr int WORKERS = 6;
    std::latch done(WORKERS), all_arrived(WORKERS);
    std::array<int, WORKERS> slots{};
    std::atomic<int> saw_all{0};
    for (int i = 0; i < WORKERS; i++) {
        threads.emplace_back([&, i] {
            nap(std::chrono::milliseconds(i));
            slots[i] = i + 1;
            done.count_down();
            all_arrived.arrive_and_wait();
            if (std::accumulate(slots.begin(), slots.end(), 0) ==
                WORKERS * (WORKERS + 1) / 2) {
                saw_all++;
            }
        });
    }
    done.wait();
    const int slot_sum = std::accumulate(slots.begin(), slots.end(), 0);
    join_all(threads);
    CHECK_EQ(slot_sum, WORKERS * (WORKERS + 1) / 2);
    CHECK_EQ(saw_all.load(), WORKERS);
    CHECK(done.try_wait());
    say("std::latch: wait() saw sum %d; %d of %d arrive_and_wait callers "
        "saw every slot",
        slot_sum, saw_all.load(), WORKERS);

    constexpr int PARTIES = 5, ROUNDS = 10;
    int phases = 0, bad_phases = 0;
    std::array<std::array<int, PARTIES>, ROUNDS> marks{};
    auto completion = [&]() noexcept {
        int n = 0;
        for (int v : marks[phases]) {
            n += v;
        }
        if (n != PARTIES) {
            bad_phases++;
        }
        phases++;
    };
    std::barrier bar(PARTIES, completion);
    std::atomic<int> early{0};
    for (int i = 0; i < PARTIES; i++) {
        threads.emplace_back([&, i] {
            for (int r = 0; r < ROUNDS; r++) {
                marks[r][i] = 1;
                if ((r + i) % 3 == 0) {
                    nap(1ms);
                }
                bar.arrive_and_wait();
                for (int j = 0; j < PARTIES; j++) {
                    if (marks[r][j] != 1) {
                        early++;
                    }
                }
            }
        });
    }
    join_all(threads);
    CHECK_EQ(phases, ROUNDS);
    CHECK_EQ(bad_phases, 0);
    CHECK_EQ(early.load(), 0);
    say("std::barrier: %d parties x %d rounds, completion ran %d times, "
        "%d incomplete phases, %d early leavers",
        PARTIES, ROUNDS, phases, bad_phases, early.load());
}

/* ---- thread_local with a non-trivial destructor ---- */

std::atomic<long> tl_destructions{0}, tl_checksum{0}, tl_wrong{0};

long checksum(const std::string &s)
{
    long sum = 0;
    for (size_t i = 0; i < s.size(); i++) {
        sum += (long)(unsigned char)s[i] * (long)(i + 1);
    }
    return sum;
}

std::string tl_expected(int id)
{
    return "thread_local string owned by thread " + std::to_string(id);
}

struct Owner {
    int id = -1;
    std::string s; /* longer than 15 chars: heap-allocated */
    ~Owner()
    {
        if (id < 0) {
            return;
        }
        tl_destructions++;
        tl_checksum += checksum(s);
        if (s != tl_expected(id)) {
            tl_wrong++;
        }
    }
};

thread_local Owner owner;
thread_local int tl_counter = 0;

void test_thread_local()
{
    constexpr int N = 8;
    std::atomic<int> kept{0};
    std::vector<std::thread> threads;

    for (int i = 0; i < N; i++) {
        threads.emplace_back([&, i] {
            owner.id = i;
            owner.s = tl_expected(i);
            for (int k = 0; k < 5; k++) {
                tl_counter += i;
                nap(1ms);
            }
            if (owner.s == tl_expected(i) && tl_counter == 5 * i) {
                kept++;
            }
        });
    }
    join_all(threads);
    long expected = 0;
    for (int i = 0; i < N; i++) {
        expected += checksum(tl_expected(i));
    }
    CHECK_EQ(kept.load(), N);
    CHECK_EQ(tl_destructions.load(), N);
    CHECK_EQ(tl_checksum.load(), expected);
    CHECK_EQ(tl_wrong.load(), 0);
    CHECK_EQ(owner.id, -1);
    say("thread_local: %d threads kept their values; %ld destructors ran, "
        "checksum %ld, %ld with another thread's value",
        kept.load(), tl_destructions.load(), tl_checksum.load(),
        tl_wrong.load());
}

/* ---- exceptions in several threads at once ---- */

struct UnwindProbe {
    int *seen;
    ~UnwindProbe()
    {
        nap(2ms); /* other threads throw and catch meanwhile */
        *seen = std::uncaught_exceptions();
    }
};

void test_exceptions()
{
    constexpr int N = 6;
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;

    for (int i = 0; i < N; i++) {
        threads.emplace_back([&, i] {
            const std::string mine = "error from thread " + std::to_string(i);
            int during_unwind = -1;
            bool good = true;
            try {
                UnwindProbe probe{&during_unwind};
                nap(1ms);
                throw std::runtime_error(mine);
            } catch (const std::runtime_error &e) {
                nap(5ms);
                good &= e.what() == mine;
                good &= std::uncaught_exceptions() == 0;
                try {
                    nap(1ms);
                    throw std::logic_error(mine + " (nested)");
                } catch (const std::logic_error &inner) {
                    nap(2ms);
                    good &= inner.what() == mine + " (nested)";
                }
                good &= e.what() == mine;
                try {
                    nap(1ms);
                    throw;
                } catch (const std::runtime_error &again) {
                    nap(1ms);
                    good &= &again == &e;
                    good &= std::current_exception() != nullptr;
                }
                nap(1ms);
                good &= e.what() == mine;
            }
            good &= during_unwind == 1;
            good &= std::uncaught_exceptions() == 0;
            good &= std::current_exception() == nullptr;
            if (good) {
                ok++;
            } else {
                fprintf(stderr, "%s:%d: thread %d: exception state wrong "
                        "(unwinding saw %d uncaught)\n",
                        __FILE__, __LINE__, i, during_unwind);
            }
        });
    }
    join_all(threads);
    CHECK_EQ(ok.load(), N);
    say("exceptions: %d of %d threads threw, caught, nested and rethrew "
        "their own while sleeping in catch blocks",
        ok.load(), N);
}

/* ---- std::jthread and stop tokens ---- */

void test_stop_token()
{
    std::atomic<int> loops{0};
    {
        std::jthread loop([&loops](std::stop_token st) {
            while (!st.stop_requested()) {
                loops++;
                nap(1ms);
            }
        });
        CHECK(eventually([&] { return loops.load() >= 3; }));
    } /* ~jthread requests stop and joins */

    std::mutex m;
    std::condition_variable_any cv;
    bool waited = true;
    Blockers waiting;
    {
        std::jthread waiter([&](std::stop_token st) {
            std::unique_lock lk(m);
            waiting.about_to_block();
            waited = cv.wait(lk, st, [] { return false; });
        });
        waiting.wait_blocked_all(1);
        CHECK(waiter.request_stop());
    }
    CHECK(!waited);
    say("std::jthread: a stop request ends a sleeping loop and a "
        "condition_variable_any wait (%s)",
        waited ? "wait returned true" : "wait returned false");

    /* A callback registered by one thread runs in the thread requesting
     * the stop; the owner's ~stop_callback waits until it has finished. */
    std::stop_source source;
    std::atomic<int> ran{0}, finished{0};
    std::atomic<bool> registered{false};
    std::thread owner([&] {
        std::stop_callback cb(source.get_token(), [&] {
            ran++;
            nap(20ms);
            finished++;
        });
        registered = true;
        while (!source.stop_requested()) {
            nap(1ms);
        }
    });
    CHECK(eventually([&] { return registered.load(); }));
    CHECK(source.request_stop());
    owner.join();
    CHECK_EQ(ran.load(), 1);
    CHECK_EQ(finished.load(), 1);
    say("std::stop_callback: ran %d time(s) in the requesting thread, "
        "finished before its owner's destructor returned: %s",
        ran.load(), finished.load() == 1 ? "yes" : "no");
}

/* ---- threads parked in ten kinds of wait at once ---- */

void wait_for_file(const char *path)
{
    for (int i = 0; i < 1500; i++) {
        if (access(path, F_OK) == 0) {
            return;
        }
        nap(10ms);
    }
    CHECK(!"hold file never appeared");
}

void test_parked(const char *hold_file)
{
    constexpr int PER = 3, KINDS = 10;
    std::atomic<int> arrived{0};
    std::array<std::atomic<int>, KINDS> returned{};
    std::vector<std::thread> threads;
    Blockers blocking;
    auto spawn = [&](int kind, auto &&body) {
        for (int i = 0; i < PER; i++) {
            threads.emplace_back([&, kind, body] {
                arrived++;
                blocking.about_to_block();
                body();
                returned[kind]++;
            });
        }
    };

    std::mutex cv_m;
    std::condition_variable cv;
    bool go = false;
    spawn(0, [&] {
        std::unique_lock lk(cv_m);
        cv.wait(lk, [&] { return go; });
    });

    std::mutex held;
    held.lock();
    spawn(1, [&] { std::lock_guard g(held); });

    std::shared_mutex sm;
    sm.lock_shared();
    spawn(2, [&] { std::unique_lock g(sm); });

    std::atomic<int> word{0};
    spawn(3, [&] { word.wait(0); });

    std::promise<void> promise;
    std::shared_future<void> future = promise.get_future().share();
    spawn(4, [future] { future.wait(); });

    std::counting_semaphore<PER> sem(0);
    spawn(5, [&] { sem.acquire(); });

    std::latch latch(1);
    spawn(6, [&] { latch.wait(); });

    std::barrier barrier(PER + 1);
    spawn(7, [&] { barrier.arrive_and_wait(); });

    std::atomic<bool> stop_sleeping{false};
    spawn(8, [&] {
        while (!stop_sleeping) {
            nap(5ms);
        }
    });

    /* Joiners: each joins a thread parked on its own condition variable. */
    std::mutex jm;
    std::condition_variable jcv;
    bool jgo = false;
    std::array<std::thread, PER> joinees;
    for (auto &j : joinees) {
        j = std::thread([&] {
            std::unique_lock lk(jm);
            blocking.about_to_block();
            jcv.wait(lk, [&] { return jgo; });
        });
    }
    for (int i = 0; i < PER; i++) {
        threads.emplace_back([&, i] {
            arrived++;
            blocking.about_to_block();
            joinees[i].join();
            returned[9]++;
        });
    }

    /* Every one of them (and the joinees) sleeps in its wait. */
    blocking.wait_blocked_all(PER * KINDS + PER);
    int early = 0;
    for (auto &r : returned) {
        early += r.load();
    }
    say("parked %d on %d kinds", arrived.load(), KINDS);
    say("returned before release: %d", early);
    CHECK_EQ(early, 0);
    if (hold_file != nullptr) {
        wait_for_file(hold_file);
        alarm(20);
    }

    {
        std::lock_guard g(cv_m);
        go = true;
    }
    cv.notify_all();
    held.unlock();
    sm.unlock_shared();
    word = 1;
    word.notify_all();
    promise.set_value();
    sem.release(PER);
    latch.count_down();
    barrier.arrive_and_wait();
    stop_sleeping = true;
    {
        std::lock_guard g(jm);
        jgo = true;
    }
    jcv.notify_all();
    join_all(threads);

    static const char *const names[KINDS] = {
        "condition_variable", "mutex",    "shared_mutex", "atomic::wait",
        "shared_future",      "semaphore", "latch",       "barrier",
        "sleep_for",          "join",
    };
    std::string line = "released:";
    for (int k = 0; k < KINDS; k++) {
        line += " " + std::string(names[k]) + " " +
                std::to_string(returned[k].load());
        CHECK_EQ(returned[k].load(), PER);
    }
    say("%s", line.c_str());
}

/* ---- std::call_once with an initialiser that throws ---- */

void test_once_throwing()
{
    constexpr int CALLERS = 4;
    std::once_flag flag;
    std::atomic<int> attempts{0}, thrown{0}, returned{0};
    std::vector<std::thread> threads;

    for (int i = 0; i < CALLERS; i++) {
        threads.emplace_back([&] {
            try {
                std::call_once(flag, [&] {
                    const int n = ++attempts;
                    nap(10ms);
                    if (n < 3) {
                        throw std::runtime_error("not yet");
                    }
                });
                returned++;
            } catch (const std::runtime_error &) {
                thrown++;
            }
        });
    }
    join_all(threads);
    CHECK_EQ(attempts.load(), 3);
    CHECK_EQ(thrown.load(), 2);
    CHECK_EQ(returned.load(), CALLERS - 2);
    say("std::call_once: initialiser throwing twice ran %d times; %d callers "
        "got the exception, %d returned normally",
        attempts.load(), thrown.load(), returned.load());
}

} // namespace

int main(int argc, char **argv)
{
    static const struct section sections[] = {
        { "thread", test_thread },
        { "mutex", test_mutex },
        { "condvar", test_condition_variable },
        { "shared_mutex", test_shared_mutex },
        { "once", test_once },
        { "futures", test_futures },
        { "atomic_wait", test_atomic_wait },
        { "semaphore", test_semaphore_latch_barrier },
        { "thread_local", test_thread_local },
        { "exceptions", test_exceptions },
        { "static_init", test_static_init },
        { "stop_token", test_stop_token },
        { "parked", nullptr },
        { "once_throwing", test_once_throwing },
    };
    const char *hold_file = nullptr;
    std::vector<std::string> chosen;

    alarm(20);
    for (int i = 1; i < argc; i++) {
        if (std::string(argv[i]) == "--hold" && i + 1 < argc) {
            hold_file = argv[++i];
        } else {
            chosen.push_back(argv[i]);
        }
    }
    for (const auto &c : chosen) {
        bool known = false;
        for (const auto &s : sections) {
            known |= c == s.name;
        }
        if (!known) {
            fprintf(stderr, "usage: cxx-threads [--hold FILE] [SECTION]...\n"
                            "unknown section '%s'\n",
                    c.c_str());
            return 2;
        }
    }
    for (const auto &s : sections) {
        if (!chosen.empty() &&
            std::find(chosen.begin(), chosen.end(), s.name) == chosen.end()) {
            continue;
        }
        if (s.run != nullptr) {
            s.run();
        } else {
            test_parked(hold_file);
        }
    }
    return check_exit_status();
}
