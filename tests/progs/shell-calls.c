/* SPDX-License-Identifier: MIT */
/* shell-calls: system(), popen() and pclose() from several threads at once,
 * their waits parking only the caller.
 *
 * Prints, in a fixed order: the status of system() for exit codes, a
 * signal, a command that does not exist and system(NULL); that SIGINT is
 * ignored in the caller while system runs (the command sends SIGINT to its
 * parent) and restored afterwards; popen "r" output, popen "w" into a
 * file, "re" close-on-exec, bad modes (EINVAL), pclose statuses; that a
 * second popen's child does not hold the first one's pipe (pclose of the
 * first returns while the second's command still waits); 6 threads in
 * system() at once, each with its own status.  Exit status: failed checks.
 *
 * Waits are shown by handshakes, never by time: a command that must wait
 * writes a line to fd STARTED_FD and reads one from fd GO_FD, and another
 * thread of this program (answer()) reads the line and writes "go".  A
 * system, pclose or popen read that held up the whole process would leave
 * that thread no chance to answer, and the run would hang (the test's
 * timeout).  The 6 concurrent commands are answered only once all 6 have
 * started.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "check.h"

/* What the commands inherit (dash takes only one-digit fds): they write
 * to STARTED_FD and read from GO_FD.  This program keeps the other ends,
 * close-on-exec. */
enum { STARTED_FD = 8, GO_FD = 9 };
static int started_in, go_out;

/* fd, moved to a close-on-exec fd above 9, out of the commands' way. */
static int above_nine(int fd)
{
    const int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);
    CHECK_OK(high);
    close(fd);
    return high;
}

static void handshake_pipes(void)
{
    int started[2], go[2];
    CHECK_OK(pipe(started));
    CHECK_OK(pipe(go));
    started_in = above_nine(started[0]);
    go_out = above_nine(go[1]);
    const int started_out = above_nine(started[1]);
    const int go_in = above_nine(go[0]);
    CHECK_OK(dup2(started_out, STARTED_FD));    /* dup2 clears CLOEXEC */
    CHECK_OK(dup2(go_in, GO_FD));
    close(started_out);
    close(go_in);
}

/* answer(n) in a thread: wait until n commands have written their line to
 * STARTED_FD, then give each a "go" line (dash reads a pipe a byte at a
 * time, so each command's `read` takes exactly one line). */
static void *answer(void *arg)
{
    const long n = (long)(intptr_t)arg;
    for (long seen = 0; seen < n;) {
        char c;
        const ssize_t r = read(started_in, &c, 1);
        if (r != 1) {
            CHECK_EQ(r, 1);
            return NULL;
        }
        seen += c == '\n';
    }
    for (long i = 0; i < n; i++) {
        CHECK_EQ(write(go_out, "go\n", 3), 3);
    }
    return NULL;
}

static pthread_t start_answer(long n)
{
    pthread_t t;
    CHECK_RC(pthread_create(&t, NULL, answer, (void *)(intptr_t)n));
    return t;
}

/* A command that waits for answer(): prints "go" when it got it. */
#define WAIT_FOR_GO "echo started >&8; read x <&9; echo \"$x\""

static void show_status(const char *what, int st)
{
    if (st == -1) {
        printf("%s: -1 %s\n", what, errno_name(errno));
    } else if (WIFEXITED(st)) {
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
    } else if (WIFSIGNALED(st)) {
        printf("%s: killed by signal %d\n", what, WTERMSIG(st));
    } else {
        printf("%s: status %#x\n", what, st);
    }
}

static void *system_thread(void *arg)
{
    const long k = (long)(intptr_t)arg;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "echo started >&8; read x <&9; exit %ld", k);
    return (void *)(intptr_t)system(cmd);
}

static void read_all(const char *what, FILE *f)
{
    char line[128];
    while (fgets(line, sizeof line, f) != NULL) {
        printf("%s: %s", what, line);
    }
}

int main(void)
{
    handshake_pipes();

    show_status("system exit 3", system("exit 3"));
    show_status("system true", system("true"));
    show_status("system kill -TERM $$", system("kill -TERM $$"));
    show_status("system no such command",
                system("exec /nonexistent/cmd 2>/dev/null"));
    printf("system(NULL): %s\n", system(NULL) != 0 ? "shell" : "no shell");

    pthread_t answerer = start_answer(1);
    show_status("system waits while another thread answers its command",
                system(WAIT_FOR_GO " >/dev/null; [ \"$x\" = go ]"));
    CHECK_RC(pthread_join(answerer, NULL));

    /* SIGINT to the caller while system runs is ignored. */
    show_status("system kill -INT $PPID", system("kill -INT $PPID; exit 4"));
    struct sigaction sa;
    sigaction(SIGINT, NULL, &sa);
    printf("SIGINT disposition after system: %s\n",
           sa.sa_handler == SIG_DFL ? "default" : "changed");
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, NULL, &mask);
    printf("SIGCHLD blocked after system: %s\n",
           sigismember(&mask, SIGCHLD) ? "yes" : "no");

    /* The command starts with the caller's mask, not SIGCHLD blocked by
     * system (exec: the shell itself may block signals while it waits). */
    show_status("system SigBlk of the shell",
                system("exec grep -q '^SigBlk:[[:space:]]*0*$' /proc/self/status"));

    /* fgets waits for "two" until another thread answered. */
    answerer = start_answer(1);
    FILE *r = popen("echo one; " WAIT_FOR_GO " >/dev/null; echo two $x",
                    "r");
    read_all("popen r", r);
    show_status("pclose r", pclose(r));
    CHECK_RC(pthread_join(answerer, NULL));

    /* pclose waits for a command that waits for another thread. */
    answerer = start_answer(1);
    r = popen(WAIT_FOR_GO " >/dev/null; exit 6", "r");
    show_status("pclose waits while another thread answers its command",
                pclose(r));
    CHECK_RC(pthread_join(answerer, NULL));

    char path[] = "/tmp/shell-calls.XXXXXX";
    const int tmp = mkstemp(path);
    CHECK(tmp >= 0);
    close(tmp);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "cat > %s; exit 5", path);
    FILE *w = popen(cmd, "w");
    fputs("written through popen\n", w);
    show_status("pclose w", pclose(w));
    FILE *back = fopen(path, "r");
    read_all("file", back);
    fclose(back);
    unlink(path);

    FILE *e = popen("true", "re");
    printf("popen re close-on-exec: %s\n",
           (fcntl(fileno(e), F_GETFD) & FD_CLOEXEC) ? "yes" : "no");
    show_status("pclose re", pclose(e));
    FILE *ne = popen("true", "r");
    printf("popen r close-on-exec: %s\n",
           (fcntl(fileno(ne), F_GETFD) & FD_CLOEXEC) ? "yes" : "no");
    show_status("pclose r", pclose(ne));

    const char *bad[] = { "x", "rw", "", "wr", "rx" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        FILE *f = popen("true", bad[i]);
        printf("popen mode \"%s\": %s %s\n", bad[i], f ? "stream" : "NULL",
               errno_name(f ? 0 : errno));
        if (f) {
            pclose(f);
        }
    }

    /* The second child must not hold the first stream's pipe, or the
     * first cat would never see end-of-file; it waits for its "go" until
     * the first pclose returned. */
    FILE *a = popen("cat > /dev/null", "w");
    FILE *b = popen("read x <&9; exit 7", "r");
    fputs("x\n", a);
    show_status("pclose first while the second runs", pclose(a));
    CHECK_EQ(write(go_out, "go\n", 3), 3);
    show_status("pclose second", pclose(b));

    /* Each command waits until all 6 have started. */
    answerer = start_answer(6);
    pthread_t th[6];
    for (long k = 0; k < 6; k++) {
        CHECK_RC(pthread_create(&th[k], NULL, system_thread,
                                (void *)(intptr_t)(10 + k)));
    }
    for (int k = 0; k < 6; k++) {
        void *st;
        CHECK_RC(pthread_join(th[k], &st));
        char what[32];
        snprintf(what, sizeof what, "thread %d system", k);
        show_status(what, (int)(intptr_t)st);
    }
    CHECK_RC(pthread_join(answerer, NULL));
    sigaction(SIGINT, NULL, &sa);
    printf("SIGINT disposition after 6 concurrent calls: %s\n",
           sa.sa_handler == SIG_DFL ? "default" : "changed");

    return check_exit_status();
}
