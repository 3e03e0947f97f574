/* SPDX-License-Identifier: MIT */
/* poll-spin: a thread that polls in a loop without ever waiting must not
 * keep the other threads from running.
 *
 * For each call that can return without waiting (poll, ppoll, select and
 * pselect with a zero timeout, epoll_wait and epoll_pwait with a zero
 * timeout, waitpid with WNOHANG, nanosleep of 0, a read of an O_NONBLOCK
 * pipe and a recv with MSG_DONTWAIT that give EAGAIN, a trylock of a
 * mutex and of a rwlock main holds, sem_trywait of an empty semaphore),
 * one thread blocks in read on a pipe and sets a flag once its byte
 * comes; once it sleeps in its read (handshake.h), main writes that
 * byte, then a spinner thread calls the
 * non-waiting call in a loop until it sees the flag (at most 10 s, then
 * it reports a failure). Natively the kernel runs the reader beside the
 * spinner; a runtime that runs threads one at a time must let the reader
 * run too.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "handshake.h"

enum call { POLL, PPOLL, SELECT, PSELECT, EPOLL_WAIT, EPOLL_PWAIT, WAITPID,
            NANOSLEEP, READ_NONBLOCK, RECV_DONTWAIT, MUTEX_TRYLOCK,
            RWLOCK_TRYWRLOCK, SEM_TRYWAIT, NCALLS };
static const char *const names[NCALLS] = {
    "poll", "ppoll", "select", "pselect", "epoll_wait", "epoll_pwait",
    "waitpid WNOHANG", "nanosleep 0", "read O_NONBLOCK", "recv MSG_DONTWAIT",
    "pthread_mutex_trylock", "pthread_rwlock_trywrlock", "sem_trywait",
};

static int wake[2];                 /* main -> reader */
static int idle[2];                 /* never written: nothing is ready */
static int idle_nb[2];              /* the same, O_NONBLOCK */
static int idle_sock[2];            /* a socketpair, never written */
static int epfd;
static pid_t child;                 /* sleeps: waitpid WNOHANG gives 0 */
static int done;
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;    /* main's */
static pthread_rwlock_t held_rw = PTHREAD_RWLOCK_INITIALIZER; /* main's */
static sem_t empty;                 /* value 0 */
static struct handshake reading;    /* the reader is about to read */
static pid_t reader_tid;

static void *reader(void *arg)
{
    (void)arg;
    char c;
    STORE(&reader_tid, gettid());
    hs_post(&reading);
    CHECK_EQ(read(wake[0], &c, 1), 1);
    __atomic_store_n(&done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

/* One call that returns at once with nothing ready. */
static void spin_once(enum call call)
{
    struct pollfd p = { .fd = idle[0], .events = POLLIN };
    const struct timespec zero = { 0, 0 };
    struct timeval tv = { 0, 0 };
    struct epoll_event ev;
    fd_set set;
    FD_ZERO(&set);
    FD_SET(idle[0], &set);
    switch (call) {
    case POLL:
        CHECK_EQ(poll(&p, 1, 0), 0);
        break;
    case PPOLL:
        CHECK_EQ(ppoll(&p, 1, &zero, NULL), 0);
        break;
    case SELECT:
        CHECK_EQ(select(idle[0] + 1, &set, NULL, NULL, &tv), 0);
        break;
    case PSELECT:
        CHECK_EQ(pselect(idle[0] + 1, &set, NULL, NULL, &zero, NULL), 0);
        break;
    case EPOLL_WAIT:
        CHECK_EQ(epoll_wait(epfd, &ev, 1, 0), 0);
        break;
    case EPOLL_PWAIT:
        CHECK_EQ(epoll_pwait(epfd, &ev, 1, 0, NULL), 0);
        break;
    case WAITPID:
        CHECK_EQ(waitpid(child, NULL, WNOHANG), 0);
        break;
    case NANOSLEEP:
        CHECK_EQ(nanosleep(&zero, NULL), 0);
        break;
    case READ_NONBLOCK: {
        char c;
        CHECK_EQ(read(idle_nb[0], &c, 1), -1);
        CHECK_EQ(errno, EAGAIN);
        break;
    }
    case RECV_DONTWAIT: {
        char c;
        CHECK_EQ(recv(idle_sock[0], &c, 1, MSG_DONTWAIT), -1);
        CHECK_EQ(errno, EAGAIN);
        break;
    }
    case MUTEX_TRYLOCK:
        CHECK_EQ(pthread_mutex_trylock(&held), EBUSY);
        break;
    case RWLOCK_TRYWRLOCK:
        CHECK_EQ(pthread_rwlock_trywrlock(&held_rw), EBUSY);
        break;
    default:
        CHECK_EQ(sem_trywait(&empty), -1);
        CHECK_EQ(errno, EAGAIN);
        break;
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *spinner(void *arg)
{
    const enum call call = (enum call)(long)arg;
    const double give_up = now() + 10;
    while (!__atomic_load_n(&done, __ATOMIC_SEQ_CST)) {
        if (now() > give_up) {
            CHECK(!"the reader never ran while the spinner polled");
            return NULL;
        }
        spin_once(call);
    }
    printf("%s: the reader ran while another thread polled\n", names[call]);
    return NULL;
}

int main(void)
{
    hs_init(&reading);
    CHECK_OK(pipe(wake));
    CHECK_OK(pipe(idle));
    CHECK_OK(sem_init(&empty, 0, 0));
    CHECK_RC(pthread_mutex_lock(&held));
    CHECK_RC(pthread_rwlock_rdlock(&held_rw));
    CHECK_OK(pipe2(idle_nb, O_NONBLOCK));
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, idle_sock));
    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN };
    CHECK_OK(epoll_ctl(epfd, EPOLL_CTL_ADD, idle[0], &ev));
    child = fork();
    if (child == 0) {
        pause();                    /* until main kills it */
        _exit(0);
    }
    for (int call = 0; call < NCALLS; call++) {
        done = 0;
        pthread_t r, s;
        CHECK_RC(pthread_create(&r, NULL, reader, NULL));
        hs_wait(&reading);
        wait_blocked(LOAD(&reader_tid));    /* the reader blocks in read */
        CHECK_EQ(write(wake[1], "x", 1), 1);
        CHECK_RC(pthread_create(&s, NULL, spinner, (void *)(long)call));
        CHECK_RC(pthread_join(s, NULL));
        CHECK_RC(pthread_join(r, NULL));
    }
    CHECK_OK(kill(child, SIGKILL));
    CHECK_EQ(waitpid(child, NULL, 0), child);
    return check_exit_status();
}
