/* SPDX-License-Identifier: MIT */
/* before-threads: a program that never creates a thread sees every call
 * behave as natively, signal handlers included.
 *
 * A handler for SIGUSR1 posts the semaphore the program waits on:
 *  - `sem-wait`: installed without SA_RESTART, it makes sem_wait fail
 *    with EINTR, and the next sem_wait takes its post at once;
 *  - `sem-restart`: installed with SA_RESTART, the kernel restarts the
 *    wait glibc's sem_wait makes, which then takes the post;
 *  - `sem-timedwait`: sem_timedwait (an hour's deadline) and
 *    sem_clockwait fail with EINTR, with or without SA_RESTART, and the
 *    next one takes the post.
 *
 * No step depends on timing: the signal comes from a child process, sent
 * once the program said (through a pipe) that it is about to wait and
 * /proc shows it asleep (state S): it sleeps nowhere else between the two.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "handshake.h"

static sem_t sem;
static volatile sig_atomic_t handled;

static void on_signal(int sig)
{
    (void)sig;
    handled++;
    sem_post(&sem);
}

static void install(int flags)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
}

/* Fork a child that, once told through the pipe that this process is
 * about to wait, sends SIGUSR1 when /proc shows it asleep. Returns its
 * pid; `*tell` is the pipe's write end. */
static pid_t start_sender(int *tell)
{
    int p[2];

    CHECK_OK(pipe(p));
    const pid_t parent = getpid();
    const pid_t child = fork();
    CHECK(child != -1);
    if (child == 0) {
        char c;
        close(p[1]);
        while (read(p[0], &c, 1) == 1) {
            while (task_state(parent, parent) != 'S') {
                usleep(200);
            }
            kill(parent, SIGUSR1);
        }
        _exit(0);
    }
    close(p[0]);
    *tell = p[1];
    return child;
}

static void about_to_wait(int tell)
{
    CHECK_EQ(write(tell, "w", 1), 1);
}

static void stop_sender(pid_t child, int tell)
{
    int st;

    close(tell);
    CHECK_EQ(waitpid(child, &st, 0), child);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static struct timespec in_an_hour(clockid_t clock)
{
    struct timespec ts;

    CHECK_OK(clock_gettime(clock, &ts));
    ts.tv_sec += 3600;
    return ts;
}

static void section_sem_wait(int flags)
{
    int tell;

    install(flags);
    CHECK_OK(sem_init(&sem, 0, 0));
    const pid_t child = start_sender(&tell);
    about_to_wait(tell);
    REPORT("sem_wait", sem_wait(&sem));
    printf("handler ran: %d\n", (int)handled);
    if (handled == 1 && flags == 0) {
        REPORT_ERRNO("sem_wait again", sem_wait(&sem), 0);
    }
    REPORT_ERRNO("sem_trywait", sem_trywait(&sem), EAGAIN);
    stop_sender(child, tell);
    CHECK_OK(sem_destroy(&sem));
}

static void section_sem_timedwait(void)
{
    static const int flag_sets[] = { 0, SA_RESTART };
    int tell;

    CHECK_OK(sem_init(&sem, 0, 0));
    const pid_t child = start_sender(&tell);
    for (size_t i = 0; i < 2; i++) {
        printf("%s:\n", flag_sets[i] ? "SA_RESTART" : "no SA_RESTART");
        install(flag_sets[i]);
        struct timespec ts = in_an_hour(CLOCK_REALTIME);
        about_to_wait(tell);
        REPORT_ERRNO("  sem_timedwait", sem_timedwait(&sem, &ts), EINTR);
        REPORT_ERRNO("  sem_timedwait again", sem_timedwait(&sem, &ts), 0);
        ts = in_an_hour(CLOCK_MONOTONIC);
        about_to_wait(tell);
        REPORT_ERRNO("  sem_clockwait", sem_clockwait(&sem, CLOCK_MONOTONIC,
                                                      &ts), EINTR);
        REPORT_ERRNO("  sem_clockwait again",
                     sem_clockwait(&sem, CLOCK_MONOTONIC, &ts), 0);
    }
    printf("handler ran: %d\n", (int)handled);
    stop_sender(child, tell);
    CHECK_OK(sem_destroy(&sem));
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && strcmp(argv[1], "sem-wait") == 0) {
        section_sem_wait(0);
    } else if (argc == 2 && strcmp(argv[1], "sem-restart") == 0) {
        section_sem_wait(SA_RESTART);
    } else if (argc == 2 && strcmp(argv[1], "sem-timedwait") == 0) {
        section_sem_timedwait();
    } else {
        fprintf(stderr, "usage: %s sem-wait|sem-restart|sem-timedwait\n",
                argv[0]);
        return 2;
    }
    return check_exit_status();
}
