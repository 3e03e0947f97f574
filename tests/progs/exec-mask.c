/* SPDX-License-Identifier: MIT */
/* exec-mask: the signal mask a new program starts with is the mask of the
 * thread that started it.  A second thread blocks SIGUSR1 and SIGTERM
 * (main blocks SIGUSR2 only), then starts `grep SigBlk /proc/self/status`
 * with posix_spawn, posix_spawnp, and fork + each exec function (execl,
 * execlp, execle, execv, execvp, execvpe, execve, fexecve, execveat); each
 * child prints its
 * SigBlk line, which must show the second thread's mask, not main's or a
 * mix.  A failed exec (no such file) returns ENOENT and leaves the thread's
 * mask as it was.  Exit status: failed checks.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "check.h"

extern char **environ;

static void reap(const char *how, pid_t pid)
{
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    printf("  (%s: child %s)\n", how,
           WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "ok" : "failed");
    fflush(stdout);
}

static void run_exec(int how)
{
    char *const argv[] = { "grep", "SigBlk", "/proc/self/status", NULL };
    static const char *const names[] = {
        "execl", "execlp", "execle", "execv", "execvp", "execvpe", "execve",
        "fexecve", "execveat",
    };
    printf("%s:\n", names[how]);
    fflush(stdout);
    const pid_t pid = fork();
    if (pid == 0) {
        switch (how) {
        case 0: execl("/bin/grep", "grep", "SigBlk", "/proc/self/status",
                      (char *)NULL); break;
        case 1: execlp("grep", "grep", "SigBlk", "/proc/self/status",
                       (char *)NULL); break;
        case 2: execle("/bin/grep", "grep", "SigBlk", "/proc/self/status",
                       (char *)NULL, environ); break;
        case 3: execv("/bin/grep", argv); break;
        case 4: execvp("grep", argv); break;
        case 5: execvpe("grep", argv, environ); break;
        case 6: execve("/bin/grep", argv, environ); break;
        case 7: {
            const int fd = open("/bin/grep", O_RDONLY | O_CLOEXEC);
            fexecve(fd, argv, environ);
            break;
        }
        default: execveat(AT_FDCWD, "/bin/grep", argv, environ, 0); break;
        }
        _exit(127);
    }
    reap(names[how], pid);
}

static void *starter(void *arg)
{
    (void)arg;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigaddset(&s, SIGTERM);
    CHECK_RC(pthread_sigmask(SIG_BLOCK, &s, NULL));
    char *const argv[] = { "grep", "SigBlk", "/proc/self/status", NULL };
    pid_t pid;
    printf("posix_spawn:\n");
    fflush(stdout);
    CHECK_RC(posix_spawn(&pid, "/bin/grep", NULL, NULL, argv, environ));
    reap("posix_spawn", pid);
    printf("posix_spawnp:\n");
    fflush(stdout);
    CHECK_RC(posix_spawnp(&pid, "grep", NULL, NULL, argv, environ));
    reap("posix_spawnp", pid);
    for (int how = 0; how < 9; how++) {
        run_exec(how);
    }
    /* A failed exec returns, and the thread's mask is unchanged. */
    errno = 0;
    const int r = execv("/nonexistent/program", argv);
    printf("failed execv: %d %s\n", r, errno_name(errno));
    sigset_t now;
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    printf("mask after the failed exec: USR1 %s, TERM %s, USR2 %s\n",
           sigismember(&now, SIGUSR1) ? "blocked" : "open",
           sigismember(&now, SIGTERM) ? "blocked" : "open",
           sigismember(&now, SIGUSR2) ? "blocked" : "open");
    return NULL;
}

int main(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    CHECK_RC(pthread_sigmask(SIG_BLOCK, &s, NULL));
    pthread_t t;                    /* starts with main's mask */
    CHECK_RC(pthread_create(&t, NULL, starter, NULL));
    CHECK_RC(pthread_join(t, NULL));
    return check_exit_status();
}
