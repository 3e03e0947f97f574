/* SPDX-License-Identifier: MIT */
/* signal-own: a signal a thread sends to itself is that thread's.
 *
 * A thread that blocks SIGUSR1 and sends it to itself (raise,
 * pthread_kill(pthread_self()), tgkill to its own tid) finds it pending
 * in its own sigpending, not in another thread's, and its handler has not
 * run; when it unblocks the signal, the handler runs in that thread
 * before pthread_sigmask returns (sections `thread`: a thread other than
 * main, `main`: main while another thread exists).  Section `new-thread`:
 * a signal main raised while blocking it before any pthread_create stays
 * main's: a new thread starts with an empty pending set and its creator's
 * mask.  Section `ignored`: a signal sent to itself while blocked and
 * ignored is pending too (the action may change before it is unblocked),
 * and a handler installed meanwhile runs on unblock; setting SIG_IGN
 * discards a pending signal.
 *
 * No step depends on timing: threads meet through handshakes
 * (handshake.h) and joins.  Transcript lines name threads by role.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"
#include "handshake.h"

static volatile sig_atomic_t handled;
static pthread_t handler_thread;

static void on_signal(int sig)
{
    (void)sig;
    handled++;
    handler_thread = pthread_self();
}

static void install(int sig)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    CHECK_OK(sigaction(sig, &sa, NULL));
}

static void set_mask(int how, int sig)
{
    sigset_t s;

    sigemptyset(&s);
    sigaddset(&s, sig);
    CHECK_RC(pthread_sigmask(how, &s, NULL));
}

static int is_pending(int sig)
{
    sigset_t s;

    sigemptyset(&s);
    CHECK_OK(sigpending(&s));
    return sigismember(&s, sig);
}

/* Send `sig` to the calling thread the way `how` names. */
static void send_self(const char *how, int sig)
{
    char label[64];

    snprintf(label, sizeof label, "%s", how);
    if (strcmp(how, "raise") == 0) {
        REPORT_ERRNO(label, raise(sig), 0);
    } else if (strcmp(how, "gsignal") == 0) {
        REPORT_ERRNO(label, gsignal(sig), 0);
    } else if (strcmp(how, "pthread_kill") == 0) {
        REPORT_RC(label, pthread_kill(pthread_self(), sig));
    } else {
        REPORT_ERRNO(label, syscall(SYS_tgkill, getpid(), gettid(), sig), 0);
    }
}

static const char *const hows[] = { "raise", "gsignal", "pthread_kill",
                                    "tgkill" };

/* One round in the calling thread: block, send to itself, look, let
 * `other` (if any) look at its own pending set, unblock. */
static void one_round(const char *how, struct handshake *sent,
                      struct handshake *looked)
{
    const int before = handled;

    set_mask(SIG_BLOCK, SIGUSR1);
    send_self(how, SIGUSR1);
    printf("  pending here: %d, handler ran: %d\n", is_pending(SIGUSR1),
           handled - before);
    if (sent != NULL) {
        hs_post(sent);
        hs_wait(looked);
    }
    set_mask(SIG_UNBLOCK, SIGUSR1);
    printf("  after unblock: handler ran %d, in this thread: %d,"
           " pending: %d\n", handled - before,
           handled != before && pthread_equal(handler_thread, pthread_self()),
           is_pending(SIGUSR1));
    fflush(stdout);
}

static struct handshake sent, looked;

static void *sender(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < sizeof hows / sizeof hows[0]; i++) {
        one_round(hows[i], &sent, &looked);
    }
    return NULL;
}

/* A thread other than main sends to itself; main, blocking SIGUSR1 too,
 * does not see it pending. */
static void section_thread(void)
{
    pthread_t t;

    install(SIGUSR1);
    set_mask(SIG_BLOCK, SIGUSR1);   /* the thread inherits it, main keeps it */
    hs_init(&sent);
    hs_init(&looked);
    CHECK_RC(pthread_create(&t, NULL, sender, NULL));
    for (size_t i = 0; i < sizeof hows / sizeof hows[0]; i++) {
        hs_wait(&sent);
        printf("  pending in main: %d\n", is_pending(SIGUSR1));
        fflush(stdout);
        hs_post(&looked);
    }
    CHECK_RC(pthread_join(t, NULL));
    printf("main: handler ran %d times in all\n", (int)handled);
    hs_destroy(&sent);
    hs_destroy(&looked);
}

/* Main sends to itself while another thread exists. */
static void section_main(void)
{
    struct partner p;

    install(SIGUSR1);
    partner_start(&p);
    partner_rounds(&p, 1);
    for (size_t i = 0; i < sizeof hows / sizeof hows[0]; i++) {
        one_round(hows[i], NULL, NULL);
    }
    partner_stop(&p);
    printf("main: handler ran %d times in all\n", (int)handled);
}

static sigset_t creator_mask;

static void *newborn(void *arg)
{
    sigset_t m;
    int same = 1;

    (void)arg;
    CHECK_RC(pthread_sigmask(SIG_BLOCK, NULL, &m));
    for (int sig = 1; sig < NSIG; sig++) {
        if (sigismember(&m, sig) != sigismember(&creator_mask, sig)) {
            same = 0;
        }
    }
    printf("new thread: pending SIGUSR2: %d, blocks SIGUSR2: %d,"
           " mask is the creator's: %d, handler ran: %d\n",
           is_pending(SIGUSR2), sigismember(&m, SIGUSR2), same,
           (int)handled);
    fflush(stdout);
    return NULL;
}

/* Main raises a blocked signal before creating any thread. */
static void section_new_thread(void)
{
    pthread_t t;

    install(SIGUSR2);
    set_mask(SIG_BLOCK, SIGUSR2);
    set_mask(SIG_BLOCK, SIGPROF);
    REPORT_ERRNO("main raise SIGUSR2", raise(SIGUSR2), 0);
    printf("main: pending SIGUSR2: %d\n", is_pending(SIGUSR2));
    CHECK_RC(pthread_sigmask(SIG_BLOCK, NULL, &creator_mask));
    CHECK_RC(pthread_create(&t, NULL, newborn, NULL));
    CHECK_RC(pthread_join(t, NULL));
    printf("main: pending SIGUSR2 after the thread: %d, handler ran: %d\n",
           is_pending(SIGUSR2), (int)handled);
    set_mask(SIG_UNBLOCK, SIGUSR2);
    printf("main: after unblock: handler ran %d, in main: %d\n",
           (int)handled, handled == 1
           && pthread_equal(handler_thread, pthread_self()));
}

/* Sent to itself while blocked and ignored, a signal is still pending
 * (the action may change before it is unblocked, signal(7)); a handler
 * installed meanwhile runs on unblock; setting SIG_IGN discards it. */
static void *ignorer(void *arg)
{
    (void)arg;
    CHECK(signal(SIGUSR2, SIG_IGN) != SIG_ERR);
    set_mask(SIG_BLOCK, SIGUSR2);
    REPORT_ERRNO("raise ignored SIGUSR2", raise(SIGUSR2), 0);
    printf("  pending: %d\n", is_pending(SIGUSR2));
    install(SIGUSR2);
    set_mask(SIG_UNBLOCK, SIGUSR2);
    printf("  after a handler and unblock: handler ran %d, in this thread:"
           " %d\n", (int)handled,
           handled == 1 && pthread_equal(handler_thread, pthread_self()));
    set_mask(SIG_BLOCK, SIGUSR2);
    REPORT_ERRNO("raise handled SIGUSR2", raise(SIGUSR2), 0);
    printf("  pending: %d\n", is_pending(SIGUSR2));
    CHECK(signal(SIGUSR2, SIG_IGN) != SIG_ERR);
    printf("  after SIG_IGN: pending %d\n", is_pending(SIGUSR2));
    set_mask(SIG_UNBLOCK, SIGUSR2);
    printf("  after unblock: handler ran %d\n", (int)handled);
    return NULL;
}

static void section_ignored(void)
{
    pthread_t t;

    CHECK_RC(pthread_create(&t, NULL, ignorer, NULL));
    CHECK_RC(pthread_join(t, NULL));
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && strcmp(argv[1], "thread") == 0) {
        section_thread();
    } else if (argc == 2 && strcmp(argv[1], "main") == 0) {
        section_main();
    } else if (argc == 2 && strcmp(argv[1], "new-thread") == 0) {
        section_new_thread();
    } else if (argc == 2 && strcmp(argv[1], "ignored") == 0) {
        section_ignored();
    } else {
        fprintf(stderr, "usage: %s thread|main|new-thread|ignored\n", argv[0]);
        return 2;
    }
    return check_exit_status();
}
