/* SPDX-License-Identifier: MIT */
/* resolve-slow DOMAIN DELAY_MS [N [IDLE_S]]: N threads (default 8) resolve
 * N different names under DOMAIN at once, which a DNS server answers only
 * after DELAY_MS each (tests/progs/slow-dns.py), while a ticker thread
 * counts 5 ms sleeps, a SIGUSR1 goes to the first lookup's thread and a
 * SIGALRM to the process (handlers without SA_RESTART) in the middle.
 *
 * The last thread uses gethostbyname_r, the one before gethostbyname, the
 * others getaddrinfo (AF_INET; the first AF_UNSPEC, which asks for A and
 * AAAA); one more name outside DOMAIN gets NXDOMAIN at once. Prints each
 * result (deterministic: the server answers hostN with 10.0.0.N). Checks:
 * every lookup took at least the delay; all of them together took less
 * than N/2 delays (they ran at once); the ticker ticked while they waited;
 * the handlers ran and no lookup failed because of them. On stderr,
 * for the test to judge: how long the lookups took and the most kernel
 * threads /proc/self/status showed while they were in flight. With
 * IDLE_S, main then sleeps that long alone and prints the kernel thread
 * count.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <signal.h>
#include <sys/time.h>

#include "check.h"

#define MAX_LOOKUPS 64

static const char *domain;
static long delay_ms;
static int lookups = 8;
static int idle_s;
static int ticks, in_flight, max_threads, alarms, usr1s;
static int stop;
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

static void *ticker(void *arg)
{
    (void)arg;
    while (!LOAD(&stop)) {
        usleep(5000);
        if (LOAD(&in_flight) == lookups) {
            ADD(&ticks, 1);
            const int n = kernel_threads();
            if (n > LOAD(&max_threads)) {
                STORE(&max_threads, n);
            }
        }
    }
    return NULL;
}

static void on_signal(int sig)
{
    ADD(sig == SIGALRM ? &alarms : &usr1s, 1);
}

static void *lookup(void *arg)
{
    const int i = (int)(long)arg;
    char name[128];
    snprintf(name, sizeof name, "host%d.%s", i + 1, domain);
    char *out = results[i];
    ADD(&in_flight, 1);
    const long long start = now_ns(CLOCK_MONOTONIC);
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
    const long long took = (now_ns(CLOCK_MONOTONIC) - start) / 1000000;
    if (took < delay_ms * 9 / 10) {
        CHECK(!"a lookup took at least the server's delay");
        fprintf(stderr, "lookup %d took %lld ms\n", i, took);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5
        || (argc >= 4 && (atoi(argv[3]) < 2 || atoi(argv[3]) > MAX_LOOKUPS))) {
        fprintf(stderr, "usage: resolve-slow DOMAIN DELAY_MS [2..%d "
                "[IDLE_S]]\n", MAX_LOOKUPS);
        return 2;
    }
    domain = argv[1];
    delay_ms = atol(argv[2]);
    if (argc >= 4) {
        lookups = atoi(argv[3]);
    }
    if (argc == 5) {
        idle_s = atoi(argv[4]);
    }
    struct sigaction sa = { .sa_handler = on_signal };  /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    CHECK_OK(sigaction(SIGALRM, &sa, NULL));
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));

    pthread_t tick, t[MAX_LOOKUPS];
    CHECK_RC(pthread_create(&tick, NULL, ticker, NULL));
    const long long start = now_ns(CLOCK_MONOTONIC);
    for (long i = 0; i < lookups; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, lookup, (void *)i));
    }
    struct itimerval half = { .it_value = { 0, delay_ms * 1000 / 2 } };
    CHECK_OK(setitimer(ITIMER_REAL, &half, NULL));
    /* And one for the first lookup's own thread while it waits. */
    usleep(delay_ms * 1000 / 3);
    CHECK_RC(pthread_kill(t[0], SIGUSR1));
    for (int i = 0; i < lookups; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }
    const long long took = (now_ns(CLOCK_MONOTONIC) - start) / 1000000;
    const int ticked = LOAD(&ticks);
    STORE(&stop, 1);
    CHECK_RC(pthread_join(tick, NULL));

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
    if (idle_s > 0) {
        /* Every thread is gone: so is, after a while, every helper. */
        sleep(idle_s);
        printf("kernel threads %d s later: %d\n", idle_s, kernel_threads());
    }
    /* All at once: far less than N delays one after another. */
    CHECK(took < delay_ms * lookups / 2);
    /* 5 ms ticks while all lookups waited DELAY_MS. */
    CHECK(ticked >= delay_ms / 5 / 4);
    fprintf(stderr, "%d lookups took %lld ms; ticks while waiting %d; "
            "max kernel threads %d\n", lookups, took, ticked,
            LOAD(&max_threads));
    return check_exit_status();
}
