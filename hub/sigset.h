/* SPDX-License-Identifier: MIT */
/* Signal numbers and sets as the runtime and the wrappers handle them.
 * This header owns:
 *
 *  - the numbers: the kernel's signals are 1 to 64 (GREEN__NSIGS), and
 *    glibc keeps two of them for itself, SIGCANCEL (32: cancellation,
 *    and timer_create's SIGEV_THREAD) and SIGSETXID (33: setuid and the
 *    like, made process-wide; glibc's internal-signals.h). A program
 *    cannot install a handler for them, block them, wait for them or
 *    send them with pthread_kill: glibc answers EINVAL, or leaves them
 *    out of the set, and so does libgreen.
 *  - a set as one uint64_t, bit sig - 1: the first word of a sigset_t,
 *    which is all the kernel reads or writes of one (rt_sigprocmask's
 *    sigsetsize is 8), and the conversions between the two.
 *
 * For hub/ and wrappers/. What a green thread's mask and pending set
 * mean is hub/signal.c's; the signal calls a program makes are
 * wrappers/signal.c's.
 */
#ifndef GREEN_HUB_SIGSET_H
#define GREEN_HUB_SIGSET_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define GREEN__NSIGS 64             /* the highest signal number */
#define GREEN__SIGCANCEL 32         /* glibc's, never the program's */
#define GREEN__SIGSETXID 33

/* Signal `sig`'s bit in a set. */
#define GREEN__SIGBIT(sig) (UINT64_C(1) << ((sig) - 1))

/* The signals no thread can block and no sigwait can wait for: SIGKILL
 * and SIGSTOP (the kernel's rule) and glibc's two, which its
 * pthread_sigmask and sigtimedwait leave out of any set. */
#define GREEN__SIGS_UNBLOCKABLE                                     \
    (GREEN__SIGBIT(SIGKILL) | GREEN__SIGBIT(SIGSTOP)                \
     | GREEN__SIGBIT(GREEN__SIGCANCEL) | GREEN__SIGBIT(GREEN__SIGSETXID))

/* True for the signals glibc keeps for itself. */
static inline bool green__sig_reserved(int sig)
{
    return sig == GREEN__SIGCANCEL || sig == GREEN__SIGSETXID;
}

/* True for a signal a program may install a handler for or send to a
 * thread: 1 to 64, not glibc's own. */
static inline bool green__sig_usable(int sig)
{
    return sig >= 1 && sig <= GREEN__NSIGS && !green__sig_reserved(sig);
}

/* The kernel's word of `s`. */
static inline uint64_t green__sigset_word(const sigset_t *s)
{
    uint64_t w;
    memcpy(&w, s, sizeof w);
    return w;
}

/* Make *s the set `w` (the rest of glibc's larger sigset_t empty). */
static inline void green__sigset_make(sigset_t *s, uint64_t w)
{
    sigemptyset(s);
    memcpy(s, &w, sizeof w);
}

#endif
