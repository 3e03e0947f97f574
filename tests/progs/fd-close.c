/* SPDX-License-Identifier: MIT */
/* fd-close [CASE...]: close an fd, or replace it, while another thread is
 * blocked on it, and print what every call returned.
 *
 * Linux does not wake a thread blocked in read, recv, accept, poll or
 * select when another thread closes the fd or dup2s over it: the blocked
 * call keeps the open file description and goes on with it. So each case
 * ends the wait deterministically the way a native program can: by writing
 * to the other end of the original description (the waiter then returns
 * that data; poll and select, which look the numbers up again, report the
 * closed fd), by connecting to the listener that is still listening, or
 * by shutdown(2), which does wake the waiter. fd numbers are never
 * printed, only how they relate. Nothing depends on timing: a waiter says
 * it is about to call and the test waits until it sleeps in the call
 * (handshake.h); that a close does not end a wait is checked once other
 * threads ran (round trips with a partner thread), and in the end by what
 * the call returns. Cases: read recv accept poll select
 * pollmany shutdown dup2 closerange closefrom fclose reuse pollreuse, or
 * all of them without arguments; "stdin" (not in the default list) closes
 * fd 0 under a thread reading it and prints the line that thread reads.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/socket.h>

#include "check.h"
#include "handshake.h"

enum op { OP_READ, OP_RECV, OP_ACCEPT, OP_POLL, OP_SELECT };

struct waiter {
    pthread_t th;
    enum op op;
    int fd;
    int done;                   /* set when the call has returned */
    long r;
    int err;
    char buf[16];
    short revents;
    int isset;
    pid_t tid;                  /* the waiter's gettid() */
};

/* Answers round trips: other threads get to run.  Made, as `ready` is,
 * before any case's fds, whose numbers the cases rely on (closefrom,
 * reuse). */
static struct partner partner;
static struct handshake ready;  /* a waiter is about to make its call */

static void *wait_main(void *arg)
{
    struct waiter *w = arg;
    struct pollfd p = { .fd = w->fd, .events = POLLIN };
    fd_set set;

    w->tid = gettid();
    if (w->op == OP_SELECT) {
        FD_ZERO(&set);
        FD_SET(w->fd, &set);
    }
    hs_post(&ready);
    errno = 0;
    switch (w->op) {
    case OP_READ:
        w->r = read(w->fd, w->buf, sizeof w->buf - 1);
        break;
    case OP_RECV:
        w->r = recv(w->fd, w->buf, sizeof w->buf - 1, 0);
        break;
    case OP_ACCEPT:
        w->r = accept(w->fd, NULL, NULL);
        break;
    case OP_POLL:
        w->r = poll(&p, 1, -1);
        w->revents = p.revents;
        break;
    case OP_SELECT:
        w->r = select(w->fd + 1, &set, NULL, NULL, NULL);
        w->isset = FD_ISSET(w->fd, &set) != 0;
        break;
    }
    w->err = errno;
    if (w->op != OP_ACCEPT && w->op != OP_POLL && w->op != OP_SELECT
        && w->r > 0) {
        w->buf[w->r] = '\0';
    }
    STORE(&w->done, 1);
    return NULL;
}

/* Start a thread blocked in `op` on `fd`; returns once it sleeps in its
 * call, or the call returned. */
static void start(struct waiter *w, enum op op, int fd)
{
    memset(w, 0, sizeof *w);
    w->op = op;
    w->fd = fd;
    CHECK_RC(pthread_create(&w->th, NULL, wait_main, w));
    hs_wait(&ready);
    wait_blocked_unless(w->tid, &w->done);
    printf("  waiter blocked: %s\n", LOAD(&w->done) ? "no" : "yes");
}

/* Once other threads ran, the waiter still waits. */
static void still_waiting(struct waiter *w, const char *after)
{
    partner_rounds(&partner, 3);
    printf("  after %s, waiter still waiting: %s\n", after,
           LOAD(&w->done) ? "no" : "yes");
}

static void finish(struct waiter *w, const char *what)
{
    CHECK_RC(pthread_join(w->th, NULL));
    printf("  %s returned: %ld %s", what, w->r == -1 ? -1L
           : w->op == OP_ACCEPT ? (w->r >= 0 ? 0L : w->r) : w->r,
           errno_name(w->r == -1 ? w->err : 0));
    if ((w->op == OP_READ || w->op == OP_RECV) && w->r > 0) {
        printf(" \"%s\"", w->buf);
    }
    if (w->op == OP_POLL) {
        printf(" revents%s%s%s", w->revents & POLLIN ? " POLLIN" : "",
               w->revents & POLLHUP ? " POLLHUP" : "",
               w->revents & POLLNVAL ? " POLLNVAL" : "");
    }
    if (w->op == OP_SELECT) {
        printf(" fd in set: %s", w->isset ? "yes" : "no");
    }
    printf("\n");
    if (w->op == OP_ACCEPT && w->r >= 0) {
        close((int)w->r);
    }
}

static void number_free(int fd)
{
    REPORT("  fcntl(closed fd, F_GETFD)", fcntl(fd, F_GETFD));
}

static void case_read(void)
{
    struct waiter w;
    int p[2];

    printf("read: close a pipe's read end under a blocked read\n");
    CHECK_OK(pipe(p));
    start(&w, OP_READ, p[0]);
    REPORT("  close", close(p[0]));
    number_free(p[0]);
    still_waiting(&w, "close");
    REPORT("  write to the old pipe", write(p[1], "old", 3));
    finish(&w, "read");
    REPORT("  write once the reader is gone", write(p[1], "x", 1));
    close(p[1]);
}

static void case_recv(void)
{
    struct waiter w;
    int sv[2];

    printf("recv: close a socket under a blocked recv\n");
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    start(&w, OP_RECV, sv[0]);
    REPORT("  close", close(sv[0]));
    number_free(sv[0]);
    still_waiting(&w, "close");
    REPORT("  send from the peer", send(sv[1], "peer", 4, 0));
    finish(&w, "recv");
    /* The last reference went with the call: the peer sees the close. */
    char c;
    REPORT("  peer recv once the receiver is gone", recv(sv[1], &c, 1, 0));
    REPORT("  peer send once the receiver is gone", send(sv[1], "x", 1, 0));
    close(sv[1]);
}

static int listener(struct sockaddr_in *addr)
{
    const int l = socket(AF_INET, SOCK_STREAM, 0);
    socklen_t len = sizeof *addr;

    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_OK(bind(l, (struct sockaddr *)addr, sizeof *addr));
    CHECK_OK(listen(l, 4));
    CHECK_OK(getsockname(l, (struct sockaddr *)addr, &len));
    return l;
}

static void case_accept(void)
{
    struct waiter w;
    struct sockaddr_in addr;

    printf("accept: close a listener under a blocked accept\n");
    const int l = listener(&addr);
    start(&w, OP_ACCEPT, l);
    REPORT("  close", close(l));
    number_free(l);
    still_waiting(&w, "close");
    int c = socket(AF_INET, SOCK_STREAM, 0);
    REPORT("  connect to the old listener",
           connect(c, (struct sockaddr *)&addr, sizeof addr));
    finish(&w, "accept");
    close(c);
    c = socket(AF_INET, SOCK_STREAM, 0);
    REPORT("  connect once the acceptor is gone",
           connect(c, (struct sockaddr *)&addr, sizeof addr));
    close(c);
}

static void case_poll(enum op op)
{
    struct waiter w;
    int p[2];

    printf("%s: close a pipe under a blocked %s\n",
           op == OP_POLL ? "poll" : "select", op == OP_POLL ? "poll"
                                                            : "select");
    CHECK_OK(pipe(p));
    start(&w, op, p[0]);
    REPORT("  close", close(p[0]));
    still_waiting(&w, "close");
    REPORT("  write to the old pipe", write(p[1], "old", 3));
    finish(&w, op == OP_POLL ? "poll" : "select");
    close(p[1]);
}

static int pollmany_fds[2];
static struct pollfd pollmany_set[2];
static int pollmany_r, pollmany_done;
static pid_t pollmany_tid;

static void *pollmany_main(void *arg)
{
    (void)arg;
    pollmany_tid = gettid();
    hs_post(&ready);
    pollmany_r = poll(pollmany_set, 2, -1);
    STORE(&pollmany_done, 1);
    return NULL;
}

static void case_pollmany(void)
{
    int a[2], b[2];
    pthread_t th;

    printf("pollmany: close one of two polled pipes, then the other is "
           "written\n");
    CHECK_OK(pipe(a));
    CHECK_OK(pipe(b));
    pollmany_fds[0] = a[0];
    pollmany_fds[1] = b[0];
    pollmany_set[0] = (struct pollfd){ .fd = a[0], .events = POLLIN };
    pollmany_set[1] = (struct pollfd){ .fd = b[0], .events = POLLIN };
    CHECK_RC(pthread_create(&th, NULL, pollmany_main, NULL));
    hs_wait(&ready);
    wait_blocked(pollmany_tid);
    REPORT("  close the first", close(a[0]));
    partner_rounds(&partner, 3);
    printf("  after close, poll still waiting: %s\n",
           LOAD(&pollmany_done) ? "no" : "yes");
    REPORT("  write to the second", write(b[1], "b", 1));
    CHECK_RC(pthread_join(th, NULL));
    printf("  poll returned %d: first%s%s, second%s%s\n", pollmany_r,
           pollmany_set[0].revents & POLLNVAL ? " POLLNVAL" : "",
           pollmany_set[0].revents & POLLIN ? " POLLIN" : "",
           pollmany_set[1].revents & POLLNVAL ? " POLLNVAL" : "",
           pollmany_set[1].revents & POLLIN ? " POLLIN" : "");
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

static void case_shutdown(void)
{
    struct waiter w;
    int sv[2];

    printf("shutdown: shutdown of a socket wakes a blocked recv\n");
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    start(&w, OP_RECV, sv[0]);
    REPORT("  shutdown SHUT_RD", shutdown(sv[0], SHUT_RD));
    finish(&w, "recv");
    start(&w, OP_RECV, sv[0]);
    CHECK_RC(pthread_join(w.th, NULL));
    REPORT("  recv after SHUT_RD", w.r);
    close(sv[0]);
    close(sv[1]);

    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    start(&w, OP_RECV, sv[0]);
    REPORT("  shutdown SHUT_RDWR", shutdown(sv[0], SHUT_RDWR));
    finish(&w, "recv");
    close(sv[0]);
    close(sv[1]);
}

static void case_dup2(void)
{
    struct waiter w;
    int a[2], b[2];
    char buf[8] = "";

    printf("dup2: dup2 another pipe over a fd a thread reads\n");
    CHECK_OK(pipe(a));
    CHECK_OK(pipe(b));
    start(&w, OP_READ, a[0]);
    printf("  dup2 gives the same number: %s\n",
           dup2(b[0], a[0]) == a[0] ? "yes" : "no");
    REPORT("  write to the new pipe", write(b[1], "new", 3));
    still_waiting(&w, "writing to the new pipe");
    REPORT("  write to the old pipe", write(a[1], "old", 3));
    finish(&w, "read");
    REPORT("  read the number again", read(a[0], buf, sizeof buf - 1));
    printf("  it read \"%s\"\n", buf);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

static void case_closerange(void)
{
    struct waiter w;
    int p[2];

    printf("closerange: close_range over a fd a thread reads\n");
    CHECK_OK(pipe(p));
    start(&w, OP_READ, p[0]);
    REPORT("  close_range", close_range(p[0], p[0], 0));
    number_free(p[0]);
    still_waiting(&w, "close_range");
    REPORT("  write to the old pipe", write(p[1], "old", 3));
    finish(&w, "read");
    close(p[1]);
}

static void case_closefrom(void)
{
    struct waiter w;
    int p[2], q[2];

    /* Threads exist before the pipe, so the pipe's numbers are the
     * highest: closefrom closes both ends and nothing else. */
    printf("closefrom: closefrom both ends of a pipe a thread reads\n");
    CHECK_OK(pipe(p));
    start(&w, OP_READ, p[0]);
    closefrom(p[0] < p[1] ? p[0] : p[1]);
    printf("  closefrom done\n");
    number_free(p[0]);
    number_free(p[1]);
    finish(&w, "read (the last writer is gone)");
    /* Threads still block and wake afterwards. */
    CHECK_OK(pipe(q));
    start(&w, OP_READ, q[0]);
    REPORT("  write to a new pipe", write(q[1], "new", 3));
    finish(&w, "read");
    close(q[0]);
    close(q[1]);
}

static void case_fclose(void)
{
    struct waiter w;
    int p[2];

    printf("fclose: fclose a stream whose fd a thread polls\n");
    CHECK_OK(pipe(p));
    FILE *f = fdopen(p[0], "r");
    CHECK(f != NULL);
    start(&w, OP_POLL, fileno(f));
    REPORT("  fclose", fclose(f));
    number_free(p[0]);
    still_waiting(&w, "fclose");
    REPORT("  write to the old pipe", write(p[1], "old", 3));
    finish(&w, "poll");
    close(p[1]);
}

static void case_reuse(enum op op)
{
    struct waiter w;
    int a[2], b[2];
    char buf[8] = "";

    printf("%s: a new pipe takes the number of a fd a thread %s\n",
           op == OP_READ ? "reuse" : "pollreuse",
           op == OP_READ ? "reads" : "polls");
    CHECK_OK(pipe(a));
    start(&w, op, a[0]);
    REPORT("  close", close(a[0]));
    CHECK_OK(pipe(b));
    printf("  the new pipe has the old number: %s\n",
           b[0] == a[0] ? "yes" : "no");
    REPORT("  write to the new pipe", write(b[1], "new", 3));
    still_waiting(&w, "writing to the new pipe");
    if (op == OP_READ) {
        REPORT("  read the number", read(b[0], buf, sizeof buf - 1));
        printf("  it read \"%s\"\n", buf);
    }
    REPORT("  write to the old pipe", write(a[1], "old", 3));
    finish(&w, op == OP_READ ? "read" : "poll");
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

/* stdin: fd 0 is closed under a thread reading it; it still gets the line
 * that arrives later, and the runtime leaves the description's flags. */
static void case_stdin(void)
{
    struct waiter w;

    printf("stdin: close fd 0 under a thread reading it\n");
    start(&w, OP_READ, 0);
    REPORT("  close(0)", close(0));
    finish(&w, "read");
}

struct named {
    const char *name;
    void (*run)(void);
};

static void run_poll(void) { case_poll(OP_POLL); }
static void run_select(void) { case_poll(OP_SELECT); }
static void run_reuse(void) { case_reuse(OP_READ); }
static void run_pollreuse(void) { case_reuse(OP_POLL); }

static const struct named cases[] = {
    { "read", case_read },
    { "recv", case_recv },
    { "accept", case_accept },
    { "poll", run_poll },
    { "select", run_select },
    { "pollmany", case_pollmany },
    { "shutdown", case_shutdown },
    { "dup2", case_dup2 },
    { "closerange", case_closerange },
    { "fclose", case_fclose },
    { "reuse", run_reuse },
    { "pollreuse", run_pollreuse },
    { "closefrom", case_closefrom },    /* last: it closes high fds */
    { "stdin", case_stdin },            /* only when asked for */
};

int main(int argc, char **argv)
{
    const size_t n = sizeof cases / sizeof cases[0];

    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    partner_start(&partner);
    hs_init(&ready);
    if (argc == 1) {
        for (size_t i = 0; i + 1 < n; i++) {
            cases[i].run();
        }
    }
    for (int a = 1; a < argc; a++) {
        size_t i = 0;
        while (i < n && strcmp(argv[a], cases[i].name) != 0) {
            i++;
        }
        if (i == n) {
            fprintf(stderr, "fd-close: unknown case %s\n", argv[a]);
            return 2;
        }
        cases[i].run();
    }
    fflush(stdout);
    partner_stop(&partner);
    hs_destroy(&ready);
    return check_exit_status();
}
