/* SPDX-License-Identifier: MIT */
/* Small checking helpers shared by the test programs in tests/progs/.
 *
 * The programs are ordinary pthread programs that know nothing of libgreen;
 * this header only gives them uniform failure reports and transcript lines.
 * A failed check prints `file:line: what failed: strerror(errno)` on stderr
 * and is counted; check_exit_status() turns the count into the exit status.
 * Transcript lines (stdout) name errno values symbolically (EAGAIN, not 11
 * and not strerror text) so that native and preloaded runs compare equal.
 */
#ifndef TESTS_PROGS_CHECK_H
#define TESTS_PROGS_CHECK_H

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Number of failed checks so far; updated atomically because checks run in
 * several threads at once when a program runs natively. */
static int check_failures;

static inline void check_fail(const char *file, int line, int err,
                              const char *fmt, ...)
    __attribute__((format(printf, 4, 5), unused));

static inline void check_fail(const char *file, int line, int err,
                              const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s:%d: %s: %s\n", file, line, msg, strerror(err));
    fflush(stderr);
    __atomic_fetch_add(&check_failures, 1, __ATOMIC_SEQ_CST);
}

/* The symbolic name of an errno value, or "E?<n>" for one not listed. */
static inline const char *errno_name(int e) __attribute__((unused));
static inline const char *errno_name(int e)
{
    static const struct { int e; const char *name; } names[] = {
        { 0, "OK" },
        { EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { EINTR, "EINTR" },
        { EIO, "EIO" }, { EBADF, "EBADF" }, { ECHILD, "ECHILD" },
        { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" }, { EACCES, "EACCES" },
        { EFAULT, "EFAULT" }, { EBUSY, "EBUSY" }, { EEXIST, "EEXIST" },
        { ENOTDIR, "ENOTDIR" }, { EISDIR, "EISDIR" }, { EINVAL, "EINVAL" },
        { ENFILE, "ENFILE" }, { EMFILE, "EMFILE" }, { ENOSPC, "ENOSPC" },
        { ESPIPE, "ESPIPE" }, { EPIPE, "EPIPE" }, { ERANGE, "ERANGE" },
        { EDEADLK, "EDEADLK" }, { ENOSYS, "ENOSYS" },
        { ENOTSOCK, "ENOTSOCK" }, { EDESTADDRREQ, "EDESTADDRREQ" },
        { EMSGSIZE, "EMSGSIZE" }, { EPROTOTYPE, "EPROTOTYPE" },
        { ENOPROTOOPT, "ENOPROTOOPT" }, { EOPNOTSUPP, "EOPNOTSUPP" },
        { EAFNOSUPPORT, "EAFNOSUPPORT" }, { EADDRINUSE, "EADDRINUSE" },
        { EADDRNOTAVAIL, "EADDRNOTAVAIL" }, { ENETUNREACH, "ENETUNREACH" },
        { ECONNABORTED, "ECONNABORTED" }, { ECONNRESET, "ECONNRESET" },
        { ENOBUFS, "ENOBUFS" }, { EISCONN, "EISCONN" },
        { ENOTCONN, "ENOTCONN" }, { ETIMEDOUT, "ETIMEDOUT" },
        { ECONNREFUSED, "ECONNREFUSED" }, { EALREADY, "EALREADY" },
        { EINPROGRESS, "EINPROGRESS" }, { ESRCH, "ESRCH" },
        { EOVERFLOW, "EOVERFLOW" }, { ENOTEMPTY, "ENOTEMPTY" },
    };
    static __thread char other[16];

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (names[i].e == e) {
            return names[i].name;
        }
    }
    snprintf(other, sizeof other, "E?%d", e);
    return other;
}

/* An address no program may read or write, for EFAULT checks; volatile so
 * that the compiler cannot see through it and warn. */
static void *volatile bad_address __attribute__((unused)) = (void *)1;

/* CHECK(cond): count and report a failure when cond is false.  Like the
 * other CHECK macros it leaves errno as the checked expression left it. */
#define CHECK(cond)                                                        \
    do {                                                                   \
        const int check_ok_ = !!(cond);                                    \
        const int check_errno_ = errno;                                    \
        if (!check_ok_) {                                                  \
            check_fail(__FILE__, __LINE__, check_errno_, "CHECK(%s)",      \
                       #cond);                                             \
            errno = check_errno_;                                          \
        }                                                                  \
    } while (0)

/* CHECK_EQ(a, b): both sides as long long, both values printed. */
#define CHECK_EQ(a, b)                                                     \
    do {                                                                   \
        const long long check_a_ = (long long)(a);                         \
        const long long check_b_ = (long long)(b);                         \
        const int check_errno_ = errno;                                    \
        if (check_a_ != check_b_) {                                        \
            check_fail(__FILE__, __LINE__, check_errno_,                   \
                       "CHECK_EQ(%s, %s): %lld != %lld", #a, #b,           \
                       check_a_, check_b_);                                \
            errno = check_errno_;                                          \
        }                                                                  \
    } while (0)

/* CHECK_OK(call): a libc call returning -1/errno must not fail. */
#define CHECK_OK(call)                                                     \
    do {                                                                   \
        errno = 0;                                                         \
        long check_r_ = (long)(call);                                      \
        if (check_r_ == -1) {                                              \
            check_fail(__FILE__, __LINE__, errno, "%s failed (errno %s)",  \
                       #call, errno_name(errno));                          \
        }                                                                  \
    } while (0)

/* CHECK_RC(call): a pthread-style call returning 0 or an error number. */
#define CHECK_RC(call)                                                     \
    do {                                                                   \
        int check_rc_ = (call);                                            \
        if (check_rc_ != 0) {                                              \
            check_fail(__FILE__, __LINE__, check_rc_,                      \
                       "%s returned %s", #call, errno_name(check_rc_));    \
        }                                                                  \
    } while (0)

/* CHECK_ERRNO(call, expected): the call must return -1 with errno set to
 * `expected`; both the expected and the actual result are printed. */
#define CHECK_ERRNO(call, expected)                                        \
    do {                                                                   \
        errno = 0;                                                         \
        long check_r_ = (long)(call);                                      \
        int check_e_ = errno;                                              \
        if (check_r_ != -1 || check_e_ != (expected)) {                    \
            check_fail(__FILE__, __LINE__, check_e_,                       \
                       "%s: expected -1 %s, got %ld %s", #call,            \
                       errno_name(expected), check_r_,                     \
                       errno_name(check_r_ == -1 ? check_e_ : 0));         \
        }                                                                  \
        errno = check_e_;                                                  \
    } while (0)

/* Print one transcript line for a call returning -1/errno, e.g.
 * "read closed fd: -1 EBADF", and return the result for further checks. */
#define REPORT(label, call)                                                \
    ({                                                                     \
        errno = 0;                                                         \
        long report_r_ = (long)(call);                                     \
        int report_e_ = errno;                                             \
        printf("%s: %ld %s\n", (label), report_r_,                         \
               errno_name(report_r_ == -1 ? report_e_ : 0));               \
        fflush(stdout);                                                    \
        errno = report_e_;                                                 \
        report_r_;                                                         \
    })

/* REPORT_RC for calls that return an error number (pthread_*,
 * clock_nanosleep): prints "label: NAME". */
#define REPORT_RC(label, call)                                             \
    ({                                                                     \
        int report_rc_ = (call);                                           \
        printf("%s: %s\n", (label), errno_name(report_rc_));               \
        fflush(stdout);                                                    \
        report_rc_;                                                        \
    })

/* REPORT_ERRNO: like REPORT, and also a failed check unless the call
 * returned -1 with `expected` (0 meaning: it must succeed). */
#define REPORT_ERRNO(label, call, expected)                                \
    ({                                                                     \
        long rep_r_ = REPORT(label, call);                                 \
        int rep_e_ = errno;                                                \
        if ((expected) == 0 ? rep_r_ == -1                                 \
                            : (rep_r_ != -1 || rep_e_ != (expected))) {    \
            check_fail(__FILE__, __LINE__, rep_e_,                         \
                       "%s: expected %s, got %ld %s", (label),             \
                       errno_name(expected), rep_r_,                       \
                       errno_name(rep_r_ == -1 ? rep_e_ : 0));             \
        }                                                                  \
        errno = rep_e_;                                                    \
        rep_r_;                                                            \
    })

/* The exit status of a program: 0 only when every check passed. */
static inline int check_exit_status(void) __attribute__((unused));
static inline int check_exit_status(void)
{
    int n = __atomic_load_n(&check_failures, __ATOMIC_SEQ_CST);

    if (n != 0) {
        fprintf(stderr, "%d check(s) failed\n", n);
    }
    return n == 0 ? 0 : 1;
}

/* One part of a program that a test can run alone, by name. */
struct section {
    const char *name;
    void (*run)(void);
};

/* Run the section argv[1] names, or every section in table order when there
 * is no argv[1]; later arguments are left to the caller.  When no section
 * has that name, print "PROG: no section NAME" on stderr and return 2.
 * Otherwise call `after` unless it is NULL, then return check_exit_status():
 * `after` ends what must outlive the sections and still have its checks
 * counted, such as companion_stop(). */
static inline int run_sections(int argc, char **argv,
                               const struct section *sections, size_t n,
                               void (*after)(void)) __attribute__((unused));
static inline int run_sections(int argc, char **argv,
                               const struct section *sections, size_t n,
                               void (*after)(void))
{
    size_t ran = 0;

    for (size_t i = 0; i < n; i++) {
        if (argc < 2 || strcmp(argv[1], sections[i].name) == 0) {
            sections[i].run();
            ran++;
        }
    }
    if (ran == 0) {
        fprintf(stderr, "%s: no section %s\n", argv[0], argv[1]);
        return 2;
    }
    if (after != NULL) {
        after();
    }
    return check_exit_status();
}

/* run_sections() over the whole array `sections`. */
#define RUN_SECTIONS(argc, argv, sections, after)                          \
    run_sections((argc), (argv), (sections),                               \
                 sizeof(sections) / sizeof((sections)[0]), (after))

/* Sequentially consistent loads and stores of counters that threads share. */
#define LOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define ADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)

/* Now on `clock`, in nanoseconds. */
static inline long long now_ns(clockid_t clock) __attribute__((unused));
static inline long long now_ns(clockid_t clock)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Check that at least `ms` milliseconds passed since `start` (now_ns on
 * CLOCK_MONOTONIC): a bound with slack, never an exact duration. */
#define CHECK_WAITED(start, ms)                                            \
    CHECK(now_ns(CLOCK_MONOTONIC) - (start) >= (ms) * 1000000LL)

/* Wait (polling every 10 ms) until `path` exists, at most `seconds`: how
 * a test holds a program while it inspects it. */
static inline void wait_for_file(const char *path, int seconds)
    __attribute__((unused));
static inline void wait_for_file(const char *path, int seconds)
{
    for (int i = 0; i < seconds * 100; i++) {
        if (access(path, F_OK) == 0) {
            return;
        }
        usleep(10000);
    }
    errno = ETIMEDOUT;
    CHECK(!"hold file never appeared");
}

/* Print "label: NAME" for a pthread-style result and count a failed check
 * unless it is `expected`. */
#define EXPECT_RC(expected, call, ...)                                     \
    expect_rc(__LINE__, (call), (expected), __VA_ARGS__)

static inline int expect_rc(int line, int rc, int expected, const char *fmt,
                            ...) __attribute__((format(printf, 4, 5), unused));
static inline int expect_rc(int line, int rc, int expected, const char *fmt,
                            ...)
{
    char label[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(label, sizeof label, fmt, ap);
    va_end(ap);
    printf("%s: %s\n", label, errno_name(rc));
    fflush(stdout);
    if (rc != expected) {
        check_fail(__FILE__, line, rc, "%s: expected %s, got %s", label,
                   errno_name(expected), errno_name(rc));
    }
    return rc;
}

/* A companion thread parked in read() on a private pipe while a program
 * runs its checks.  Calls made while a program has a single thread may be
 * served differently from calls made while other threads exist, so the
 * wrapper tests keep this second thread alive to exercise the threaded
 * path. */
static pthread_t companion_thread;
static int companion_pipe[2] = { -1, -1 };

static __attribute__((unused)) void *companion_main(void *arg)
{
    char byte;
    ssize_t r;

    (void)arg;
    do {
        r = read(companion_pipe[0], &byte, 1);
    } while (r == -1 && errno == EINTR);
    CHECK_EQ(r, 1);
    return NULL;
}

static inline void companion_start(void) __attribute__((unused));
static inline void companion_start(void)
{
    CHECK_OK(pipe(companion_pipe));
    CHECK_RC(pthread_create(&companion_thread, NULL, companion_main, NULL));
}

static inline void companion_stop(void) __attribute__((unused));
static inline void companion_stop(void)
{
    CHECK_EQ(write(companion_pipe[1], "x", 1), 1);
    CHECK_RC(pthread_join(companion_thread, NULL));
    close(companion_pipe[0]);
    close(companion_pipe[1]);
}

#endif
