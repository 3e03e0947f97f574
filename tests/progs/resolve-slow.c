/* SPDX-License-Identifier: MIT */
/* resolve-slow DOMAIN GATE_DIR [N [idle]]: N threads (default 8, a
 * multiple of 8) resolve N different names under DOMAIN at once, which a
 * DNS server answers only once it holds queries for 8 different names at
 * the same time (tests/progs/slow-dns.py --gate GATE_DIR --gather 8): it
 * then writes GATE_DIR/gathered.R and answers that round once
 * GATE_DIR/release.R exists.
 *
 * The last thread uses gethostbyname_r, the one before gethostbyname, the
 * others getaddrinfo (AF_INET; the first AF_UNSPEC, which asks for A and
 * AAAA); one more name outside DOMAIN gets NXDOMAIN at once. Prints each
 * result (deterministic: the server answers hostN with 10.0.0.N).
 *
 * Nothing depends on timing. A watcher thread waits for each round's
 * gathered file: 8 lookups are then in flight at once (a process that made
 * them one after another would never get an answer: the resolver's
 * timeout, 20 s in the test's resolv.conf, fails it). In the first round
 * it sends SIGUSR1 to the first lookup's thread and, by setitimer, a
 * SIGALRM to the process (handlers without SA_RESTART), waits until both
 * handlers ran, and in each round reads the kernel thread count before it
 * writes the release file. Checks: the handlers ran once each and no
 * lookup failed because of them; no lookup returned before the first
 * release (each waited for the server); the watcher ran while they all
 * waited (it released them). On stderr, for the test to judge: the most
 * kernel threads /proc/self/status showed at a gathered round. With
 * "idle", main then waits until the process is down to one kernel thread
 * again (helper threads that end when idle; at most 30 s) and prints the
 * count.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <signal.h>
#include <sys/time.h>

#include "check.h"

#define MAX_LOOKUPS 64
#define GATHER 8

static const char *domain;
static const char *gate;
static int lookups = 8;
static int idle;
static int max_threads, alarms, usr1s, released, early;
static pthread_t first_lookup;
static char results[MAX_LOOKUPS + 1][256];

static int kernel_threads(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "Threads: %d", &n) == 1) {
            break;
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return n;
}

static void on_signal(int sig)
{
    ADD(sig == SIGALRM ? &alarms : &usr1s, 1);
}

/* Wait (polling every 10 ms, at most 30 s) until `path` exists. */
static int wait_for(const char *path)
{
    for (int i = 0; i < 3000; i++) {
        if (access(path, F_OK) == 0) {
            return 1;
        }
        usleep(10000);
    }
    fprintf(stderr, "resolve-slow: no %s after 30 s\n", path);
    CHECK(!"the server gathered the lookups");
    return 0;
}

static void *watcher(void *arg)
{
    (void)arg;
    for (int r = 1; r <= lookups / GATHER; r++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/gathered.%d", gate, r);
        if (!wait_for(path)) {
            return NULL;
        }
        if (r == 1) {
            /* Every lookup of this round waits for the server now. */
            CHECK_RC(pthread_kill(first_lookup, SIGUSR1));
            const struct itimerval soon = { .it_value = { 0, 1000 } };
            CHECK_OK(setitimer(ITIMER_REAL, &soon, NULL));
            for (int i = 0; i < 10000; i++) {
                if (LOAD(&alarms) > 0 && LOAD(&usr1s) > 0) {
                    break;
                }
                usleep(1000);
            }
        }
        const int n = kernel_threads();
        if (n > LOAD(&max_threads)) {
            STORE(&max_threads, n);
        }
        STORE(&released, r);
        snprintf(path, sizeof path, "%s/release.%d", gate, r);
        FILE *f = fopen(path, "w");
        CHECK(f != NULL);
        if (f != NULL) {
            fclose(f);
        }
    }
    return NULL;
}

static void *lookup(void *arg)
{
    const int i = (int)(long)arg;
    char name[128];
    snprintf(name, sizeof name, "host%d.%s", i + 1, domain);
    char *out = results[i];
    if (i == lookups - 1) {
        char buf[2048];
        struct hostent ent, *res = NULL;
        int herr = 0;
        const int r = gethostbyname_r(name, &ent, buf, sizeof buf, &res,
                                      &herr);
        char a[INET_ADDRSTRLEN] = "-";
        if (r == 0 && res != NULL) {
            inet_ntop(AF_INET, res->h_addr_list[0], a, sizeof a);
        }
        snprintf(out, 256, "gethostbyname_r %s: %s %s name %s", name,
                 errno_name(r), a, r == 0 && res ? res->h_name : "-");
    } else if (i == lookups - 2) {
        struct hostent *h = gethostbyname(name);
        char a[INET_ADDRSTRLEN] = "-";
        if (h != NULL) {
            inet_ntop(AF_INET, h->h_addr_list[0], a, sizeof a);
        }
        snprintf(out, 256, "gethostbyname %s: %s %s", name,
                 h ? "found" : "NULL", a);
    } else {
        struct addrinfo hints = { .ai_family = i == 0 ? AF_UNSPEC : AF_INET,
                                  .ai_socktype = SOCK_STREAM };
        struct addrinfo *res = NULL;
        const int r = getaddrinfo(name, "80", &hints, &res);
        char a[INET6_ADDRSTRLEN] = "-";
        if (r == 0) {
            const struct sockaddr_in *in = (const void *)res->ai_addr;
            inet_ntop(AF_INET, &in->sin_addr, a, sizeof a);
            freeaddrinfo(res);
        }
        snprintf(out, 256, "getaddrinfo %s: %s %s", name,
                 r == 0 ? "0" : gai_strerror(r), a);
    }
    if (LOAD(&released) == 0) {
        ADD(&early, 1);
        fprintf(stderr, "lookup %d returned before any release\n", i);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5
        || (argc >= 4 && (atoi(argv[3]) < GATHER || atoi(argv[3]) > MAX_LOOKUPS
                          || atoi(argv[3]) % GATHER != 0))
        || (argc == 5 && strcmp(argv[4], "idle") != 0)) {
        fprintf(stderr, "usage: resolve-slow DOMAIN GATE_DIR [N [idle]] "
                "(N a multiple of %d, at most %d)\n", GATHER, MAX_LOOKUPS);
        return 2;
    }
    domain = argv[1];
    gate = argv[2];
    if (argc >= 4) {
        lookups = atoi(argv[3]);
    }
    idle = argc == 5;
    struct sigaction sa = { .sa_handler = on_signal };  /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    CHECK_OK(sigaction(SIGALRM, &sa, NULL));
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));

    pthread_t watch, t[MAX_LOOKUPS];
    for (long i = 0; i < lookups; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, lookup, (void *)i));
        if (i == 0) {
            first_lookup = t[0];
        }
    }
    CHECK_RC(pthread_create(&watch, NULL, watcher, NULL));
    for (int i = 0; i < lookups; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }
    CHECK_RC(pthread_join(watch, NULL));

    /* A name the server does not know: NXDOMAIN, at once. */
    char other[128];
    snprintf(other, sizeof other, "nothing.not-%s", domain);
    struct addrinfo *res = NULL;
    const struct addrinfo hints = { .ai_family = AF_INET };
    const int r = getaddrinfo(other, NULL, &hints, &res);
    snprintf(results[lookups], sizeof results[lookups],
             "getaddrinfo %s: %s", other, r == 0 ? "0" : gai_strerror(r));
    if (r == 0) {
        freeaddrinfo(res);
    }

    for (int i = 0; i <= lookups; i++) {
        printf("%s\n", results[i]);
    }
    printf("alarm handler ran: %s\n", LOAD(&alarms) == 1 ? "once" : "no");
    printf("SIGUSR1 handler ran: %s\n", LOAD(&usr1s) == 1 ? "once" : "no");
    printf("lookups answered only once released: %s\n",
           LOAD(&early) == 0 ? "yes" : "no");
    CHECK_EQ(LOAD(&early), 0);
    if (idle) {
        /* Every thread is gone: so are, once idle, the helpers. */
        int n = kernel_threads();
        for (int i = 0; i < 300 && n != 1; i++) {
            usleep(100000);
            n = kernel_threads();
        }
        printf("kernel threads once the helpers were idle: %d\n", n);
    }
    fprintf(stderr, "%d lookups; max kernel threads %d\n", lookups,
            LOAD(&max_threads));
    return check_exit_status();
}
