/* SPDX-License-Identifier: MIT */
/* stdio-read SECTION | stdin [DIR] | overflow-fgets | overflow-fread:
 * threads read FILEs whose data arrives in pieces.
 *
 * A SECTION (no argument: all of them, in this order) covers some stdio
 * read calls (fgets, fgetc, getc, getchar, fread, getline, getdelim,
 * their _unlocked forms, __uflow and __underflow, the scanf family) on a
 * pipe that another thread feeds in pieces, each written only once the
 * reader has taken the one before (slow-feed.h): partial lines, lines
 * split across writes, more data than a FILE buffer holds, EOF, a write
 * end closed mid-line, ungetc before a read, feof and ferror afterwards,
 * getline growing its buffer, fread of an exact count arriving in
 * pieces, a read interrupted by a signal, a pipe the program made
 * non-blocking, a socket with SO_RCVTIMEO, a FILE open for update whose
 * pending output must go out before it reads, fclose while another thread
 * reads, two readers of one FILE, a popen'd command fed by another
 * thread, FILEs with no fd or on a regular file, and fscanf, vfscanf and
 * scanf with the byte they push back.  A read that must wait can only
 * return once another thread ran while it waited: a wait that held up the
 * whole process would hang (the test's timeout).  Built with
 * _FORTIFY_SOURCE=2 -O2 as stdio-read-fortify, the same source calls the
 * __*_chk entry points.
 *
 * With "stdin": one thread reads stdin with fgets and getline to EOF;
 * prints "waiting" first, then a prompt with no newline, then each line.
 * With a directory DIR, a watcher thread appends to DIR/marks
 * "reading-K N" when the reader is about to make its K-th call, and
 * "taken-K N" once DIR/sent.K exists and the reader has taken all of
 * stdin's pipe (FIONREAD 0); N is the kernel threads (Threads: in
 * /proc/self/status) at that moment.  The test writes each piece only
 * after the mark it waits for, so the reader waits for every piece.
 *
 * With "overflow-fgets" or "overflow-fread" (the fortified build): a
 * read past the end of an 8-byte buffer, which must abort.
 *
 * Prints a deterministic transcript (nothing that depends on timing).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "check.h"
#include "slow-feed.h"

int __underflow(FILE *f);

/* Sizes the compiler cannot see, so that a fortified build calls the
 * __*_chk entry points rather than the plain ones. */
static volatile int zero;
#define V(n) ((n) + zero)

/* Feed `len` bytes of `data` in pieces of `piece` bytes into a pipe that
 * s->in reads. */
static void slow_pieces(struct slow *s, const char *data, size_t len,
                        size_t piece)
{
    slow_feed(s, data, len, piece, false);
    slow_go(s);
}

/* ---- transcript helpers --------------------------------------------- */

static void show(const char *label, const char *s, long n)
{
    printf("%s: %ld \"", label, n);
    for (long i = 0; s != NULL && i < n; i++) {
        if (s[i] == '\n') {
            printf("\\n");
        } else {
            putchar(s[i]);
        }
    }
    printf("\"\n");
}

static void show_str(const char *label, const char *s)
{
    if (s == NULL) {
        printf("%s: NULL\n", label);
    } else {
        show(label, s, (long)strlen(s));
    }
}

static void show_char(const char *label, int c)
{
    if (c == EOF) {
        printf("%s: EOF\n", label);
    } else if (c == '\n') {
        printf("%s: '\\n'\n", label);
    } else {
        printf("%s: '%c'\n", label, c);
    }
}

static void show_flags(const char *label, FILE *f)
{
    printf("%s: feof %d ferror %d\n", label, feof(f) != 0, ferror(f) != 0);
}

/* ---- the cases ------------------------------------------------------ */

static void case_fgets(void)
{
    struct slow s;
    char buf[64];
    slow_script(&s, "hel|lo\nwor|ld\n|ta|il");
    show_str("fgets 1", fgets(buf, V(64), s.in));
    show_str("fgets 2", fgets(buf, V(64), s.in));
    show_str("fgets 3 (write end closed mid-line)", fgets(buf, V(64), s.in));
    show_str("fgets 4", fgets(buf, V(64), s.in));
    show_flags("fgets after EOF", s.in);
    slow_end(&s);

    slow_script(&s, "ab|cdefg\n");
    show_str("fgets n=4 1", fgets(buf, V(4), s.in));
    show_str("fgets n=4 2", fgets(buf, V(4), s.in));
    show_str("fgets n=4 3", fgets(buf, V(4), s.in));
    show_str("fgets n=4 4", fgets(buf, V(4), s.in));
    slow_end(&s);

    slow_script(&s, "unl|ocked\n|x");
    show_str("fgets_unlocked 1", fgets_unlocked(buf, V(64), s.in));
    show_str("fgets_unlocked 2", fgets_unlocked(buf, V(64), s.in));
    show_str("fgets_unlocked 3", fgets_unlocked(buf, V(64), s.in));
    show_flags("fgets_unlocked after EOF", s.in);
    slow_end(&s);
}

static void case_getc(void)
{
    struct slow s;
    slow_script(&s, "a|b|c|d|e|f|g|h\n");
    show_char("fgetc", fgetc(s.in));
    show_char("getc", getc(s.in));
    show_char("getc_unlocked (function)", (getc_unlocked)(s.in));
    show_char("getc_unlocked (macro)", getc_unlocked(s.in));
    show_char("fgetc_unlocked", fgetc_unlocked(s.in));
    show_char("__uflow", __uflow(s.in));
    show_char("__underflow", __underflow(s.in));
    show_char("fgetc after __underflow", fgetc(s.in));
    show_char("getc h", getc(s.in));
    show_char("getc newline", getc(s.in));
    show_char("getc at EOF", getc(s.in));
    show_flags("getc after EOF", s.in);
    show_char("getc again at EOF", getc(s.in));
    slow_end(&s);
}

static void check_pattern(const unsigned char *buf, size_t n, size_t from)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] != (unsigned char)((from + i) % 251)) {
            CHECK(!"fread data differs");
            return;
        }
    }
}

static void case_fread(void)
{
    enum { BIG = 10000 + 15000 + 250 };
    static char data[BIG];
    static unsigned char buf[16000];
    for (size_t i = 0; i < sizeof data; i++) {
        data[i] = (char)(i % 251);
    }
    struct slow s;
    slow_pieces(&s, data, sizeof data, 700);
    printf("fread 10000 x 1: %zu\n", fread(buf, 1, V(10000), s.in));
    check_pattern(buf, 10000, 0);
    printf("fread_unlocked 150 x 100: %zu\n",
           fread_unlocked(buf, 100, V(150), s.in));
    check_pattern(buf, 15000, 10000);
    printf("fread 3 x 100 with 250 left: %zu\n",
           fread(buf, 100, V(3), s.in));
    check_pattern(buf, 250, 25000);
    show_flags("fread after EOF", s.in);
    printf("fread at EOF: %zu\n", fread(buf, 1, V(10), s.in));
    slow_end(&s);

    slow_script(&s, "ex|a|ct|ly|1234");
    printf("fread exact 12: %zu\n", fread(buf, 1, V(12), s.in));
    show("fread exact data", (char *)buf, 12);
    show_flags("fread exact", s.in);
    slow_end(&s);
}

static void case_getline(void)
{
    static char line[1004];
    memset(line, 'L', 1000);
    strcpy(line + 1000, "\nx\n");
    struct slow s;
    slow_pieces(&s, line, strlen(line), 100);
    char *p = NULL;
    size_t n = 0;
    ssize_t r = getline(&p, &n, s.in);
    printf("getline long: %zd, buffer large enough %d, last '%c'\n", r,
           n > (size_t)r, p[r - 1] == '\n' ? 'n' : p[r - 1]);
    CHECK(r == 1001 && memcmp(p, line, 1001) == 0);
    r = getline(&p, &n, s.in);
    show("getline short", p, r);
    r = getline(&p, &n, s.in);
    printf("getline at EOF: %zd\n", r);
    show_flags("getline after EOF", s.in);
    slow_end(&s);
    free(p);

    slow_script(&s, "a:|b|b:c|");
    p = NULL;
    n = 0;
    for (int i = 0; i < 4; i++) {
        r = getdelim(&p, &n, ':', s.in);
        if (r < 0) {
            printf("getdelim ':' %d: -1\n", i);
        } else {
            show("getdelim ':'", p, r);
        }
    }
    show_flags("getdelim after EOF", s.in);
    slow_end(&s);
    free(p);

    errno = 0;
    r = getline(NULL, &n, stdin);
    printf("getline NULL lineptr: %zd %s\n", r, errno_name(errno));
}

static void case_ungetc(void)
{
    struct slow s;
    char buf[64];
    char *p = NULL;
    size_t n = 0;
    slow_script(&s, "fi|rst\nsec|ond\n|third\n");
    show_char("ungetc on a fresh FILE", ungetc('X', s.in));
    show_str("fgets after ungetc", fgets(buf, V(64), s.in));
    show_char("ungetc after a line", ungetc('Y', s.in));
    ssize_t r = getline(&p, &n, s.in);
    show("getline after ungetc", p, r);
    show_char("ungetc again", ungetc('Z', s.in));
    show_char("ungetc twice", ungetc('W', s.in));
    printf("fread after two ungetc: %zu\n", fread(buf, 1, V(8), s.in));
    show("fread data", buf, 8);
    slow_end(&s);
    free(p);
}

static void case_mixed(void)
{
    struct slow s;
    char buf[64];
    char *p = NULL;
    size_t n = 0;
    slow_script(&s, "ab|c\nde|f\n|ghij|klm\n");
    show_char("mixed fgetc", fgetc(s.in));
    show_str("mixed fgets", fgets(buf, V(64), s.in));
    printf("mixed fread: %zu\n", fread(buf, 1, V(3), s.in));
    show("mixed fread data", buf, 3);
    show("mixed getline", p, getline(&p, &n, s.in));
    printf("mixed fread 2: %zu\n", fread(buf, 1, V(2), s.in));
    show("mixed fread 2 data", buf, 2);
    show_char("mixed getc", getc(s.in));
    show_str("mixed fgets rest", fgets(buf, V(64), s.in));
    slow_end(&s);
    free(p);
}

/* ---- scanf ---------------------------------------------------------- */

static int vscan(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const int r = vfscanf(f, fmt, ap);
    va_end(ap);
    return r;
}

/* vscanf, and the C99 name a program built without _GNU_SOURCE calls. */
int __isoc99_vscanf(const char *fmt, va_list ap);
/* getc as binaries built against glibc before 2.28 call it. */
int _IO_getc(FILE *f);

static int vscan_stdin(bool c99, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const int r = c99 ? __isoc99_vscanf(fmt, ap) : vscanf(fmt, ap);
    va_end(ap);
    return r;
}

static void case_scanf(void)
{
    struct slow s;
    int i = 0;
    char word[16];
    double d = 0;
    slow_script(&s, "1|2 ab|c 3.|5\n7x|ab| 9|");
    int r = fscanf(s.in, "%d %15s %lf", &i, word, &d);
    printf("fscanf: %d -> %d %s %.2f\n", r, i, word, d);
    show_char("getc after fscanf", getc(s.in));
    r = vscan(s.in, "%d", &i);
    printf("vfscanf: %d -> %d\n", r, i);
    show_char("getc after vfscanf (pushed back)", getc(s.in));
    r = fscanf(s.in, "%d", &i);
    printf("fscanf matching failure: %d\n", r);
    show_char("getc after the failure", getc(s.in));
    r = fscanf(s.in, "%*c%d", &i);
    printf("fscanf across a pause: %d -> %d\n", r, i);
    r = fscanf(s.in, "%d", &i);
    printf("fscanf at EOF: %d\n", r);
    show_flags("fscanf after EOF", s.in);
    slow_end(&s);

    slow_script(&s, "4|2\n|");
    CHECK_OK(dup2(fileno(s.in), 0));
    clearerr(stdin);
    r = scanf("%d", &i);
    printf("scanf stdin: %d -> %d\n", r, i);
    show_char("getchar after scanf", getchar());
    r = scanf("%d", &i);
    printf("scanf stdin at EOF: %d\n", r);
    slow_end(&s);

    slow_script(&s, "7|1\n8|\n|");
    CHECK_OK(dup2(fileno(s.in), 0));
    clearerr(stdin);
    r = vscan_stdin(false, "%d", &i);
    printf("vscanf stdin: %d -> %d\n", r, i);
    r = vscan_stdin(true, "%d", &i);
    printf("__isoc99_vscanf stdin: %d -> %d\n", r, i);
    slow_end(&s);
}

/* ---- a signal while waiting ----------------------------------------- */

static void on_usr1(int sig)
{
    (void)sig;
}

struct intr {
    FILE *in;
    int call;       /* 0 fgets, 1 fgetc, 2 fread */
    int done[2];    /* reader -> main: my call returned */
};

/* Reads a pipe nobody writes to, until a signal interrupts the call; then
 * blocks SIGUSR1 (main may have sent one more) and tells main. */
static void *intr_reader(void *arg)
{
    struct intr *x = arg;
    char buf[64];
    int err;
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    errno = 0;
    if (x->call == 0) {
        const char *r = fgets(buf, V(64), x->in);
        err = errno;
        CHECK_RC(pthread_sigmask(SIG_BLOCK, &usr1, NULL));
        show_str("fgets interrupted", r);
    } else if (x->call == 1) {
        const int c = fgetc(x->in);
        err = errno;
        CHECK_RC(pthread_sigmask(SIG_BLOCK, &usr1, NULL));
        show_char("fgetc interrupted", c);
    } else {
        const size_t n = fread(buf, 1, V(10), x->in);
        err = errno;
        CHECK_RC(pthread_sigmask(SIG_BLOCK, &usr1, NULL));
        printf("fread interrupted: %zu\n", n);
    }
    printf("  errno %s\n", errno_name(err));
    show_flags("  after the signal", x->in);
    CHECK_EQ(write(x->done[1], "d", 1), 1);
    return NULL;
}

/* SIGUSR1 goes to the reader until its call returned: a signal that came
 * before the reader began to wait is sent again. */
static void case_eintr(void)
{
    struct sigaction sa = { .sa_handler = on_usr1 };     /* no SA_RESTART */
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
    for (int call = 0; call < 3; call++) {
        int p[2];
        CHECK_OK(pipe(p));
        struct intr x = { .in = fdopen(p[0], "r"), .call = call };
        CHECK_OK(pipe(x.done));
        pthread_t t;
        CHECK_RC(pthread_create(&t, NULL, intr_reader, &x));
        struct pollfd done = { .fd = x.done[0], .events = POLLIN };
        do {
            CHECK_RC(pthread_kill(t, SIGUSR1));
        } while (poll(&done, 1, 10) == 0);
        CHECK_RC(pthread_join(t, NULL));
        close(x.done[0]);
        close(x.done[1]);
        clearerr(x.in);
        feed_write(p[1], "after\n", 6);
        char buf[64];
        show_str("  fgets after clearerr", fgets(buf, V(64), x.in));
        close(p[1]);
        fclose(x.in);
    }
    signal(SIGUSR1, SIG_DFL);
}

/* ---- a pipe the program made non-blocking --------------------------- */

static void case_nonblock(void)
{
    int p[2];
    char buf[64];
    CHECK_OK(pipe(p));
    CHECK_OK(fcntl(p[0], F_SETFL, O_NONBLOCK));
    FILE *in = fdopen(p[0], "r");
    errno = 0;
    show_char("nonblock fgetc empty", fgetc(in));
    printf("  errno %s\n", errno_name(errno));
    show_flags("  nonblock", in);
    clearerr(in);
    errno = 0;
    show_str("nonblock fgets empty", fgets(buf, V(64), in));
    printf("  errno %s\n", errno_name(errno));
    clearerr(in);
    feed_write(p[1], "nb\npart", 7);
    show_str("nonblock fgets line", fgets(buf, V(64), in));
    errno = 0;
    show_str("nonblock fgets partial line", fgets(buf, V(64), in));
    printf("  errno %s\n", errno_name(errno));
    show_flags("  nonblock", in);
    clearerr(in);
    errno = 0;
    printf("nonblock fread: %zu\n", fread(buf, 1, V(10), in));
    printf("  errno %s\n", errno_name(errno));
    close(p[1]);
    fclose(in);
}

/* ---- a socket with SO_RCVTIMEO --------------------------------------- */

static void case_rcvtimeo(void)
{
    int sv[2];
    char buf[64];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    const struct timeval tv = { .tv_usec = 20000 };
    CHECK_OK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    FILE *in = fdopen(sv[0], "r");
    errno = 0;
    const char *r = fgets(buf, V(64), in);
    const int err = errno;
    show_str("rcvtimeo fgets empty", r);
    printf("  errno %s\n", errno_name(err));
    show_flags("  rcvtimeo", in);
    clearerr(in);
    feed_write(sv[1], "part", 4);
    errno = 0;
    r = fgets(buf, V(64), in);
    printf("  errno %s\n", errno_name(errno));
    show_str("rcvtimeo fgets partial line", r);
    show_flags("  rcvtimeo", in);
    clearerr(in);
    feed_write(sv[1], "line\n", 5);
    show_str("rcvtimeo fgets line", fgets(buf, V(64), in));
    fclose(in);
    close(sv[1]);
}

/* ---- a FILE open for update: output pending when it reads ----------- */

static void *pong(void *arg)
{
    const int fd = *(int *)arg;
    char c;
    char got[16];
    size_t n = 0;
    while (n < sizeof got - 1 && read(fd, &c, 1) == 1 && c != '\n') {
        got[n++] = c;
    }
    got[n] = '\0';
    feed_write(fd, strcmp(got, "ping") == 0 ? "pong\n" : "what?\n", 5);
    return NULL;
}

static void case_update(void)
{
    int sv[2];
    char buf[64];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    FILE *f = fdopen(sv[0], "r+");
    pthread_t t;
    CHECK_RC(pthread_create(&t, NULL, pong, &sv[1]));
    fputs("ping\n", f);            /* stays in the buffer until the read */
    show_str("fgets after fputs on an r+ socket", fgets(buf, V(64), f));
    CHECK_RC(pthread_join(t, NULL));
    fclose(f);
    close(sv[1]);
}

/* ---- fclose while another thread reads ------------------------------ */

struct closing {
    FILE *in;
    int locked[2];          /* reader -> main: I hold the FILE's lock */
    char line[64];
    const char *r;
};

/* Takes the FILE's lock (fgets takes it again: it is recursive) before it
 * tells main, so that main's fclose comes while the reader holds it. */
static void *closing_reader(void *arg)
{
    struct closing *c = arg;
    flockfile(c->in);
    CHECK_EQ(write(c->locked[1], "l", 1), 1);
    c->r = fgets(c->line, V(64), c->in);
    funlockfile(c->in);
    return NULL;
}

/* glibc's fclose waits for the FILE lock, which the reader holds until
 * its line has come: the reader gets the line, then the FILE closes. */
static void case_fclose_while_reading(void)
{
    struct slow s;
    slow_feed(&s, "lat|e\n", 6, 0, false);
    struct closing c = { .in = s.in };
    CHECK_OK(pipe(c.locked));
    pthread_t t;
    CHECK_RC(pthread_create(&t, NULL, closing_reader, &c));
    char byte;
    CHECK_EQ(read(c.locked[0], &byte, 1), 1);
    slow_go(&s);
    const int r = fclose(c.in);
    CHECK_RC(pthread_join(t, NULL));
    CHECK_RC(pthread_join(s.thread, NULL));
    printf("fclose while another thread reads: %d\n", r);
    show_str("  the reader's line", c.r);
    close(c.locked[0]);
    close(c.locked[1]);
}

/* ---- two readers of one FILE ---------------------------------------- */

struct shared {
    FILE *in;
    char lines[8][32];
    int count;
};

static void *shared_reader(void *arg)
{
    struct shared *sh = arg;
    char buf[32];
    while (fgets(buf, V(32), sh->in) != NULL) {
        const int i = ADD(&sh->count, 1) - 1;
        CHECK(i < 8);
        if (i < 8) {
            strcpy(sh->lines[i], buf);
        }
    }
    return NULL;
}

static int cmp_lines(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void case_two_readers(void)
{
    struct slow s;
    struct shared sh = { .count = 0 };
    slow_script(&s, "on|e\ntw|o\nthr|ee\nfo|ur\n");
    sh.in = s.in;
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, shared_reader, &sh));
    }
    for (int i = 0; i < 2; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }
    qsort(sh.lines, (size_t)sh.count, sizeof sh.lines[0], cmp_lines);
    printf("two readers: %d lines\n", sh.count);
    for (int i = 0; i < sh.count; i++) {
        show_str("  line", sh.lines[i]);
    }
    slow_end(&s);
}

/* ---- FILEs that never wait: memory, a regular file ------------------ */

static void case_no_fd(void)
{
    char text[] = "m1\nm2";
    char buf[64];
    FILE *m = fmemopen(text, strlen(text), "r");
    CHECK(m != NULL);
    show_str("fmemopen fgets 1", fgets(buf, V(64), m));
    show_str("fmemopen fgets 2", fgets(buf, V(64), m));
    show_str("fmemopen fgets 3", fgets(buf, V(64), m));
    show_flags("fmemopen", m);
    fclose(m);

    FILE *t = tmpfile();
    CHECK(t != NULL);
    fputs("f1\nf2\nf3", t);
    rewind(t);
    show_str("file fgets", fgets(buf, V(64), t));
    show_char("file getc", getc(t));
    printf("file fread: %zu\n", fread(buf, 1, V(64), t));
    show_flags("file", t);
    fclose(t);
}

/* ---- popen ---------------------------------------------------------- */

/* fd, moved to a close-on-exec fd above 9, out of the command's way. */
static int above_nine(int fd)
{
    const int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);
    CHECK_OK(high);
    close(fd);
    return high;
}

/* The command copies to its output what a feeder thread writes, in two
 * pieces, into a pipe it inherits as fd 9 (dash takes one-digit fds). */
static void case_popen(void)
{
    char buf[64];
    int p[2];
    CHECK_OK(pipe(p));
    const int in = above_nine(p[0]), out = above_nine(p[1]);
    CHECK_OK(dup2(in, 9));
    FILE *c = popen("exec cat <&9", "r");
    CHECK(c != NULL);
    close(9);
    const char script[] = "hi\n|there\n";
    struct slow s = { .feed = { .fd = out, .watch = in, .data = script,
                                .len = strlen(script) } };
    slow_go(&s);
    show_str("popen fgets 1", fgets(buf, V(64), c));
    show_str("popen fgets 2", fgets(buf, V(64), c));
    show_str("popen fgets 3", fgets(buf, V(64), c));
    printf("pclose: %d\n", pclose(c));
    CHECK_RC(pthread_join(s.thread, NULL));
    close(in);
}

/* ---- getchar on stdin (made a slow pipe) ---------------------------- */

static void case_getchar(void)
{
    struct slow s;
    slow_script(&s, "s|i|\n|o|");
    CHECK_OK(dup2(fileno(s.in), 0));
    show_char("getchar", getchar());
    show_char("getchar_unlocked", getchar_unlocked());
    show_char("getchar (function)", (getchar)());
    show_char("_IO_getc (pre-2.28 binaries' getc)", _IO_getc(stdin));
    show_char("getchar at EOF", getchar());
    show_flags("stdin after EOF", stdin);
    slow_end(&s);
}

/* ---- stdin mode ----------------------------------------------------- */

/* With a directory: the reader tells the watcher about each call through
 * this pipe ('c'), and that it is done ('e'). */
static const char *watch_dir;
static int watch_gate[2] = { -1, -1 };

static void tell_watcher(char what)
{
    if (watch_dir != NULL) {
        CHECK_EQ(write(watch_gate[1], &what, 1), 1);
    }
}

/* Append "WHAT-K N" to DIR/marks, N the process's kernel threads now. */
static void mark(const char *what, int k)
{
    char path[4096], line[256];
    int threads = -1;
    FILE *st = fopen("/proc/self/status", "r");
    CHECK(st != NULL);
    while (st != NULL && fgets(line, sizeof line, st) != NULL) {
        if (strncmp(line, "Threads:", 8) == 0) {
            threads = atoi(line + 8);
        }
    }
    if (st != NULL) {
        fclose(st);
    }
    snprintf(path, sizeof path, "%s/marks", watch_dir);
    const int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    CHECK_OK(fd);
    const int n = snprintf(line, sizeof line, "%s-%d %d\n", what, k,
                           threads);
    CHECK_EQ(write(fd, line, (size_t)n), n);
    close(fd);
}

static void *watcher(void *arg)
{
    int calls = 0, taken = 0;
    (void)arg;
    for (;;) {
        struct pollfd gate = { .fd = watch_gate[0], .events = POLLIN };
        if (poll(&gate, 1, 1) > 0) {
            char what;
            CHECK_EQ(read(watch_gate[0], &what, 1), 1);
            if (what == 'e') {
                break;
            }
            mark("reading", ++calls);
        }
        char sent[4096];
        int queued = -1;
        snprintf(sent, sizeof sent, "%s/sent.%d", watch_dir, taken + 1);
        if (access(sent, F_OK) == 0 && ioctl(0, FIONREAD, &queued) == 0
            && queued == 0) {
            mark("taken", ++taken);
        }
    }
    return NULL;
}

static void *stdin_reader(void *arg)
{
    char buf[256];
    char *p = NULL;
    size_t n = 0;
    int i = 0;
    (void)arg;
    /* Left in stdout's buffer: glibc flushes it before a line-buffered
     * stdin (a tty) reads, so that a prompt shows while waiting. */
    printf("prompt> ");
    for (;;) {
        tell_watcher('c');
        /* Alternate the two calls, line by line. */
        if (i++ % 2 == 0) {
            if (fgets(buf, V(256), stdin) == NULL) {
                break;
            }
            show_str("fgets stdin", buf);
        } else {
            const ssize_t r = getline(&p, &n, stdin);
            if (r < 0) {
                break;
            }
            show("getline stdin", p, r);
        }
        fflush(stdout);
    }
    show_flags("stdin end", stdin);
    free(p);
    tell_watcher('e');
    return NULL;
}

static int run_stdin(const char *dir)
{
    pthread_t t, w;
    printf("waiting\n");
    fflush(stdout);
    watch_dir = dir;
    if (dir != NULL) {
        CHECK_OK(pipe(watch_gate));
        CHECK_RC(pthread_create(&w, NULL, watcher, NULL));
    }
    CHECK_RC(pthread_create(&t, NULL, stdin_reader, NULL));
    CHECK_RC(pthread_join(t, NULL));
    if (dir != NULL) {
        CHECK_RC(pthread_join(w, NULL));
    }
    return check_exit_status();
}

/* ---- fortified reads past the end of their buffer ------------------ */

/* "overflow-fgets", "overflow-fread": read more than an 8-byte buffer
 * holds from a slowly fed pipe; a fortified build aborts with "buffer
 * overflow detected" (exit status 2 when not built fortified). */
static int run_overflow(const char *which)
{
#if defined _FORTIFY_SOURCE && _FORTIFY_SOURCE > 0 && defined __OPTIMIZE__
    struct slow s;
    char small[8];
    slow_script(&s, "0123|456789\n");
    if (strcmp(which, "overflow-fgets") == 0) {
        show_str("fgets past the buffer", fgets(small, V(64), s.in));
    } else {
        printf("fread past the buffer: %zu\n",
               fread(small, 1, V(12), s.in));
    }
    slow_end(&s);
    return 0;
#else
    (void)which;
    fprintf(stderr, "not built with _FORTIFY_SOURCE\n");
    return 2;
#endif
}

static const struct section sections[] = {
    { "fgets", case_fgets },
    { "getc", case_getc },
    { "fread", case_fread },
    { "getline", case_getline },
    { "ungetc", case_ungetc },
    { "mixed", case_mixed },
    { "eintr", case_eintr },
    { "nonblock", case_nonblock },
    { "rcvtimeo", case_rcvtimeo },
    { "update", case_update },
    { "fclose", case_fclose_while_reading },
    { "two-readers", case_two_readers },
    { "no-fd", case_no_fd },
    { "popen", case_popen },
    { "getchar", case_getchar },
    { "scanf", case_scanf },
};

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "stdin") == 0) {
        return run_stdin(argc > 2 ? argv[2] : NULL);
    }
    if (argc > 1 && strncmp(argv[1], "overflow-", 9) == 0) {
        return run_overflow(argv[1]);
    }
    return RUN_SECTIONS(argc, argv, sections, NULL);
}
