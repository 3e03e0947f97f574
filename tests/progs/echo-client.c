/* SPDX-License-Identifier: MIT */
/* echo-client HOST PORT NTHREADS NBYTES [HOLD_FILE]: many echo clients.
 *
 * NTHREADS threads each connect to HOST:PORT (retrying a refused connect a
 * bounded number of times), then wait until every thread has connected.
 * With HOLD_FILE, main prints "connected N" and waits (at most 120 s) until
 * that file exists, so a test can inspect the process while all the
 * connections are open.  Then each thread sends NBYTES of its own pattern
 * in chunks, reads each chunk back, verifies every byte and closes.
 * stdout: "connected N", "verified N", "failed N"; stderr: a line
 * "client: peak_rss_kb=N wall_ms=N".  Exit status 0 iff all verified.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum { CHUNK = 4096, CONNECT_TRIES = 100 };

static struct sockaddr_in server;
static long nbytes;
static int nthreads;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t all_arrived = PTHREAD_COND_INITIALIZER;
static pthread_cond_t start = PTHREAD_COND_INITIALIZER;
static int arrived, connected, go, verified, failed;

static unsigned char pattern(long thread, long i)
{
    return (unsigned char)(thread * 31 + i * 7 + (i >> 8));
}

static int connect_with_retry(void)
{
    for (int attempt = 0; attempt < CONNECT_TRIES; attempt++) {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) {
            CHECK(fd >= 0);
            return -1;
        }
        if (connect(fd, (struct sockaddr *)&server, sizeof server) == 0) {
            return fd;
        }
        const int err = errno;
        close(fd);
        if (err != ECONNREFUSED && err != EAGAIN && err != EINTR) {
            errno = err;
            CHECK(!"connect");
            return -1;
        }
        usleep(20000);
    }
    CHECK(!"connect: retries exhausted");
    return -1;
}

static int write_all(int fd, const unsigned char *buf, size_t len)
{
    while (len > 0) {
        const ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return -1;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

static int read_full(int fd, unsigned char *buf, size_t len)
{
    while (len > 0) {
        const ssize_t r = read(fd, buf, len);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return -1;
        }
        buf += r;
        len -= (size_t)r;
    }
    return 0;
}

/* Send the pattern chunk by chunk and verify each echoed chunk. */
static int exchange(int fd, long me)
{
    unsigned char out[CHUNK], in[CHUNK];

    for (long done = 0; done < nbytes;) {
        const size_t n = (size_t)(nbytes - done < CHUNK ? nbytes - done
                                                         : CHUNK);
        for (size_t i = 0; i < n; i++) {
            out[i] = pattern(me, done + (long)i);
        }
        if (write_all(fd, out, n) < 0) {
            CHECK(!"write");
            return -1;
        }
        if (read_full(fd, in, n) < 0) {
            CHECK(!"read echo");
            return -1;
        }
        if (memcmp(in, out, n) != 0) {
            CHECK(!"echoed bytes differ from the bytes sent");
            return -1;
        }
        done += (long)n;
    }
    return 0;
}

static void *client(void *arg)
{
    const long me = (long)(intptr_t)arg;
    const int fd = connect_with_retry();

    pthread_mutex_lock(&lock);
    arrived++;
    connected += fd >= 0;
    if (arrived == nthreads) {
        pthread_cond_signal(&all_arrived);
    }
    while (!go) {
        pthread_cond_wait(&start, &lock);
    }
    pthread_mutex_unlock(&lock);

    const int ok = fd >= 0 && exchange(fd, me) == 0;
    if (fd >= 0) {
        close(fd);
    }
    pthread_mutex_lock(&lock);
    if (ok) {
        verified++;
    } else {
        failed++;
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

static long peak_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;

    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "VmHWM: %ld", &kb) == 1) {
            break;
        }
    }
    fclose(f);
    return kb;
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int main(int argc, char **argv)
{
    const long t0 = now_ms();

    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: %s HOST PORT NTHREADS NBYTES [HOLD_FILE]\n",
                argv[0]);
        return 2;
    }
    server.sin_family = AF_INET;
    server.sin_port = htons((uint16_t)atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) {
        fprintf(stderr, "%s: HOST must be an IPv4 address\n", argv[0]);
        return 2;
    }
    nthreads = atoi(argv[3]);
    nbytes = atol(argv[4]);
    if (nthreads < 1 || nbytes < 0) {
        fprintf(stderr, "%s: bad NTHREADS or NBYTES\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    pthread_t *threads = calloc((size_t)nthreads, sizeof *threads);
    int created = 0;
    CHECK(threads != NULL);
    for (; threads != NULL && created < nthreads; created++) {
        const int rc = pthread_create(&threads[created], NULL, client,
                                      (void *)(intptr_t)created);
        if (rc != 0) {
            check_fail(__FILE__, __LINE__, rc, "pthread_create #%d",
                       created);
            break;
        }
    }

    pthread_mutex_lock(&lock);
    if (created < nthreads) {
        /* Let the threads that exist proceed; they are all counted. */
        nthreads = created;
        if (arrived == nthreads) {
            pthread_cond_signal(&all_arrived);
        }
    }
    while (arrived < nthreads) {
        pthread_cond_wait(&all_arrived, &lock);
    }
    printf("connected %d\n", connected);
    fflush(stdout);
    pthread_mutex_unlock(&lock);

    if (argc == 6) {
        wait_for_file(argv[5], 120);
    }
    pthread_mutex_lock(&lock);
    go = 1;
    pthread_cond_broadcast(&start);
    pthread_mutex_unlock(&lock);

    for (int i = 0; i < created; i++) {
        CHECK_RC(pthread_join(threads[i], NULL));
    }
    free(threads);
    printf("verified %d\nfailed %d\n", verified, failed);
    fflush(stdout);
    fprintf(stderr, "client: peak_rss_kb=%ld wall_ms=%ld\n", peak_rss_kb(),
            now_ms() - t0);
    CHECK_EQ(verified, atoi(argv[3]));
    return check_exit_status();
}
