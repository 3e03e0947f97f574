/* SPDX-License-Identifier: MIT */
/* shell-calls: system(), popen() and pclose() from several threads at once
 * while another thread keeps ticking.
 *
 * Prints, in a fixed order: the status of system() for exit codes, a
 * signal, a command that does not exist and system(NULL); that SIGINT is
 * ignored in the caller while system runs (the command sends SIGINT to its
 * parent) and restored afterwards; popen "r" output, popen "w" into a
 * file, "re" close-on-exec, bad modes (EINVAL), pclose statuses; that a
 * second popen's child does not hold the first one's pipe (pclose of the
 * first returns); 6 threads running system("sleep 0.2; exit K") at once,
 * each with its own status; and whether the ticker advanced while system
 * and pclose waited.  Exit status: failed checks.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "check.h"

static volatile long ticks;
static volatile int stop_ticking;

static void *ticker(void *arg)
{
    (void)arg;
    while (!stop_ticking) {
        usleep(5000);
        ticks++;
    }
    return NULL;
}

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
    char cmd[64];
    snprintf(cmd, sizeof cmd, "sleep 0.2; exit %ld", k);
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
    pthread_t tick;
    CHECK_RC(pthread_create(&tick, NULL, ticker, NULL));

    show_status("system exit 3", system("exit 3"));
    show_status("system true", system("true"));
    show_status("system kill -TERM $$", system("kill -TERM $$"));
    show_status("system no such command",
                system("exec /nonexistent/cmd 2>/dev/null"));
    printf("system(NULL): %s\n", system(NULL) != 0 ? "shell" : "no shell");

    long t0 = ticks;
    show_status("system sleep 0.3", system("sleep 0.3"));
    printf("ticker advanced during system: %s\n",
           ticks - t0 > 5 ? "yes" : "no");

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

    FILE *r = popen("echo one; sleep 0.2; echo two", "r");
    t0 = ticks;
    read_all("popen r", r);
    printf("ticker advanced while reading popen: %s\n",
           ticks - t0 > 5 ? "yes" : "no");
    show_status("pclose r", pclose(r));

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
     * first cat would never see end-of-file. */
    FILE *a = popen("cat > /dev/null", "w");
    FILE *b = popen("sleep 0.3", "r");
    fputs("x\n", a);
    show_status("pclose first while the second runs", pclose(a));
    show_status("pclose second", pclose(b));

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
    sigaction(SIGINT, NULL, &sa);
    printf("SIGINT disposition after 6 concurrent calls: %s\n",
           sa.sa_handler == SIG_DFL ? "default" : "changed");

    stop_ticking = 1;
    CHECK_RC(pthread_join(tick, NULL));
    return check_exit_status();
}
