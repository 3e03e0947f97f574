/* SPDX-License-Identifier: MIT */
/* threads-setxid: credential changes made by one thread apply to the whole
 * process (glibc signals every other thread to make the same change).
 *
 * THREADS threads each set the real and effective ids to the ones the
 * process has (allowed for any user), and one bad call must fail with
 * EINVAL. When run as root, one thread also switches the effective uid
 * and gid to 65534 and main checks that it sees them, then back. Prints
 * results that do not depend on the user running it.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "check.h"

enum { THREADS = 4 };

static int ok_calls;

static void *same_ids(void *arg)
{
    (void)arg;
    usleep(1000);
    int ok = setgid(getgid()) == 0 && setuid(getuid()) == 0 &&
             setregid(getgid(), getegid()) == 0 &&
             setreuid(getuid(), geteuid()) == 0 &&
             setresgid(-1, -1, -1) == 0 && setresuid(-1, -1, -1) == 0 &&
             setegid(getegid()) == 0 && seteuid(geteuid()) == 0;
    ADD(&ok_calls, ok);
    return NULL;
}

static void *switch_effective(void *arg)
{
    (void)arg;
    CHECK_OK(setegid(65534));
    CHECK_OK(seteuid(65534));
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, same_ids, NULL));
    }
    for (int i = 0; i < THREADS; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }
    printf("threads that set the ids they have: %d of %d\n", ok_calls,
           THREADS);
    CHECK_EQ(ok_calls, THREADS);
    CHECK_ERRNO(setuid((uid_t)-1), EINVAL);
    printf("setuid(-1): EINVAL\n");
    if (geteuid() == 0) {
        gid_t groups[64];
        const int n = getgroups(64, groups);
        CHECK(n >= 0);
        CHECK_OK(setgroups((size_t)n, groups));
        pthread_t other;
        CHECK_RC(pthread_create(&other, NULL, switch_effective, NULL));
        CHECK_RC(pthread_join(other, NULL));
        const int seen = geteuid() == 65534 && getegid() == 65534;
        CHECK_OK(seteuid(0));
        CHECK_OK(setegid(0));
        CHECK(seen);
        if (!seen) {
            return check_exit_status();
        }
    }
    printf("a thread's effective ids are main's too\n");
    return check_exit_status();
}
