/* SPDX-License-Identifier: MIT */
/* resolve-calls: name resolution from several threads at once.
 *
 * WORKERS threads each run the same list of lookups at the same time:
 * getaddrinfo of "localhost", "127.0.0.1" and "::1" with various hints and
 * services (and EAI_SERVICE, EAI_BADFLAGS, EAI_NONAME), getnameinfo
 * (numeric and not, EAI_OVERFLOW), gethostbyname, gethostbyname2,
 * gethostbyaddr and their _r forms (ERANGE for a small buffer, and where
 * in the program's buffer glibc put each result). Only names in
 * /etc/hosts and numeric addresses are used, so no DNS server is asked.
 * Each worker writes its transcript to memory; main prints the first and
 * checks the others are the same. main's own h_errno stays as it set it.
 * Then a child of fork looks a name up, and so does the parent again.
 * (That other threads run while a lookup waits is resolve-slow's to show:
 * these lookups do not wait for anything.)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "check.h"

#define WORKERS 4

/* The non-_r calls return storage glibc shares between all threads: a
 * correct program copies the result out under a lock of its own. */
static pthread_mutex_t static_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *gai_name(int e)
{
    switch (e) {
    case 0: return "0";
    case EAI_BADFLAGS: return "EAI_BADFLAGS";
    case EAI_NONAME: return "EAI_NONAME";
    case EAI_AGAIN: return "EAI_AGAIN";
    case EAI_FAIL: return "EAI_FAIL";
    case EAI_FAMILY: return "EAI_FAMILY";
    case EAI_SOCKTYPE: return "EAI_SOCKTYPE";
    case EAI_SERVICE: return "EAI_SERVICE";
    case EAI_MEMORY: return "EAI_MEMORY";
    case EAI_SYSTEM: return "EAI_SYSTEM";
    case EAI_OVERFLOW: return "EAI_OVERFLOW";
    case EAI_NODATA: return "EAI_NODATA";
    case EAI_ADDRFAMILY: return "EAI_ADDRFAMILY";
    default: return "EAI_?";
    }
}

static const char *h_name_of(int h)
{
    switch (h) {
    case 0: return "0";
    case HOST_NOT_FOUND: return "HOST_NOT_FOUND";
    case TRY_AGAIN: return "TRY_AGAIN";
    case NO_RECOVERY: return "NO_RECOVERY";
    case NO_DATA: return "NO_DATA";
    case NETDB_INTERNAL: return "NETDB_INTERNAL";
    default: return "H?";
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sockaddr_text(const struct sockaddr *sa, char *out, size_t len)
{
    char a[INET6_ADDRSTRLEN] = "?";
    int port = -1;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, a, sizeof a);
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof a);
        port = ntohs(in6->sin6_port);
    }
    snprintf(out, len, "%s port %d", a, port);
}

/* getaddrinfo: the result code, errno for EAI_SYSTEM, and the list sorted
 * (the order of equal-preference entries is not the point here). */
static void gai(FILE *o, const char *node, const char *serv, int flags,
                int family, int socktype)
{
    struct addrinfo hints = { .ai_flags = flags, .ai_family = family,
                              .ai_socktype = socktype };
    struct addrinfo *res = (struct addrinfo *)&hints;  /* untouched? */
    errno = 0;
    const int r = getaddrinfo(node, serv, &hints, &res);
    const int e = errno;
    fprintf(o, "getaddrinfo(%s, %s, flags %#x family %d socktype %d): %s",
            node ? node : "NULL", serv ? serv : "NULL", flags, family,
            socktype, gai_name(r));
    if (r == EAI_SYSTEM) {
        fprintf(o, " errno %s", errno_name(e));
    }
    fprintf(o, "\n");
    if (r != 0) {
        CHECK(res == (struct addrinfo *)&hints);
        return;
    }
    char *lines[64];
    int n = 0;
    for (struct addrinfo *p = res; p != NULL && n < 64; p = p->ai_next) {
        char a[128], line[256];
        sockaddr_text(p->ai_addr, a, sizeof a);
        snprintf(line, sizeof line, "  family %d socktype %d protocol %d "
                 "addrlen %u %s canon %s", p->ai_family, p->ai_socktype,
                 p->ai_protocol, (unsigned)p->ai_addrlen, a,
                 p->ai_canonname ? p->ai_canonname : "-");
        lines[n++] = strdup(line);
    }
    qsort(lines, n, sizeof *lines, cmp_str);
    for (int i = 0; i < n; i++) {
        fprintf(o, "%s\n", lines[i]);
        free(lines[i]);
    }
    freeaddrinfo(res);
}

static void gni(FILE *o, const char *addr, int port, socklen_t hostlen,
                socklen_t servlen, int flags)
{
    struct sockaddr_in in = { .sin_family = AF_INET,
                              .sin_port = htons(port) };
    inet_pton(AF_INET, addr, &in.sin_addr);
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    memset(host, 'x', sizeof host);
    memset(serv, 'y', sizeof serv);
    errno = 0;
    const int r = getnameinfo((struct sockaddr *)&in, sizeof in,
                              hostlen ? host : NULL, hostlen,
                              servlen ? serv : NULL, servlen, flags);
    const int e = errno;
    /* The bytes past the string must be as the call left them. */
    int host_x = 0, serv_y = 0;
    for (size_t i = 0; i < sizeof host; i++) {
        host_x += host[i] == 'x';
    }
    for (size_t i = 0; i < sizeof serv; i++) {
        serv_y += serv[i] == 'y';
    }
    fprintf(o, "getnameinfo(%s:%d, hostlen %u, servlen %u, flags %#x): %s",
            addr, port, (unsigned)hostlen, (unsigned)servlen, flags,
            gai_name(r));
    if (r == EAI_SYSTEM) {
        fprintf(o, " errno %s", errno_name(e));
    }
    fprintf(o, " host %.*s serv %.*s untouched %d %d\n",
            r == 0 && hostlen ? (int)strnlen(host, hostlen) : 1,
            r == 0 && hostlen ? host : "-",
            r == 0 && servlen ? (int)strnlen(serv, servlen) : 1,
            r == 0 && servlen ? serv : "-", host_x, serv_y);
}

/* A hostent, and where its strings and arrays are in `buf` (-1: not). */
static void hostent_text(FILE *o, const struct hostent *h, const char *buf,
                         size_t len)
{
#define OFF(p) (buf != NULL && (const char *)(p) >= buf                     \
                && (const char *)(p) < buf + len                            \
                ? (long)((const char *)(p) - buf) : -1L)
    fprintf(o, "  name %s @%ld type %d length %d aliases @%ld",
            h->h_name, OFF(h->h_name), h->h_addrtype, h->h_length,
            OFF(h->h_aliases));
    for (char **a = h->h_aliases; *a != NULL; a++) {
        fprintf(o, " %s @%ld", *a, OFF(*a));
    }
    fprintf(o, " addrs @%ld", OFF(h->h_addr_list));
    for (char **a = h->h_addr_list; *a != NULL; a++) {
        char t[INET6_ADDRSTRLEN];
        inet_ntop(h->h_addrtype, *a, t, sizeof t);
        fprintf(o, " %s @%ld", t, OFF(*a));
    }
    fprintf(o, "\n");
#undef OFF
}

static void hb_static(FILE *o, const char *label, struct hostent *h, int e,
                      int herr)
{
    fprintf(o, "%s: %s h_errno %s errno %s\n", label, h ? "found" : "NULL",
            h_name_of(h ? 0 : herr), h ? "-" : errno_name(e));
    if (h != NULL) {
        hostent_text(o, h, NULL, 0);
    }
}

static void hb_calls(FILE *o)
{
    const struct in_addr lo = { htonl(INADDR_LOOPBACK) };

    pthread_mutex_lock(&static_lock);
    errno = 0;
    struct hostent *h = gethostbyname("localhost");
    hb_static(o, "gethostbyname(localhost)", h, errno, h_errno);
    errno = 0;
    h = gethostbyname2("localhost", AF_INET);
    hb_static(o, "gethostbyname2(localhost, AF_INET)", h, errno, h_errno);
    errno = 0;
    h = gethostbyaddr(&lo, sizeof lo, AF_INET);
    hb_static(o, "gethostbyaddr(127.0.0.1)", h, errno, h_errno);
    errno = 0;
    h = gethostbyaddr(&lo, 3, AF_INET);
    hb_static(o, "gethostbyaddr(127.0.0.1, len 3)", h, errno, h_errno);
    errno = 0;
    h = gethostbyname2("localhost", 12345);
    hb_static(o, "gethostbyname2(localhost, family 12345)", h, errno,
              h_errno);
    pthread_mutex_unlock(&static_lock);

    static const size_t sizes[] = { 8, 64, 1024 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char buf[1024] __attribute__((aligned(16)));
        struct hostent ent, *res = &ent;
        int herr = 12345;
        memset(buf, 0, sizeof buf);
        errno = 0;
        int r = gethostbyname_r("localhost", &ent, buf, sizes[i], &res,
                                &herr);
        fprintf(o, "gethostbyname_r(localhost, buflen %zu): %s result %s "
                "h_errno %s errno %s\n", sizes[i], errno_name(r),
                res == &ent ? "ret" : res == NULL ? "NULL" : "?",
                h_name_of(herr), errno_name(errno));
        if (r == 0 && res == &ent) {
            hostent_text(o, res, buf, sizes[i]);
        }
        res = &ent;
        herr = 12345;
        errno = 0;
        r = gethostbyname2_r("localhost", AF_INET, &ent, buf, sizes[i], &res,
                             &herr);
        fprintf(o, "gethostbyname2_r(localhost, AF_INET, buflen %zu): %s "
                "result %s h_errno %s errno %s\n", sizes[i], errno_name(r),
                res == &ent ? "ret" : res == NULL ? "NULL" : "?",
                h_name_of(herr), errno_name(errno));
        if (r == 0 && res == &ent) {
            hostent_text(o, res, buf, sizes[i]);
        }
        res = &ent;
        herr = 12345;
        errno = 0;
        r = gethostbyaddr_r(&lo, sizeof lo, AF_INET, &ent, buf, sizes[i],
                            &res, &herr);
        fprintf(o, "gethostbyaddr_r(127.0.0.1, buflen %zu): %s result %s "
                "h_errno %s errno %s\n", sizes[i], errno_name(r),
                res == &ent ? "ret" : res == NULL ? "NULL" : "?",
                h_name_of(herr), errno_name(errno));
        if (r == 0 && res == &ent) {
            hostent_text(o, res, buf, sizes[i]);
        }
    }
}

static void *worker(void *arg)
{
    char **text = arg;
    size_t len;
    FILE *o = open_memstream(text, &len);
    if (o == NULL) {
        CHECK(!"open_memstream");
        return NULL;
    }
    gai(o, "localhost", NULL, 0, AF_UNSPEC, 0);
    gai(o, "localhost", "http", 0, AF_INET, SOCK_STREAM);
    gai(o, "localhost", "http", AI_CANONNAME, AF_INET, SOCK_STREAM);
    gai(o, "localhost", "8080", 0, AF_UNSPEC, SOCK_DGRAM);
    gai(o, "127.0.0.1", "80", AI_NUMERICHOST, AF_UNSPEC, 0);
    gai(o, "127.0.0.1", "http", AI_CANONNAME, AF_INET, SOCK_STREAM);
    gai(o, "::1", "8080", 0, AF_INET6, SOCK_DGRAM);
    gai(o, "::1", "8080", AI_NUMERICHOST, AF_INET, 0);
    gai(o, NULL, "http", AI_PASSIVE, AF_UNSPEC, SOCK_STREAM);
    gai(o, NULL, "5000", AI_PASSIVE, AF_INET6, SOCK_STREAM);
    gai(o, NULL, "5000", 0, AF_INET, SOCK_DGRAM);
    gai(o, "localhost", "no-such-service-here", 0, AF_UNSPEC, 0);
    gai(o, "localhost", "http", 0x10000, AF_UNSPEC, 0);
    gai(o, NULL, NULL, 0, AF_UNSPEC, 0);
    gai(o, NULL, "http", AI_CANONNAME, AF_UNSPEC, 0);
    gai(o, "localhost", "http", 0, 12345, 0);
    gai(o, "no-such-host-in-etc-hosts", "80", AI_NUMERICHOST, AF_UNSPEC, 0);
    gai(o, "localhost", "http", AI_NUMERICSERV, AF_UNSPEC, SOCK_STREAM);
    gni(o, "127.0.0.1", 80, NI_MAXHOST, NI_MAXSERV, NI_NUMERICHOST);
    gni(o, "127.0.0.1", 80, NI_MAXHOST, NI_MAXSERV, 0);
    gni(o, "127.0.0.1", 80, NI_MAXHOST, NI_MAXSERV, NI_NAMEREQD);
    gni(o, "127.0.0.1", 80, NI_MAXHOST, 0, NI_NUMERICHOST);
    gni(o, "127.0.0.1", 80, 0, NI_MAXSERV, 0);
    gni(o, "127.0.0.1", 80, 4, NI_MAXSERV, 0);
    gni(o, "127.0.0.1", 80, NI_MAXHOST, 2, 0);
    gni(o, "127.0.0.1", 80, NI_MAXHOST, NI_MAXSERV, NI_NUMERICSERV);
    gni(o, "127.0.0.1", 80, NI_MAXHOST, NI_MAXSERV, NI_DGRAM);
    hb_calls(o);
    fclose(o);
    return NULL;
}

int main(void)
{
    pthread_t w[WORKERS];
    char *text[WORKERS] = { 0 };
    h_errno = 42;                   /* thread-local: the workers' are theirs */
    for (int i = 0; i < WORKERS; i++) {
        CHECK_RC(pthread_create(&w[i], NULL, worker, &text[i]));
    }
    for (int i = 0; i < WORKERS; i++) {
        CHECK_RC(pthread_join(w[i], NULL));
    }
    printf("main's h_errno after the workers' lookups: %d\n", h_errno);

    /* The child of a fork has none of its parent's threads: it looks a
     * name up as any process does. The parent, its helpers or threads
     * still there, goes on looking up. */
    fflush(stdout);
    const pid_t pid = fork();
    if (pid == 0) {
        const struct addrinfo hints = { .ai_family = AF_INET,
                                        .ai_socktype = SOCK_STREAM };
        struct addrinfo *res = NULL;
        const int r = getaddrinfo("localhost", "http", &hints, &res);
        _exit(r == 0 && res != NULL ? 0 : 1);
    }
    int status = -1;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    printf("child of fork: getaddrinfo(localhost, http) exit status %d\n",
           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    gai(stdout, "localhost", "http", 0, AF_INET, SOCK_STREAM);
    for (int i = 0; i < WORKERS; i++) {
        CHECK(text[i] != NULL);
        if (text[i] != NULL && text[0] != NULL && i > 0) {
            if (strcmp(text[i], text[0]) != 0) {
                CHECK(!"every worker's transcript is the first one's");
                fprintf(stderr, "worker %d:\n%s", i, text[i]);
            }
        }
    }
    printf("%s", text[0] ? text[0] : "");
    printf("%d workers: same transcript\n", WORKERS);
    for (int i = 0; i < WORKERS; i++) {
        free(text[i]);
    }
    return check_exit_status();
}
