// SPDX-License-Identifier: MIT
// rust-threads [--hold FILE] [SECTION]...: Rust std's threads and
// synchronisation, as an unmodified Rust program uses them (std only, no
// crates; builds with rustc 1.63 and later, edition 2021).
//
// Covers Arc<AtomicUsize> counters and JoinHandle results; Mutex under
// contention with sleeps inside, a Mutex poisoned by a panicking thread
// (the panic unwinds through a Drop that sleeps) and Condvar (a bounded
// buffer, wait_timeout_while timing out after at least its duration, a
// notified wait); RwLock (no torn pairs, readers holding it at once,
// try_write WouldBlock); mpsc channels (several senders, per-sender order,
// recv_timeout, disconnection; a rendezvous sync_channel(0)); a TCP echo
// server on 127.0.0.1 with a thread per connection; Barrier (one
// leader per round, nobody leaving early); Once whose initialiser the
// other callers wait for; thread::scope threads writing into a stack
// array they borrow; park/unpark and park_timeout; thread_local! values with Drop (one
// drop per thread, with that thread's value); and thread::Builder with a
// name and a stack size, checked through thread::current().name().
//
// Then threads block in ten kinds of wait at once; main prints "parked N on
// 10 kinds", waits for FILE when given --hold FILE (so that a test can look
// at the process) and releases them.  With SECTION arguments only those
// sections run.
//
// Prints counts, sums and results only, nothing that depends on the order
// in which threads run.  Where a thread must be waiting before another
// acts (a notify, a send, an unpark, an initialiser others wait for, the
// parked threads), the waiter says it is about to block and the other
// side waits until /proc shows it asleep in its call (as
// tests/progs/handshake.h does for the C programs): those steps do not
// depend on timing.  Timed waits are checked to last at least their time,
// a bound no load can break; other naps only mix the threads' turns.
// A watchdog thread ends the process with status 99
// if it is still running 20 s after starting (or after the hold file
// appeared); it is detached, and main exits without waiting for it.
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Condvar, Mutex, Once, RwLock, TryLockError};
use std::thread;
use std::time::{Duration, Instant};

static FAILURES: AtomicUsize = AtomicUsize::new(0);

// check!(cond): report a failed check on stderr with file:line and count it.
macro_rules! check {
    ($cond:expr) => {
        if !$cond {
            eprintln!(
                "{}:{}: check failed: {}",
                file!(),
                line!(),
                stringify!($cond)
            );
            FAILURES.fetch_add(1, SeqCst);
        }
    };
}

// check_eq!(a, b): the same, printing both values.
macro_rules! check_eq {
    ($a:expr, $b:expr) => {{
        let (a, b) = (&$a, &$b);
        if *a != *b {
            eprintln!(
                "{}:{}: check failed: {} == {}: {:?} != {:?}",
                file!(),
                line!(),
                stringify!($a),
                stringify!($b),
                a,
                b
            );
            FAILURES.fetch_add(1, SeqCst);
        }
    }};
}

fn nap_ms(ms: u64) {
    thread::sleep(Duration::from_millis(ms));
}

fn nap_us(us: u64) {
    thread::sleep(Duration::from_micros(us));
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

// Sleep in 1 ms steps until pred() holds or 5 s have passed.
fn eventually<F: Fn() -> bool>(pred: F) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !pred() {
        if Instant::now() > deadline {
            return false;
        }
        nap_ms(1);
    }
    true
}

// ---- handshakes ----

// The kernel's id of the calling thread's kernel thread, from
// /proc/thread-self ("PID/task/TID").
fn kernel_tid() -> u32 {
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|l| {
            l.to_str()
                .and_then(|s| s.rsplit('/').next())
                .and_then(|t| t.parse().ok())
        })
        .unwrap_or(0)
}

// The state letter of kernel thread `tid` of this process (R, S, D, ...),
// or None when /proc does not list it.
fn thread_state(tid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{}/stat", tid)).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.trim_start().chars().next()
}

// Wait until kernel thread `tid`, which said its next call blocks, sleeps
// in it (state S).  A thread that shares the caller's kernel thread (a
// runtime of green threads, like libgreen) is not running while the
// caller runs: it already stopped in its blocking call.
fn wait_blocked(tid: u32) {
    if tid == kernel_tid() {
        return;
    }
    loop {
        match thread_state(tid) {
            None | Some('S') => return,
            _ => nap_us(200),
        }
    }
}

// Threads that say they are about to block; another waits until they
// sleep in their calls.
struct Blockers {
    said: Mutex<(usize, Vec<u32>)>, // how many said so, their tids
    cv: Condvar,
    taken: Mutex<usize>,
}

impl Blockers {
    fn new() -> Blockers {
        Blockers {
            said: Mutex::new((0, Vec::new())),
            cv: Condvar::new(),
            taken: Mutex::new(0),
        }
    }

    fn about_to_block(&self) {
        let mut g = self.said.lock().unwrap();
        g.0 += 1;
        g.1.push(kernel_tid());
        self.cv.notify_all();
    }

    // Once n more threads said so, wait until each thread that ever said
    // so sleeps (or has ended).
    fn wait_blocked_all(&self, n: usize) {
        let mut taken = self.taken.lock().unwrap();
        *taken += n;
        let want = *taken;
        let g = self.cv.wait_while(self.said.lock().unwrap(), |s| s.0 < want).unwrap();
        let tids = g.1.clone();
        drop(g);
        for t in tids {
            wait_blocked(t);
        }
    }
}

// ---- the watchdog ----

// Milliseconds since the watchdog started, as it last saw them.
static WATCHDOG_NOW_MS: AtomicU64 = AtomicU64::new(0);
static WATCHDOG_DEADLINE_MS: AtomicU64 = AtomicU64::new(20_000);

fn start_watchdog() {
    let t0 = Instant::now();
    thread::Builder::new()
        .name("watchdog".to_string())
        .spawn(move || loop {
            nap_ms(250);
            let elapsed = t0.elapsed().as_millis() as u64;
            if elapsed > WATCHDOG_DEADLINE_MS.load(SeqCst) {
                eprintln!("rust-threads: watchdog: still running after {} ms", elapsed);
                std::process::exit(99);
            }
            WATCHDOG_NOW_MS.store(elapsed, SeqCst);
        })
        .expect("spawn watchdog"); // the JoinHandle is dropped: detached
}

// Give the program another 20 s from now.
fn extend_watchdog() {
    let now = WATCHDOG_NOW_MS.load(SeqCst);
    WATCHDOG_DEADLINE_MS.store(now + 20_000, SeqCst);
}

// ---- Arc<AtomicUsize>, JoinHandle results ----

fn test_arc_atomic() {
    const N: usize = 8;
    const ADDS: usize = 1000;
    let counter = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..N)
        .map(|i| {
            let counter = Arc::clone(&counter);
            thread::spawn(move || {
                for k in 0..ADDS {
                    counter.fetch_add(1, SeqCst);
                    if k % 250 == 0 {
                        nap_ms(1);
                    }
                }
                i * i
            })
        })
        .collect();
    let results: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    check_eq!(counter.load(SeqCst), N * ADDS);
    check_eq!(results, 140);
    check_eq!(Arc::strong_count(&counter), 1);
    println!(
        "Arc<AtomicUsize>: {} from {} threads x {}; join results sum {}; strong count {}",
        counter.load(SeqCst),
        N,
        ADDS,
        results,
        Arc::strong_count(&counter)
    );
}

// ---- Mutex, poisoning, Condvar ----

struct SleepOnDrop(Arc<AtomicUsize>);

impl Drop for SleepOnDrop {
    fn drop(&mut self) {
        nap_ms(5); // other threads run while this one unwinds
        if thread::panicking() {
            self.0.fetch_add(1, SeqCst);
        }
    }
}

fn test_mutex_condvar() {
    const N: usize = 16;
    const ITER: usize = 20;
    let state = Arc::new(Mutex::new((0u64, 0u32, 0u32))); // counter, inside, overlaps
    let handles: Vec<_> = (0..N)
        .map(|i| {
            let state = Arc::clone(&state);
            thread::spawn(move || {
                for k in 0..ITER {
                    let mut g = state.lock().unwrap();
                    g.1 += 1;
                    if g.1 != 1 {
                        g.2 += 1;
                    }
                    let c = g.0;
                    if (k + i) % 4 == 0 {
                        nap_us(200);
                    }
                    g.0 = c + 1;
                    g.1 -= 1;
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let (counter, _, overlaps) = *state.lock().unwrap();
    check_eq!(counter, (N * ITER) as u64);
    check_eq!(overlaps, 0);
    println!(
        "Mutex: counter {} from {} threads x {}, {} overlaps",
        counter, N, ITER, overlaps
    );

    // try_lock while another thread holds it; a panic while holding it
    // poisons it, unwinding through a Drop that sleeps.
    // The thread panics only once main's try_lock saw it held.
    let m = Arc::new(Mutex::new(7));
    let unwound = Arc::new(AtomicUsize::new(0));
    let (held_tx, held_rx) = mpsc::channel::<()>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {})); // the panics below are expected
    let panicker = {
        let (m, unwound) = (Arc::clone(&m), Arc::clone(&unwound));
        thread::spawn(move || {
            let _g = m.lock().unwrap();
            held_tx.send(()).unwrap();
            let _probe = SleepOnDrop(Arc::clone(&unwound));
            go_rx.recv().unwrap();
            panic!("{}", String::from("panic while holding the mutex"));
        })
    };
    held_rx.recv().unwrap();
    let busy = matches!(m.try_lock(), Err(TryLockError::WouldBlock));
    go_tx.send(()).unwrap();
    let joined = panicker.join();
    std::panic::set_hook(default_hook);
    let payload = match &joined {
        Err(e) => e.downcast_ref::<String>().cloned().unwrap_or_default(),
        Ok(()) => String::from("(no panic)"),
    };
    let poisoned = m.is_poisoned();
    let value = match m.lock() {
        Ok(g) => *g,
        Err(p) => *p.into_inner(),
    };
    check!(busy);
    check_eq!(payload.as_str(), "panic while holding the mutex");
    check_eq!(unwound.load(SeqCst), 1);
    check!(poisoned);
    check_eq!(value, 7);
    println!(
        "Mutex: try_lock WouldBlock while held: {}; a panic \"{}\" unwound through {} sleeping Drop, poisoned: {}, value {}",
        yes_no(busy),
        payload,
        unwound.load(SeqCst),
        yes_no(poisoned),
        value
    );

    const PRODUCERS: u64 = 3;
    const CONSUMERS: usize = 3;
    const ITEMS: u64 = 30;
    const CAPACITY: usize = 4;
    struct Queue {
        items: VecDeque<u64>,
        producers_done: u64,
        consumed: u64,
        sum: u64,
    }
    let shared = Arc::new((
        Mutex::new(Queue {
            items: VecDeque::new(),
            producers_done: 0,
            consumed: 0,
            sum: 0,
        }),
        Condvar::new(), // not full
        Condvar::new(), // not empty
    ));
    let mut handles = Vec::new();
    for p in 0..PRODUCERS {
        let shared = Arc::clone(&shared);
        handles.push(thread::spawn(move || {
            let (m, not_full, not_empty) = &*shared;
            for i in 1..=ITEMS {
                let mut q = not_full
                    .wait_while(m.lock().unwrap(), |q| q.items.len() >= CAPACITY)
                    .unwrap();
                q.items.push_back(p * 1000 + i);
                not_empty.notify_one();
                drop(q);
                if i % 7 == 0 {
                    nap_ms(1);
                }
            }
            m.lock().unwrap().producers_done += 1;
            not_empty.notify_all();
        }));
    }
    for _ in 0..CONSUMERS {
        let shared = Arc::clone(&shared);
        handles.push(thread::spawn(move || {
            let (m, not_full, not_empty) = &*shared;
            loop {
                let mut q = not_empty
                    .wait_while(m.lock().unwrap(), |q| {
                        q.items.is_empty() && q.producers_done < PRODUCERS
                    })
                    .unwrap();
                let item = match q.items.pop_front() {
                    Some(item) => item,
                    None => return,
                };
                q.consumed += 1;
                q.sum += item;
                not_full.notify_one();
                drop(q);
                nap_us(200);
            }
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    let expected: u64 = (0..PRODUCERS)
        .map(|p| (1..=ITEMS).map(|i| p * 1000 + i).sum::<u64>())
        .sum();
    let (consumed, sum) = {
        let q = shared.0.lock().unwrap();
        (q.consumed, q.sum)
    };
    check_eq!(consumed, PRODUCERS * ITEMS);
    check_eq!(sum, expected);
    println!(
        "Condvar: {} items through a {}-slot queue, sum {}",
        consumed, CAPACITY, sum
    );

    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let (lock, cv) = &*pair;
    let t0 = Instant::now();
    let (_g, res) = cv
        .wait_timeout_while(lock.lock().unwrap(), Duration::from_millis(50), |flag| {
            !*flag
        })
        .unwrap();
    let waited = t0.elapsed();
    let timed_out = res.timed_out();
    drop(_g);
    check!(timed_out);
    check!(waited >= Duration::from_millis(50));
    // Notified once main waits (the 5 s only turn a lost notify into a
    // failure).
    let waiting = Arc::new(Blockers::new());
    let notifier = {
        let (pair, waiting) = (Arc::clone(&pair), Arc::clone(&waiting));
        thread::spawn(move || {
            waiting.wait_blocked_all(1);
            *pair.0.lock().unwrap() = true;
            pair.1.notify_one();
        })
    };
    let guard = lock.lock().unwrap();
    waiting.about_to_block();
    let (g, res) = cv
        .wait_timeout_while(guard, Duration::from_secs(5), |flag| !*flag)
        .unwrap();
    let notified = !res.timed_out() && *g;
    drop(g);
    notifier.join().unwrap();
    check!(notified);
    println!(
        "Condvar: wait_timeout_while(50ms) timed out: {}, after >= 50 ms: {}; notified while it waited: {}",
        yes_no(timed_out),
        yes_no(waited >= Duration::from_millis(50)),
        yes_no(notified)
    );
}

// ---- RwLock ----

fn test_rwlock() {
    const WRITERS: usize = 3;
    const WRITES: u64 = 10;
    const READERS: usize = 6;
    const READS: usize = 15;
    let lock = Arc::new(RwLock::new((0u64, 0u64)));
    let torn = Arc::new(AtomicUsize::new(0));
    let reads = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for _ in 0..WRITERS {
        let lock = Arc::clone(&lock);
        handles.push(thread::spawn(move || {
            for _ in 0..WRITES {
                {
                    let mut g = lock.write().unwrap();
                    g.0 += 1;
                    nap_us(300);
                    g.1 += 1;
                }
                nap_us(200);
            }
        }));
    }
    for _ in 0..READERS {
        let (lock, torn, reads) = (Arc::clone(&lock), Arc::clone(&torn), Arc::clone(&reads));
        handles.push(thread::spawn(move || {
            for _ in 0..READS {
                {
                    let g = lock.read().unwrap();
                    if g.0 != g.1 {
                        torn.fetch_add(1, SeqCst);
                    }
                    nap_us(200);
                    if g.0 != g.1 {
                        torn.fetch_add(1, SeqCst);
                    }
                    reads.fetch_add(1, SeqCst);
                }
                nap_us(100);
            }
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    let (a, b) = *lock.read().unwrap();
    check_eq!(a, WRITERS as u64 * WRITES);
    check_eq!(b, WRITERS as u64 * WRITES);
    check_eq!(torn.load(SeqCst), 0);
    println!(
        "RwLock: {} writers x {} and {} readers x {}: pair {}/{}, {} reads, {} torn",
        WRITERS,
        WRITES,
        READERS,
        READS,
        a,
        b,
        reads.load(SeqCst),
        torn.load(SeqCst)
    );

    const TOGETHER: usize = 4;
    let inside = Arc::new(AtomicUsize::new(0));
    let met = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..TOGETHER)
        .map(|_| {
            let (lock, inside, met) = (Arc::clone(&lock), Arc::clone(&inside), Arc::clone(&met));
            thread::spawn(move || {
                let _g = lock.read().unwrap();
                inside.fetch_add(1, SeqCst);
                if eventually(|| inside.load(SeqCst) >= TOGETHER) {
                    met.fetch_add(1, SeqCst);
                }
                eventually(|| inside.load(SeqCst) > TOGETHER);
            })
        })
        .collect();
    check!(eventually(|| met.load(SeqCst) == TOGETHER));
    let write_blocked = matches!(lock.try_write(), Err(TryLockError::WouldBlock));
    let read_ok = lock.try_read().is_ok();
    inside.fetch_add(100, SeqCst);
    for h in handles {
        h.join().unwrap();
    }
    check_eq!(met.load(SeqCst), TOGETHER);
    check!(write_blocked);
    check!(read_ok);
    println!(
        "RwLock: {} readers held it at once; try_write WouldBlock: {}, try_read ok: {}",
        met.load(SeqCst),
        yes_no(write_blocked),
        yes_no(read_ok)
    );
}

// ---- mpsc channels ----

fn test_channel() {
    const SENDERS: usize = 4;
    const MESSAGES: usize = 25;
    let (tx, rx) = mpsc::channel::<(usize, usize)>();
    let handles: Vec<_> = (0..SENDERS)
        .map(|s| {
            let tx = tx.clone();
            thread::spawn(move || {
                for k in 0..MESSAGES {
                    tx.send((s, k)).unwrap();
                    if k % 5 == s % 5 {
                        nap_ms(1);
                    }
                }
            })
        })
        .collect();
    drop(tx);
    let mut next = [0usize; SENDERS];
    let (mut count, mut sum, mut out_of_order) = (0, 0, 0);
    for (s, k) in rx.iter() {
        if next[s] != k {
            out_of_order += 1;
        }
        next[s] = k + 1;
        count += 1;
        sum += s * 100 + k;
    }
    for h in handles {
        h.join().unwrap();
    }
    check_eq!(count, SENDERS * MESSAGES);
    check_eq!(sum, 100 * MESSAGES * 6 + SENDERS * 300);
    check_eq!(out_of_order, 0);
    println!(
        "mpsc::channel: {} senders x {}: {} received, sum {}, {} out of order, then disconnected",
        SENDERS, MESSAGES, count, sum, out_of_order
    );

    let (tx, rx) = mpsc::channel::<u32>();
    let t0 = Instant::now();
    let timeout = matches!(
        rx.recv_timeout(Duration::from_millis(30)),
        Err(mpsc::RecvTimeoutError::Timeout)
    );
    let waited = t0.elapsed();
    let waiting = Arc::new(Blockers::new());
    let late = {
        let waiting = Arc::clone(&waiting);
        thread::spawn(move || {
            waiting.wait_blocked_all(1);
            tx.send(42).unwrap();
        })
    };
    waiting.about_to_block();
    let got = rx.recv_timeout(Duration::from_secs(5));
    late.join().unwrap();
    let disconnected = matches!(
        rx.recv_timeout(Duration::from_secs(5)),
        Err(mpsc::RecvTimeoutError::Disconnected)
    );
    check!(timeout);
    check!(waited >= Duration::from_millis(30));
    check_eq!(got, Ok(42));
    check!(disconnected);
    println!(
        "mpsc: recv_timeout(30ms) Timeout: {} after >= 30 ms: {}; then {:?}; then Disconnected: {}",
        yes_no(timeout),
        yes_no(waited >= Duration::from_millis(30)),
        got,
        yes_no(disconnected)
    );
}

// A rendezvous channel: each send waits for its recv.
fn test_sync_channel() {
    let (tx, rx) = mpsc::sync_channel::<usize>(0);
    let sent = Arc::new(AtomicUsize::new(0));
    let sending = Arc::new(Blockers::new());
    let sender = {
        let (sent, sending) = (Arc::clone(&sent), Arc::clone(&sending));
        thread::spawn(move || {
            for k in 0..10 {
                if k == 0 {
                    sending.about_to_block();
                }
                tx.send(k).unwrap();
                sent.fetch_add(1, SeqCst);
            }
        })
    };
    sending.wait_blocked_all(1); // its first send waits for a recv
    let before = sent.load(SeqCst);
    let total: usize = rx.iter().sum();
    sender.join().unwrap();
    check_eq!(before, 0);
    check_eq!(total, 45);
    println!(
        "mpsc::sync_channel(0): {} sends completed before the first recv, sum {}",
        before, total
    );
}

// ---- TCP echo, a thread per connection ----

fn test_tcp_echo() {
    const CLIENTS: usize = 40;
    const LINES: usize = 5;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let served = Arc::new(AtomicUsize::new(0));
    let server = {
        let served = Arc::clone(&served);
        thread::spawn(move || {
            let mut handlers = Vec::new();
            for _ in 0..CLIENTS {
                let (stream, _) = listener.accept().unwrap();
                let served = Arc::clone(&served);
                handlers.push(thread::spawn(move || {
                    let mut out = stream.try_clone().unwrap();
                    for line in BufReader::new(stream).lines() {
                        let line = line.unwrap();
                        // One write per line: small writes in a row wait
                        // for delayed ACKs (Nagle).
                        out.write_all(format!("{}\n", line.to_uppercase()).as_bytes())
                            .unwrap();
                        served.fetch_add(1, SeqCst);
                    }
                }));
            }
            for h in handlers {
                h.join().unwrap();
            }
        })
    };
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            thread::spawn(move || {
                let stream = TcpStream::connect(addr).unwrap();
                let mut out = stream.try_clone().unwrap();
                let mut input = BufReader::new(stream);
                let mut good = 0;
                for k in 0..LINES {
                    out.write_all(format!("client {} line {}\n", c, k).as_bytes())
                        .unwrap();
                    if k % 2 == c % 2 {
                        nap_ms(1);
                    }
                    let mut reply = String::new();
                    input.read_line(&mut reply).unwrap();
                    if reply == format!("CLIENT {} LINE {}\n", c, k) {
                        good += 1;
                    }
                }
                good
            })
        })
        .collect();
    let good: usize = clients.into_iter().map(|h| h.join().unwrap()).sum();
    server.join().unwrap();
    check_eq!(good, CLIENTS * LINES);
    check_eq!(served.load(SeqCst), CLIENTS * LINES);
    println!(
        "TCP echo: {} clients x {} lines through a thread per connection: {} echoed correctly",
        CLIENTS, LINES, good
    );
}

// ---- Barrier ----

fn test_barrier() {
    const PARTIES: usize = 5;
    const ROUNDS: usize = 10;
    let barrier = Arc::new(Barrier::new(PARTIES));
    let marks = Arc::new(Mutex::new([[false; PARTIES]; ROUNDS]));
    let leaders = Arc::new(AtomicUsize::new(0));
    let early = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..PARTIES)
        .map(|i| {
            let (barrier, marks, leaders, early) = (
                Arc::clone(&barrier),
                Arc::clone(&marks),
                Arc::clone(&leaders),
                Arc::clone(&early),
            );
            thread::spawn(move || {
                for r in 0..ROUNDS {
                    marks.lock().unwrap()[r][i] = true;
                    if (r + i) % 3 == 0 {
                        nap_ms(1);
                    }
                    if barrier.wait().is_leader() {
                        leaders.fetch_add(1, SeqCst);
                    }
                    let missing = marks.lock().unwrap()[r].iter().filter(|m| !**m).count();
                    early.fetch_add(missing, SeqCst);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    check_eq!(leaders.load(SeqCst), ROUNDS);
    check_eq!(early.load(SeqCst), 0);
    println!(
        "Barrier: {} parties x {} rounds, {} leaders, {} early leavers",
        PARTIES,
        ROUNDS,
        leaders.load(SeqCst),
        early.load(SeqCst)
    );
}

// ---- Once ----

fn test_once() {
    const CALLERS: usize = 8;
    static INIT: Once = Once::new();
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    static DONE: AtomicBool = AtomicBool::new(false);
    let saw_done = Arc::new(AtomicUsize::new(0));
    // The initialiser finishes only once the other callers wait for it.
    let callers = Arc::new(Blockers::new());
    let handles: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (saw_done, callers) = (Arc::clone(&saw_done), Arc::clone(&callers));
            thread::spawn(move || {
                callers.about_to_block();
                INIT.call_once(|| {
                    callers.wait_blocked_all(CALLERS);
                    RUNS.fetch_add(1, SeqCst);
                    DONE.store(true, SeqCst);
                });
                if DONE.load(SeqCst) && INIT.is_completed() {
                    saw_done.fetch_add(1, SeqCst);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    check_eq!(RUNS.load(SeqCst), 1);
    check_eq!(saw_done.load(SeqCst), CALLERS);
    println!(
        "Once: an initialiser that others waited for ran {} time(s), {} of {} callers returned after it finished",
        RUNS.load(SeqCst),
        saw_done.load(SeqCst),
        CALLERS
    );
}

// ---- thread::scope ----

fn test_scope() {
    const CHUNK: usize = 8;
    let mut array = [0u64; 64];
    let factor = 3u64; // a borrowed stack local, read by every thread
    let visited = AtomicUsize::new(0);
    thread::scope(|s| {
        for (i, chunk) in array.chunks_mut(CHUNK).enumerate() {
            let (factor, visited) = (&factor, &visited);
            s.spawn(move || {
                for (j, slot) in chunk.iter_mut().enumerate() {
                    *slot = (i * CHUNK + j) as u64 * *factor;
                    if j % 4 == 0 {
                        nap_us(500);
                    }
                }
                visited.fetch_add(1, SeqCst);
            });
        }
    });
    let sum: u64 = array.iter().sum();
    let ordered = array
        .iter()
        .enumerate()
        .all(|(k, v)| *v == k as u64 * factor);
    check_eq!(sum, 63 * 64 / 2 * 3);
    check!(ordered);
    check_eq!(visited.load(SeqCst), 64 / CHUNK);
    println!(
        "thread::scope: {} threads filled a borrowed stack array, sum {}, every slot right: {}",
        visited.load(SeqCst),
        sum,
        yes_no(ordered)
    );
}

// ---- park / unpark ----

fn test_park() {
    const PARKERS: usize = 4;
    let go = Arc::new(AtomicBool::new(false));
    let woke = Arc::new(AtomicUsize::new(0));
    let parking = Arc::new(Blockers::new());
    let handles: Vec<_> = (0..PARKERS)
        .map(|_| {
            let (go, woke, parking) = (Arc::clone(&go), Arc::clone(&woke), Arc::clone(&parking));
            thread::spawn(move || {
                parking.about_to_block();
                while !go.load(SeqCst) {
                    thread::park();
                }
                woke.fetch_add(1, SeqCst);
            })
        })
        .collect();
    parking.wait_blocked_all(PARKERS);
    let before = woke.load(SeqCst);
    go.store(true, SeqCst);
    for h in &handles {
        h.thread().unpark();
    }
    for h in handles {
        h.join().unwrap();
    }
    check_eq!(before, 0);
    check_eq!(woke.load(SeqCst), PARKERS);
    println!(
        "park/unpark: {} woke before unpark, {} after",
        before,
        woke.load(SeqCst)
    );

    // An unpark before park leaves a token: park returns at once (nobody
    // else would ever unpark main: the watchdog turns a hang into a
    // failure).
    thread::current().unpark();
    thread::park();
    let token_fast = true;
    // park_timeout may wake early: loop until the deadline.
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_millis(30);
    let mut now = Instant::now();
    while now < deadline {
        thread::park_timeout(deadline - now);
        now = Instant::now();
    }
    let waited = t0.elapsed();
    check!(token_fast);
    check!(waited >= Duration::from_millis(30));
    println!(
        "park: a token from an earlier unpark returns at once: {}; park_timeout(30ms) returned after >= 30 ms: {}",
        yes_no(token_fast),
        yes_no(waited >= Duration::from_millis(30))
    );
}

// ---- thread_local! with Drop ----

static TL_DROPS: AtomicUsize = AtomicUsize::new(0);
static TL_CHECKSUM: AtomicU64 = AtomicU64::new(0);
static TL_WRONG: AtomicUsize = AtomicUsize::new(0);

fn checksum(s: &str) -> u64 {
    s.bytes()
        .enumerate()
        .map(|(i, b)| b as u64 * (i as u64 + 1))
        .sum()
}

fn tl_expected(id: usize) -> String {
    format!("thread_local value owned by thread {}", id)
}

struct Owner {
    id: usize,
    value: String,
}

impl Drop for Owner {
    fn drop(&mut self) {
        TL_DROPS.fetch_add(1, SeqCst);
        TL_CHECKSUM.fetch_add(checksum(&self.value), SeqCst);
        if self.value != tl_expected(self.id) {
            TL_WRONG.fetch_add(1, SeqCst);
        }
    }
}

thread_local! {
    static OWNER: RefCell<Option<Owner>> = RefCell::new(None);
    static TL_COUNTER: RefCell<usize> = RefCell::new(0);
}

fn test_thread_local() {
    const N: usize = 8;
    let kept = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..N)
        .map(|i| {
            let kept = Arc::clone(&kept);
            thread::spawn(move || {
                OWNER.with(|o| {
                    *o.borrow_mut() = Some(Owner {
                        id: i,
                        value: tl_expected(i),
                    })
                });
                for _ in 0..5 {
                    TL_COUNTER.with(|c| *c.borrow_mut() += i);
                    nap_ms(1);
                }
                let same = OWNER.with(|o| {
                    o.borrow()
                        .as_ref()
                        .map(|o| o.value == tl_expected(i))
                        .unwrap_or(false)
                });
                if same && TL_COUNTER.with(|c| *c.borrow()) == 5 * i {
                    kept.fetch_add(1, SeqCst);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let expected: u64 = (0..N).map(|i| checksum(&tl_expected(i))).sum();
    check_eq!(kept.load(SeqCst), N);
    check_eq!(TL_DROPS.load(SeqCst), N);
    check_eq!(TL_CHECKSUM.load(SeqCst), expected);
    check_eq!(TL_WRONG.load(SeqCst), 0);
    check!(OWNER.with(|o| o.borrow().is_none()));
    println!(
        "thread_local!: {} threads kept their values; {} drops, checksum {}, {} with another thread's value",
        kept.load(SeqCst),
        TL_DROPS.load(SeqCst),
        TL_CHECKSUM.load(SeqCst),
        TL_WRONG.load(SeqCst)
    );
}

// ---- thread::Builder ----

fn deep(n: u32, acc: u64) -> u64 {
    let mut pad = [0u8; 1024];
    pad[(n as usize) % 1024] = n as u8;
    if n == 0 {
        nap_ms(2);
        return acc + pad.iter().map(|b| *b as u64).sum::<u64>();
    }
    let r = deep(n - 1, acc + n as u64);
    r + pad[(n as usize) % 1024] as u64
}

fn test_builder() {
    const N: usize = 4;
    let handles: Vec<_> = (0..N)
        .map(|i| {
            thread::Builder::new()
                .name(format!("worker-{}", i))
                .stack_size(512 * 1024)
                .spawn(move || {
                    let name = thread::current().name().map(String::from);
                    nap_ms(2);
                    let again = thread::current().name().map(String::from);
                    let depth = deep(100, 0); // ~100 KiB of stack
                    (name, again, depth)
                })
                .expect("Builder::spawn")
        })
        .collect();
    let mut right = 0;
    let mut depths = 0;
    for (i, h) in handles.into_iter().enumerate() {
        let want = Some(format!("worker-{}", i));
        check_eq!(h.thread().name(), want.as_deref());
        let (name, again, depth) = h.join().unwrap();
        if name == want && again == want {
            right += 1;
        }
        depths += depth;
    }
    let unnamed = thread::spawn(|| thread::current().name().is_none())
        .join()
        .unwrap();
    let main_name = thread::current().name().map(String::from);
    check_eq!(right, N);
    check!(unnamed);
    check_eq!(main_name.as_deref(), Some("main"));
    check_eq!(depths, N as u64 * (5050 + 5050));
    println!(
        "thread::Builder: {} of {} named threads saw their names, stack_size 512 KiB, recursion sum {}; unnamed: None {}; main: {:?}",
        right,
        N,
        depths,
        yes_no(unnamed),
        main_name
    );
}

// ---- threads parked in ten kinds of wait at once ----

fn wait_for_file(path: &str) {
    for _ in 0..1500 {
        if std::path::Path::new(path).exists() {
            return;
        }
        nap_ms(10);
    }
    eprintln!("{}:{}: hold file {} never appeared", file!(), line!(), path);
    FAILURES.fetch_add(1, SeqCst);
}

fn test_parked(hold_file: Option<&str>) {
    const PER: usize = 3;
    const KINDS: usize = 10;
    const NAMES: [&str; KINDS] = [
        "Mutex",
        "Condvar",
        "RwLock",
        "recv",
        "sync_send",
        "Barrier",
        "park",
        "join",
        "sleep",
        "Once",
    ];
    let arrived = Arc::new(AtomicUsize::new(0));
    let blocking = Arc::new(Blockers::new());
    let returned: Arc<Vec<AtomicUsize>> =
        Arc::new((0..KINDS).map(|_| AtomicUsize::new(0)).collect());
    let mut handles: Vec<thread::JoinHandle<()>> = Vec::new();
    let spawn = |handles: &mut Vec<thread::JoinHandle<()>>,
                 kind: usize,
                 body: Arc<dyn Fn() + Send + Sync>| {
        for _ in 0..PER {
            let (arrived, returned, body) = (
                Arc::clone(&arrived),
                Arc::clone(&returned),
                Arc::clone(&body),
            );
            let blocking = Arc::clone(&blocking);
            handles.push(thread::spawn(move || {
                arrived.fetch_add(1, SeqCst);
                blocking.about_to_block();
                body();
                returned[kind].fetch_add(1, SeqCst);
            }));
        }
    };

    let held = Arc::new(Mutex::new(0));
    let held_guard = held.lock().unwrap();
    {
        let held = Arc::clone(&held);
        spawn(
            &mut handles,
            0,
            Arc::new(move || *held.lock().unwrap() += 1),
        );
    }

    let cv = Arc::new((Mutex::new(false), Condvar::new()));
    {
        let cv = Arc::clone(&cv);
        spawn(
            &mut handles,
            1,
            Arc::new(move || {
                let _g = cv.1.wait_while(cv.0.lock().unwrap(), |go| !*go).unwrap();
            }),
        );
    }

    let rw = Arc::new(RwLock::new(0));
    let read_guard = rw.read().unwrap();
    {
        let rw = Arc::clone(&rw);
        spawn(&mut handles, 2, Arc::new(move || *rw.write().unwrap() += 1));
    }

    let (tx, rx) = mpsc::channel::<()>();
    let rx = Arc::new(Mutex::new(rx));
    {
        // One receiver blocks in recv holding the Mutex, the others in lock.
        let rx = Arc::clone(&rx);
        spawn(
            &mut handles,
            3,
            Arc::new(move || rx.lock().unwrap().recv().unwrap()),
        );
    }

    let (stx, srx) = mpsc::sync_channel::<()>(0);
    let stx = Arc::new(Mutex::new(stx));
    {
        let stx = Arc::clone(&stx);
        spawn(
            &mut handles,
            4,
            Arc::new(move || {
                let tx = stx.lock().unwrap().clone();
                tx.send(()).unwrap();
            }),
        );
    }

    let barrier = Arc::new(Barrier::new(PER + 1));
    {
        let barrier = Arc::clone(&barrier);
        spawn(
            &mut handles,
            5,
            Arc::new(move || {
                barrier.wait();
            }),
        );
    }

    let unparked = Arc::new(AtomicBool::new(false));
    let parkers_start = handles.len();
    {
        let unparked = Arc::clone(&unparked);
        spawn(
            &mut handles,
            6,
            Arc::new(move || {
                while !unparked.load(SeqCst) {
                    thread::park();
                }
            }),
        );
    }
    let parkers: Vec<thread::Thread> = handles[parkers_start..]
        .iter()
        .map(|h| h.thread().clone())
        .collect();

    let jcv = Arc::new((Mutex::new(false), Condvar::new()));
    for _ in 0..PER {
        let (jcv2, blocking2) = (Arc::clone(&jcv), Arc::clone(&blocking));
        let joinee = thread::spawn(move || {
            let g = jcv2.0.lock().unwrap();
            blocking2.about_to_block();
            let _g = jcv2.1.wait_while(g, |go| !*go).unwrap();
        });
        let (arrived, returned, blocking) =
            (Arc::clone(&arrived), Arc::clone(&returned), Arc::clone(&blocking));
        handles.push(thread::spawn(move || {
            arrived.fetch_add(1, SeqCst);
            blocking.about_to_block();
            joinee.join().unwrap();
            returned[7].fetch_add(1, SeqCst);
        }));
    }

    let stop_sleeping = Arc::new(AtomicBool::new(false));
    {
        let stop_sleeping = Arc::clone(&stop_sleeping);
        spawn(
            &mut handles,
            8,
            Arc::new(move || {
                while !stop_sleeping.load(SeqCst) {
                    nap_ms(5);
                }
            }),
        );
    }

    // The first caller runs the initialiser, which waits on a channel; the
    // others wait in call_once for it to finish.
    static PARKED_ONCE: Once = Once::new();
    let (otx, orx) = mpsc::channel::<()>();
    let orx = Arc::new(Mutex::new(orx));
    let once_runs = Arc::new(AtomicUsize::new(0));
    {
        let (orx, once_runs) = (Arc::clone(&orx), Arc::clone(&once_runs));
        spawn(
            &mut handles,
            9,
            Arc::new(move || {
                PARKED_ONCE.call_once(|| {
                    once_runs.fetch_add(1, SeqCst);
                    orx.lock().unwrap().recv().unwrap();
                });
            }),
        );
    }

    // Every one of them (and the joinees) sleeps in its wait.
    blocking.wait_blocked_all(PER * KINDS + PER);
    let early: usize = returned.iter().map(|r| r.load(SeqCst)).sum();
    println!("parked {} on {} kinds", arrived.load(SeqCst), KINDS);
    println!("returned before release: {}", early);
    check_eq!(early, 0);
    if let Some(path) = hold_file {
        wait_for_file(path);
        extend_watchdog();
    }

    drop(held_guard);
    *cv.0.lock().unwrap() = true;
    cv.1.notify_all();
    drop(read_guard);
    for _ in 0..PER {
        tx.send(()).unwrap();
    }
    for _ in 0..PER {
        srx.recv().unwrap();
    }
    barrier.wait();
    unparked.store(true, SeqCst);
    for t in &parkers {
        t.unpark();
    }
    *jcv.0.lock().unwrap() = true;
    jcv.1.notify_all();
    stop_sleeping.store(true, SeqCst);
    otx.send(()).unwrap();
    for h in handles {
        h.join().unwrap();
    }

    let mut line = String::from("released:");
    for (k, name) in NAMES.iter().enumerate() {
        let n = returned[k].load(SeqCst);
        line += &format!(" {} {}", name, n);
        check_eq!(n, PER);
    }
    println!("{}", line);
    check_eq!(*held.lock().unwrap(), PER);
    check_eq!(*rw.read().unwrap(), PER);
    check_eq!(once_runs.load(SeqCst), 1);
}

fn main() {
    start_watchdog();
    let sections: [(&str, fn()); 13] = [
        ("arc_atomic", test_arc_atomic),
        ("mutex_condvar", test_mutex_condvar),
        ("rwlock", test_rwlock),
        ("channel", test_channel),
        ("sync_channel", test_sync_channel),
        ("tcp_echo", test_tcp_echo),
        ("barrier", test_barrier),
        ("once", test_once),
        ("scope", test_scope),
        ("park", test_park),
        ("thread_local", test_thread_local),
        ("builder", test_builder),
        ("parked", || {}),
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut hold_file: Option<String> = None;
    let mut chosen: Vec<String> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--hold" && i + 1 < args.len() {
            hold_file = Some(args[i + 1].clone());
            i += 2;
        } else {
            chosen.push(args[i].clone());
            i += 1;
        }
    }
    for c in &chosen {
        if !sections.iter().any(|(name, _)| name == c) {
            eprintln!(
                "usage: rust-threads [--hold FILE] [SECTION]...\nunknown section '{}'",
                c
            );
            std::process::exit(2);
        }
    }
    for (name, run) in sections.iter() {
        if !chosen.is_empty() && !chosen.iter().any(|c| c == name) {
            continue;
        }
        if *name == "parked" {
            test_parked(hold_file.as_deref());
        } else {
            run();
        }
    }
    let failures = FAILURES.load(SeqCst);
    if failures != 0 {
        eprintln!("{} check(s) failed", failures);
    }
    // Exit now: the detached watchdog thread is still sleeping.
    std::process::exit(if failures == 0 { 0 } else { 1 });
}
