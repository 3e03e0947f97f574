/* SPDX-License-Identifier: MIT */
/* spawn N [PRELOAD]: posix_spawn /bin/true N times, waiting for each.
 *
 * With PRELOAD, each child's environment is ours plus LD_PRELOAD=PRELOAD
 * (replacing any LD_PRELOAD we have); this process itself is never
 * preloaded, so the difference between the two runs is what loading the
 * library costs a short-lived program.  Prints "us_per_spawn X" measured
 * with CLOCK_MONOTONIC.
 */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3 || atol(argv[1]) < 1) {
        fprintf(stderr, "usage: spawn N [PRELOAD]\n");
        return 2;
    }
    const long n = atol(argv[1]);
    size_t count = 0;
    while (environ[count]) {
        count++;
    }
    char **const envp = calloc(count + 2, sizeof(*envp));
    if (!envp) {
        perror("calloc");
        return 1;
    }
    size_t k = 0;
    for (size_t i = 0; i < count; i++) {
        if (strncmp(environ[i], "LD_PRELOAD=", 11)) {
            envp[k++] = environ[i];
        }
    }
    char *preload = NULL;
    if (argc == 3) {
        if (asprintf(&preload, "LD_PRELOAD=%s", argv[2]) < 0) {
            perror("asprintf");
            return 1;
        }
        envp[k++] = preload;
    }
    envp[k] = NULL;

    char *const child_argv[] = {"true", NULL};
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++) {
        pid_t pid;
        const int err =
            posix_spawn(&pid, "/bin/true", NULL, NULL, child_argv, envp);
        int status;
        if (err || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0) {
            fprintf(stderr, "spawn: child %ld failed (%s)\n", i,
                    err ? strerror(err) : "bad exit");
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    const double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
    printf("us_per_spawn %.1f\n", ns / n / 1000.0);
    free(preload);
    free(envp);
    return 0;
}
