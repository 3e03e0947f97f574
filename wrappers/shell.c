/* SPDX-License-Identifier: MIT */
/* system, popen and pclose: shell commands whose wait parks only the
 * calling thread. glibc's versions wait for the shell with an internal
 * waitpid that no wrapper sees, so one thread's system("sleep 1") stopped
 * every green thread for a second. These do what glibc 2.36 does, step by
 * step, but wait with the waitpid wrapper (wrappers/process.c):
 *
 * system: /bin/sh -c COMMAND through posix_spawn; while any system() runs,
 * SIGINT and SIGQUIT are ignored (a count shared by concurrent callers,
 * the dispositions restored by the last one) and the caller blocks
 * SIGCHLD in its own mask; the shell starts with the caller's previous
 * mask and with SIGINT and SIGQUIT at their defaults unless they were
 * ignored before. A shell that cannot be started gives the status of
 * _exit(127); system(NULL) says whether a shell can be started.
 *
 * popen: a pipe (close-on-exec unless the mode asks otherwise with "e"
 * absent), the shell's stdin or stdout on its far end, the streams of
 * earlier popen calls still open closed in the child (POSIX), and a stdio
 * stream on the near end. The mode is "r" or "w", with "e" anywhere for
 * close-on-exec; anything else is EINVAL, as in glibc. pclose closes the
 * stream, then waits for that child; a stream popen did not make is
 * glibc's to close.
 *
 * Kernel threads other than the green one (and a process that has not
 * made a thread yet, for system) get glibc's own calls.
 */
#include "config.h"

#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "wrappers/wrap.h"

#define SHELL_PATH "/bin/sh"

extern char **environ;

/* ---- system -------------------------------------------------------- */

static struct {
    unsigned users;                 /* system() calls in progress */
    struct sigaction intr, quit;    /* dispositions they replaced */
} sys;

static int run_shell(const char *command)
{
    struct sigaction ign = { .sa_handler = SIG_IGN };
    sigemptyset(&ign.sa_mask);
    /* No switch can happen between the count and the sigactions: only
     * the green kernel thread runs this, and neither call parks. */
    if (sys.users++ == 0) {
        sigaction(SIGINT, &ign, &sys.intr);
        sigaction(SIGQUIT, &ign, &sys.quit);
    }
    sigset_t chld, omask, reset;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &chld, &omask);
    sigemptyset(&reset);
    if (sys.intr.sa_handler != SIG_IGN) {
        sigaddset(&reset, SIGINT);
    }
    if (sys.quit.sa_handler != SIG_IGN) {
        sigaddset(&reset, SIGQUIT);
    }
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &omask);
    posix_spawnattr_setsigdefault(&attr, &reset);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF
                                    | POSIX_SPAWN_SETSIGMASK);
    pid_t pid;
    char *argv[] = { "sh", "-c", (char *)command, NULL };
    int status;
    if (posix_spawn(&pid, SHELL_PATH, NULL, &attr, argv, environ) == 0) {
        pid_t r;
        while ((r = waitpid(pid, &status, 0)) == -1 && errno == EINTR) {
        }
        if (r != pid) {
            status = -1;
        }
    } else {
        status = W_EXITCODE(127, 0);
    }
    posix_spawnattr_destroy(&attr);
    const int err = errno;
    if (--sys.users == 0) {
        sigaction(SIGINT, &sys.intr, NULL);
        sigaction(SIGQUIT, &sys.quit, NULL);
    }
    pthread_sigmask(SIG_SETMASK, &omask, NULL);
    errno = err;
    return status;
}

GREEN_WRAP int system(const char *command)
{
    green__ensure_init();
    green__fd_forget_all();    /* the shell inherits the fds */
    if (!green__may_park()) {
        return GREEN_REAL_FN(system)(command);
    }
    if (command == NULL) {
        return run_shell("exit 0") == 0;
    }
    return run_shell(command);
}

/* ---- popen, pclose -------------------------------------------------- */

struct proc {
    FILE *stream;
    pid_t pid;
    struct proc *next;
};

/* Streams popen made and pclose has not closed. Green kernel thread. */
static struct proc *procs;

/* Parse popen's mode: 0 for read, 1 for write, -1 if invalid. */
static int parse_mode(const char *mode, bool *cloexec)
{
    int dir = -1;
    *cloexec = false;
    for (; *mode != '\0'; mode++) {
        switch (*mode) {
        case 'r':
        case 'w':
            if (dir != -1) {
                return -1;
            }
            dir = *mode == 'w';
            break;
        case 'e':
            *cloexec = true;
            break;
        default:
            return -1;
        }
    }
    return dir;
}

static FILE *open_proc(const char *command, const char *mode)
{
    bool cloexec;
    const int dir = parse_mode(mode, &cloexec);
    if (dir < 0) {
        errno = EINVAL;
        return NULL;
    }
    struct proc *p = malloc(sizeof *p);
    if (p == NULL) {
        return NULL;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        free(p);
        return NULL;
    }
    /* Reading: the child writes fds[1] as its stdout; writing: the child
     * reads fds[0] as its stdin. */
    const int near = dir ? fds[1] : fds[0];
    const int far = dir ? fds[0] : fds[1];
    const int child_fd = dir ? 0 : 1;
    posix_spawn_file_actions_t fa;
    int err = posix_spawn_file_actions_init(&fa);
    if (err == 0) {
        /* dup2 onto itself clears FD_CLOEXEC (glibc's posix_spawn). */
        err = posix_spawn_file_actions_adddup2(&fa, far, child_fd);
        for (struct proc *q = procs; err == 0 && q != NULL; q = q->next) {
            const int fd = fileno(q->stream);
            if (fd >= 0 && fd != child_fd) {
                err = posix_spawn_file_actions_addclose(&fa, fd);
            }
        }
        char *argv[] = { "sh", "-c", (char *)command, NULL };
        if (err == 0) {
            err = posix_spawn(&p->pid, SHELL_PATH, &fa, NULL, argv, environ);
        }
        posix_spawn_file_actions_destroy(&fa);
    }
    close(far);
    if (err == 0 && !cloexec && fcntl(near, F_SETFD, 0) != 0) {
        err = errno;
    }
    if (err == 0) {
        p->stream = fdopen(near, dir ? "w" : "r");
        if (p->stream == NULL) {
            err = errno;
        }
    }
    if (err != 0) {
        close(near);
        free(p);
        errno = err;
        return NULL;
    }
    p->next = procs;
    procs = p;
    return p->stream;
}

GREEN_WRAP FILE *popen(const char *command, const char *mode)
{
    green__ensure_init();
    green__fd_forget_all();    /* the shell inherits the fds */
    if (!green__on_green_kthread()) {
        return GREEN_REAL_FN(popen)(command, mode);
    }
    return open_proc(command, mode);
}

GREEN_WRAP int pclose(FILE *stream)
{
    green__ensure_init();
    struct proc **pp = &procs;
    const bool green = green__on_green_kthread();
    while (green && *pp != NULL && (*pp)->stream != stream) {
        pp = &(*pp)->next;
    }
    if (!green || *pp == NULL) {
        /* Not ours: glibc's popen, on another kernel thread. */
        green__stream_closing(stream);
        return GREEN_REAL_FN(pclose)(stream);
    }
    struct proc *p = *pp;
    *pp = p->next;
    const pid_t pid = p->pid;
    free(p);
    fclose(stream);
    int status;
    pid_t r;
    while ((r = waitpid(pid, &status, 0)) == -1 && errno == EINTR) {
    }
    return r == pid ? status : -1;
}
