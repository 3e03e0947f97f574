/* SPDX-License-Identifier: MIT */
/* connect-tcp: blocking TCP connects on 127.0.0.1 from several threads at
 * once, while another thread keeps running: connected, connected again
 * (EISCONN), refused (ECONNREFUSED), a bad address (EFAULT) and a bad
 * length (EINVAL). tests/socket.bats compares the transcript with the
 * native one and, under strace, checks that no file status flag of any
 * socket changed along the way.  The ticker's count is printed only once
 * it was joined; a connect that never returns is ended by the test's
 * timeout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "check.h"

enum { CONNECTORS = 8 };

static struct sockaddr_in listening, closed;

static void *connector(void *arg)
{
    (void)arg;
    const int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(c >= 0);
    const int r = connect(c, (struct sockaddr *)&listening, sizeof listening);
    const int e = errno;
    const int again = connect(c, (struct sockaddr *)&listening,
                              sizeof listening);
    const int e2 = errno;
    char line[128];
    snprintf(line, sizeof line, "connect: %d %s, again: %d %s\n", r,
             errno_name(r ? e : 0), again, errno_name(again ? e2 : 0));
    fputs(line, stdout);
    close(c);
    return NULL;
}

static void *ticker(void *arg)
{
    int *ticks = arg;
    for (int i = 0; i < 20; i++) {
        (*ticks)++;
        usleep(1000);
    }
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int ticks = 0;
    pthread_t tick;
    CHECK_RC(pthread_create(&tick, NULL, ticker, &ticks));

    const int l = socket(AF_INET, SOCK_STREAM, 0);
    listening = (struct sockaddr_in){ .sin_family = AF_INET,
                                      .sin_addr.s_addr =
                                          htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof listening;
    CHECK_OK(bind(l, (struct sockaddr *)&listening, sizeof listening));
    CHECK_OK(listen(l, CONNECTORS));
    CHECK_OK(getsockname(l, (struct sockaddr *)&listening, &len));

    pthread_t t[CONNECTORS];
    for (int i = 0; i < CONNECTORS; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, connector, NULL));
    }
    for (int i = 0; i < CONNECTORS; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }

    /* A port nobody listens on: bind one, note it, close it. */
    const int gone = socket(AF_INET, SOCK_STREAM, 0);
    closed = listening;
    closed.sin_port = 0;
    len = sizeof closed;
    CHECK_OK(bind(gone, (struct sockaddr *)&closed, sizeof closed));
    CHECK_OK(getsockname(gone, (struct sockaddr *)&closed, &len));
    close(gone);
    const int c = socket(AF_INET, SOCK_STREAM, 0);
    int r = connect(c, (struct sockaddr *)&closed, sizeof closed);
    printf("refused: %d %s\n", r, errno_name(r ? errno : 0));
    r = connect(c, (struct sockaddr *)1, sizeof closed);
    printf("bad address: %d %s\n", r, errno_name(r ? errno : 0));
    r = connect(c, (struct sockaddr *)&closed, 4096);
    printf("bad length: %d %s\n", r, errno_name(r ? errno : 0));
    close(c);
    close(l);
    CHECK_RC(pthread_join(tick, NULL));
    printf("the ticker ran: %d\n", ticks == 20);
    return check_exit_status();
}
