/* SPDX-License-Identifier: MIT */
/* nss-before-threads [HOLD_FILE]: user and group lookups made before the
 * first thread load NSS modules with dlopen, some with thread-local
 * variables of their own (libnss_systemd.so.2 when /etc/nsswitch.conf
 * lists systemd); threads started afterwards still block, exchange data
 * and look users up.
 *
 * main looks up root, a user and a group that exist nowhere (so NSS asks
 * every module listed for passwd and group), and root's groups with
 * getgrouplist; as root it also calls initgroups and checks that the
 * process's groups are those, and prints the same line either way.  It
 * prints which libnss_* modules are loaded and which have a TLS segment.
 * Then THREADS threads pass a message round a ring of pipes, LAPS laps;
 * each keeps a __thread tally and checks it after every hop, and in the
 * second lap some of them look root up again.  Between the first and the
 * second lap main prints "parked THREADS" and, when HOLD_FILE is given,
 * waits for it, so that a test can count the process's kernel threads.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <link.h>
#include <pthread.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "check.h"

enum { THREADS = 20, LAPS = 4, MAXGROUPS = 256 };

static const char *const NO_USER = "libgreen-no-such-user-x9q";
static const char *const NO_GROUP = "libgreen-no-such-group-x9q";

struct msg {
    int hop;
    long sum;
};

/* ring[i] feeds thread i; ring[THREADS] feeds main. */
static int ring[THREADS + 1][2];
static __thread long tally;
static __thread int my_id = -1;
static int looked_up_root[THREADS];

static int cmp_gid(const void *a, const void *b)
{
    const gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;

    return x < y ? -1 : x > y;
}

/* Collect the libnss_* modules loaded so far. */
struct modules {
    char list[1024];
};

static int add_module(struct dl_phdr_info *info, size_t size, void *data)
{
    struct modules *m = data;
    const char *base = strrchr(info->dlpi_name, '/');

    (void)size;
    base = base ? base + 1 : info->dlpi_name;
    if (strncmp(base, "libnss_", 7) != 0) {
        return 0;
    }
    int tls = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        if (info->dlpi_phdr[i].p_type == PT_TLS) {
            tls = 1;
        }
    }
    size_t len = strlen(m->list);
    snprintf(m->list + len, sizeof m->list - len, " %s%s", base,
             tls ? " (TLS)" : "");
    return 0;
}

static void read_msg(int fd, struct msg *msg)
{
    size_t got = 0;

    while (got < sizeof *msg) {
        ssize_t r = read(fd, (char *)msg + got, sizeof *msg - got);
        if (r == -1 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            check_fail(__FILE__, __LINE__, errno, "read from ring: %zd", r);
            exit(1);
        }
        got += (size_t)r;
    }
}

static void write_msg(int fd, const struct msg *msg)
{
    ssize_t r;

    do {
        r = write(fd, msg, sizeof *msg);
    } while (r == -1 && errno == EINTR);
    CHECK_EQ(r, (ssize_t)sizeof *msg);
}

/* getpwnam_r and getgrnam_r of root from a thread. */
static int lookup_root(void)
{
    char buf[4096];
    struct passwd pw, *pwp = NULL;
    struct group gr, *grp = NULL;
    int ok = 1;

    if (getpwnam_r("root", &pw, buf, sizeof buf, &pwp) != 0 || !pwp ||
        pwp->pw_uid != 0) {
        ok = 0;
    }
    if (getgrnam_r("root", &gr, buf, sizeof buf, &grp) != 0 || !grp ||
        grp->gr_gid != 0) {
        ok = 0;
    }
    if (getpwnam_r(NO_USER, &pw, buf, sizeof buf, &pwp) != 0 || pwp) {
        ok = 0;
    }
    CHECK(ok);
    return ok;
}

static void *ring_thread(void *arg)
{
    const int id = (int)(intptr_t)arg;

    CHECK_EQ(tally, 0);
    CHECK_EQ(my_id, -1);
    my_id = id;
    for (int lap = 0; lap < LAPS; lap++) {
        struct msg msg;
        read_msg(ring[id][0], &msg);
        CHECK_EQ(msg.hop, lap * THREADS + id);
        CHECK_EQ(my_id, id);
        CHECK_EQ(tally, (long)lap * (id + 1));
        tally += id + 1;
        msg.sum += (long)(id + 1) * (lap + 1);
        msg.hop++;
        if (lap == 1 && id % 7 == 3) {
            looked_up_root[id] = 1 + lookup_root();
        }
        write_msg(ring[id + 1][1], &msg);
    }
    CHECK_EQ(tally, (long)LAPS * (id + 1));
    return (void *)(intptr_t)tally;
}

int main(int argc, char **argv)
{
    const char *hold = argc > 1 ? argv[1] : NULL;
    pthread_t threads[THREADS];

    /* Lookups before any thread exists. */
    struct passwd *pw = getpwnam("root");
    CHECK(pw != NULL);
    if (pw != NULL) {
        printf("getpwnam root: uid %d gid %d\n", (int)pw->pw_uid,
               (int)pw->pw_gid);
    }
    errno = 0;
    pw = getpwnam(NO_USER);
    printf("getpwnam %s: %s\n", NO_USER, pw ? "found" : "not found");
    struct group *gr = getgrnam(NO_GROUP);
    printf("getgrnam %s: %s\n", NO_GROUP, gr ? "found" : "not found");
    gr = getgrgid(0);
    printf("getgrgid 0: %s\n", gr ? gr->gr_name : "not found");

    gid_t groups[MAXGROUPS];
    int ngroups = MAXGROUPS;
    CHECK(getgrouplist("root", 0, groups, &ngroups) != -1);
    qsort(groups, (size_t)ngroups, sizeof groups[0], cmp_gid);
    printf("getgrouplist root: %d group(s):", ngroups);
    for (int i = 0; i < ngroups; i++) {
        printf(" %d", (int)groups[i]);
    }
    printf("\n");

    /* initgroups needs privilege; the line is the same without it. */
    int consistent = 1;
    if (getuid() == 0) {
        CHECK_OK(initgroups("root", 0));
        gid_t now[MAXGROUPS];
        int n = getgroups(MAXGROUPS, now);
        CHECK(n != -1);
        if (n >= 0) {
            qsort(now, (size_t)n, sizeof now[0], cmp_gid);
            for (int i = 0; i < ngroups; i++) {
                if (bsearch(&groups[i], now, (size_t)n, sizeof now[0],
                            cmp_gid) == NULL) {
                    consistent = 0;
                }
            }
        }
        CHECK(consistent);
    }
    printf("initgroups root: %s\n",
           consistent ? "groups as getgrouplist says" : "BAD");

    struct modules mods = { "" };
    dl_iterate_phdr(add_module, &mods);
    printf("nss modules:%s\n", mods.list[0] ? mods.list : " none");
    fflush(stdout);

    /* Now the threads. */
    for (int i = 0; i <= THREADS; i++) {
        CHECK_OK(pipe(ring[i]));
    }
    for (int i = 0; i < THREADS; i++) {
        CHECK_RC(pthread_create(&threads[i], NULL, ring_thread,
                                (void *)(intptr_t)i));
    }
    struct msg msg = { 0, 0 };
    for (int lap = 0; lap < LAPS; lap++) {
        write_msg(ring[0][1], &msg);
        read_msg(ring[THREADS][0], &msg);
        printf("lap %d: hop %d sum %ld\n", lap, msg.hop, msg.sum);
        fflush(stdout);
        if (lap == 0) {
            printf("parked %d\n", THREADS);
            fflush(stdout);
            if (hold != NULL) {
                wait_for_file(hold, 120);
            }
        }
    }
    long total = 0;
    for (int i = 0; i < THREADS; i++) {
        void *ret = NULL;
        CHECK_RC(pthread_join(threads[i], &ret));
        total += (long)(intptr_t)ret;
    }
    printf("tallies: %ld\n", total);
    for (int i = 0; i < THREADS; i++) {
        if (looked_up_root[i]) {
            printf("thread %d: root lookup %s\n", i,
                   looked_up_root[i] == 2 ? "ok" : "BAD");
        }
    }
    CHECK_EQ(tally, 0);
    CHECK_EQ(my_id, -1);
    return check_exit_status();
}
