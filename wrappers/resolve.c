/* SPDX-License-Identifier: MIT */
/* Name resolution: getaddrinfo, getnameinfo, gethostbyname,
 * gethostbyname2, gethostbyaddr and their _r forms. glibc's resolver runs
 * inside libc, where no wrapper sees its sockets or files, so a lookup
 * would block every green thread; here it runs on a helper kernel thread
 * (hub/offload.c) and parks only its caller. freeaddrinfo and gai_strerror
 * are glibc's, untouched: the list a helper's getaddrinfo allocates is
 * glibc's own malloc'd list.
 *
 * A lookup that consults no name service at all (a numeric host and
 * service, AI_NUMERICHOST, NI_NUMERICHOST with NI_NUMERICSERV) cannot
 * block: it runs on the caller, as do all calls where the caller may not
 * park (one thread, the hub, a signal handler, another kernel thread).
 *
 * The program's memory is never touched while the caller is parked: in
 * copy mode its stack, where names, hints and result buffers often live,
 * is elsewhere then. Arguments are copied to the heap first, results are
 * copied back after the caller resumes: a result buffer is copied in, the
 * helper works on the copy, and the bytes the call changed are copied
 * back. The copy of an _r call's buffer has the address of the program's
 * modulo 64, so glibc aligns the data inside it as it would natively, and
 * the pointers glibc left into it (h_name, h_aliases, h_addr_list and
 * their arrays) are moved onto the program's buffer.
 *
 * errno and h_errno: the helper starts the call with the caller's values
 * and the caller gets those the call left, as natively (EAI_SYSTEM's
 * errno, the _r calls' ERANGE, NETDB_INTERNAL). The non-_r calls return
 * glibc's static storage, shared by every thread, as natively. Known gap:
 * a program that changes the thread's resolver state (_res.options,
 * res_init with a changed _res) does so for the calling thread, not the
 * helper that looks up.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "wrappers/wrap.h"

/* errno and h_errno carried between the caller and the helper. */
struct carried {
    int err;
    int herr;
};

static void carried_take(struct carried *c)
{
    c->err = errno;
    c->herr = h_errno;
}

static void carried_give(const struct carried *c)
{
    errno = c->err;
    h_errno = c->herr;
}

/* Run fn(q), `c` being the first member of q, on a helper whose errno is
 * `entry_errno` (the caller's when the wrapper began) and whose h_errno is
 * the caller's; afterwards the caller's are those the call left. */
static void offload(void (*fn)(void *), struct carried *c, int entry_errno)
{
    c->err = entry_errno;
    c->herr = h_errno;
    green__offload_run(fn, c);
    carried_give(c);
}

/* A string argument copied to the heap. Returns false (out of memory)
 * when a non-NULL `s` could not be copied. */
static bool dup_arg(const char *s, char **out)
{
    *out = s != NULL ? strdup(s) : NULL;
    return s == NULL || *out != NULL;
}

/* ---- result buffers -------------------------------------------------- */

/* The helper's copy of a buffer of the program's. */
struct outbuf {
    char *user;                     /* the program's buffer */
    size_t len;
    char *work;                     /* what the helper writes; user % 64 */
    char *orig;                     /* its bytes before the call */
    void *mem;                      /* allocation behind work and orig */
};

/* Copy the program's `len` bytes at `user` in. Returns 0, -ENOMEM, or
 * -EFAULT for memory the program cannot read (the caller then leaves the
 * call to glibc, which faults or fails as natively). NULL or len 0 gives a
 * NULL work copy. */
static int outbuf_in(struct outbuf *b, void *user, size_t len)
{
    *b = (struct outbuf){ .user = user, .len = len };
    if (user == NULL || len == 0) {
        return 0;
    }
    if (len > SIZE_MAX / 2 - 128) {
        return -ENOMEM;
    }
    b->mem = malloc(2 * len + 64);
    if (b->mem == NULL) {
        return -ENOMEM;
    }
    const uintptr_t base = (uintptr_t)b->mem;
    b->work = (char *)(base + (((uintptr_t)user - base) & 63));
    b->orig = b->work + len;
    if (green__peek(b->work, user, len) != 0) {
        free(b->mem);
        b->mem = NULL;
        return -EFAULT;
    }
    memcpy(b->orig, b->work, len);
    return 0;
}

/* Where the program sees work pointer `p`: inside the copy, the same
 * place in its own buffer; anything else unchanged. */
static void *outbuf_map(const struct outbuf *b, void *p)
{
    const uintptr_t off = (uintptr_t)p - (uintptr_t)b->work;
    return b->work != NULL && p != NULL && off < b->len ? b->user + off : p;
}

/* Copy back the bytes the call changed (from the first changed byte to
 * the last) and drop the copy. */
static void outbuf_out(struct outbuf *b)
{
    if (b->work != NULL) {
        size_t lo = 0, hi = b->len;
        while (lo < hi && b->work[lo] == b->orig[lo]) {
            lo++;
        }
        while (hi > lo && b->work[hi - 1] == b->orig[hi - 1]) {
            hi--;
        }
        if (hi > lo) {
            memcpy(b->user + lo, b->work + lo, hi - lo);
        }
    }
    free(b->mem);
    b->mem = NULL;
}

static void outbuf_drop(struct outbuf *b)
{
    free(b->mem);
    b->mem = NULL;
}

/* ---- getaddrinfo ----------------------------------------------------- */

struct gai_req {
    struct carried c;
    char *node, *service;
    struct addrinfo hints;
    bool has_hints;
    struct addrinfo *res;
    bool res_set;                   /* glibc stored a list in res */
    int ret;
};

static void gai_run(void *arg)
{
    struct gai_req *q = arg;
    carried_give(&q->c);
    static struct addrinfo unset;
    q->res = &unset;
    q->ret = GREEN_REAL_FN(getaddrinfo)(q->node, q->service,
                                     q->has_hints ? &q->hints : NULL,
                                     &q->res);
    q->res_set = q->res != &unset;
    carried_take(&q->c);
}

/* True when `s` is all digits (a port number, as glibc reads it). */
static bool all_digits(const char *s)
{
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
    }
    return true;
}

/* True when getaddrinfo(node, service, hints) asks no name service: the
 * host is absent, numeric or must be (AI_NUMERICHOST), the service absent
 * or numeric, and no canonical name is wanted. */
static bool gai_is_local(const char *node, const char *service,
                         const struct addrinfo *hints)
{
    const int flags = hints != NULL ? hints->ai_flags : 0;
    if (flags & AI_CANONNAME) {
        return false;
    }
    if (service != NULL && !(flags & AI_NUMERICSERV) && !all_digits(service)) {
        return false;
    }
    if (node == NULL || (flags & AI_NUMERICHOST)) {
        return true;
    }
    unsigned char addr[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, node, addr) == 1
        || inet_pton(AF_INET6, node, addr) == 1;
}

GREEN_WRAP int getaddrinfo(const char *node, const char *service,
                           const struct addrinfo *hints,
                           struct addrinfo **res)
{
    green__ensure_init();
    const int entry_errno = errno;
    if (!green__may_park() || gai_is_local(node, service, hints)) {
        return GREEN_REAL_FN(getaddrinfo)(node, service, hints, res);
    }
    struct gai_req *q = calloc(1, sizeof *q);
    if (q == NULL || !dup_arg(node, &q->node)
        || !dup_arg(service, &q->service)) {
        if (q != NULL) {
            free(q->node);
            free(q);
        }
        errno = entry_errno;
        return GREEN_REAL_FN(getaddrinfo)(node, service, hints, res);
    }
    if (hints != NULL) {
        q->hints = *hints;          /* glibc reads only the four ints */
        q->has_hints = true;
    }
    offload(gai_run, &q->c, entry_errno);
    const int ret = q->ret;
    if (q->res_set) {
        *res = q->res;
    }
    free(q->node);
    free(q->service);
    free(q);
    return ret;
}

/* ---- getnameinfo ----------------------------------------------------- */

struct gni_req {
    struct carried c;
    struct sockaddr_storage sa;
    const struct sockaddr *sap;     /* &sa, or NULL as the program gave */
    socklen_t salen;
    struct outbuf host, serv;
    int flags;
    int ret;
};

static void gni_run(void *arg)
{
    struct gni_req *q = arg;
    carried_give(&q->c);
    q->ret = GREEN_REAL_FN(getnameinfo)(q->sap, q->salen, q->host.work,
                                     (socklen_t)q->host.len, q->serv.work,
                                     (socklen_t)q->serv.len, q->flags);
    carried_take(&q->c);
}

/* Copy getnameinfo's arguments in; false: leave the call to glibc. */
static bool gni_prepare(struct gni_req *q, const struct sockaddr *sa,
                        socklen_t salen, char *host, socklen_t hostlen,
                        char *serv, socklen_t servlen, int flags)
{
    q->salen = salen;
    q->flags = flags;
    if (sa != NULL) {
        if (salen > sizeof q->sa || green__peek(&q->sa, sa, salen) != 0) {
            return false;
        }
        q->sap = (const struct sockaddr *)&q->sa;
    }
    if (outbuf_in(&q->host, host, hostlen) != 0) {
        return false;
    }
    if (outbuf_in(&q->serv, serv, servlen) != 0) {
        outbuf_drop(&q->host);
        return false;
    }
    return true;
}

GREEN_WRAP int getnameinfo(const struct sockaddr *sa, socklen_t salen,
                           char *host, socklen_t hostlen, char *serv,
                           socklen_t servlen, int flags)
{
    green__ensure_init();
    const int entry_errno = errno;
    const bool local = (host == NULL || hostlen == 0
                        || (flags & NI_NUMERICHOST))
                       && (serv == NULL || servlen == 0
                           || (flags & NI_NUMERICSERV));
    struct gni_req *q = NULL;
    if (!green__may_park() || local
        || (q = calloc(1, sizeof *q)) == NULL
        || !gni_prepare(q, sa, salen, host, hostlen, serv, servlen, flags)) {
        free(q);
        errno = entry_errno;
        return GREEN_REAL_FN(getnameinfo)(sa, salen, host, hostlen, serv,
                                       servlen, flags);
    }
    offload(gni_run, &q->c, entry_errno);
    outbuf_out(&q->host);
    outbuf_out(&q->serv);
    const int ret = q->ret;
    free(q);
    return ret;
}

/* ---- gethostbyname, gethostbyname2, gethostbyaddr -------------------- */

/* One of the six gethostby* calls, with its arguments on the heap. */
enum hb_call { HB_NAME, HB_NAME2, HB_ADDR, HB_NAME_R, HB_NAME2_R, HB_ADDR_R };

struct hb_req {
    struct carried c;
    enum hb_call call;
    char *name;
    unsigned char addr[sizeof(struct in6_addr)];
    const void *addrp;              /* addr, or NULL as the program gave */
    socklen_t len;
    int af;
    struct hostent *ret;            /* non-_r: glibc's static result */
    /* _r only: */
    struct outbuf ent, buf;         /* the program's hostent and buffer */
    struct hostent *result;
    bool result_set;                /* glibc stored *result */
    int herr;                       /* *h_errnop */
    int rc;
};

static void hb_run(void *arg)
{
    struct hb_req *q = arg;
    carried_give(&q->c);
    static struct hostent unset;
    q->result = &unset;
    struct hostent *ent = (struct hostent *)q->ent.work;
    int *herrp = &q->herr;
    switch (q->call) {
    case HB_NAME:
        q->ret = GREEN_REAL_FN(gethostbyname)(q->name);
        break;
    case HB_NAME2:
        q->ret = GREEN_REAL_FN(gethostbyname2)(q->name, q->af);
        break;
    case HB_ADDR:
        q->ret = GREEN_REAL_FN(gethostbyaddr)(q->addrp, q->len, q->af);
        break;
    case HB_NAME_R:
        q->rc = GREEN_REAL_FN(gethostbyname_r)(q->name, ent, q->buf.work,
                                            q->buf.len, &q->result, herrp);
        break;
    case HB_NAME2_R:
        q->rc = GREEN_REAL_FN(gethostbyname2_r)(q->name, q->af, ent,
                                             q->buf.work, q->buf.len,
                                             &q->result, herrp);
        break;
    case HB_ADDR_R:
        q->rc = GREEN_REAL_FN(gethostbyaddr_r)(q->addrp, q->len, q->af, ent,
                                            q->buf.work, q->buf.len,
                                            &q->result, herrp);
        break;
    }
    q->result_set = q->result != &unset;
    carried_take(&q->c);
}

/* A new request for `call` with heap copies of `name` and of `len` bytes
 * at `addr` (the most any address family reads). NULL: out of memory or
 * an address the program cannot read; leave the call to glibc. */
static struct hb_req *hb_new(enum hb_call call, const char *name,
                             const void *addr, socklen_t len, int af)
{
    struct hb_req *q = calloc(1, sizeof *q);
    if (q == NULL) {
        return NULL;
    }
    q->call = call;
    q->len = len;
    q->af = af;
    if (!dup_arg(name, &q->name)) {
        free(q);
        return NULL;
    }
    if (addr != NULL) {
        const size_t n = len < sizeof q->addr ? len : sizeof q->addr;
        if (green__peek(q->addr, addr, n) != 0) {
            free(q);
            return NULL;
        }
        q->addrp = q->addr;
    }
    return q;
}

static void hb_free(struct hb_req *q)
{
    free(q->name);
    free(q);
}

/* Run a non-_r call; returns glibc's static result. */
static struct hostent *hb_static(struct hb_req *q, int entry_errno)
{
    offload(hb_run, &q->c, entry_errno);
    struct hostent *const ret = q->ret;
    hb_free(q);
    return ret;
}

GREEN_WRAP struct hostent *gethostbyname(const char *name)
{
    green__ensure_init();
    const int entry_errno = errno;
    struct hb_req *q;
    if (!green__may_park()
        || (q = hb_new(HB_NAME, name, NULL, 0, 0)) == NULL) {
        errno = entry_errno;
        return GREEN_REAL_FN(gethostbyname)(name);
    }
    return hb_static(q, entry_errno);
}

GREEN_WRAP struct hostent *gethostbyname2(const char *name, int af)
{
    green__ensure_init();
    const int entry_errno = errno;
    struct hb_req *q;
    if (!green__may_park()
        || (q = hb_new(HB_NAME2, name, NULL, 0, af)) == NULL) {
        errno = entry_errno;
        return GREEN_REAL_FN(gethostbyname2)(name, af);
    }
    return hb_static(q, entry_errno);
}

GREEN_WRAP struct hostent *gethostbyaddr(const void *addr, socklen_t len,
                                         int type)
{
    green__ensure_init();
    const int entry_errno = errno;
    struct hb_req *q;
    if (!green__may_park()
        || (q = hb_new(HB_ADDR, NULL, addr, len, type)) == NULL) {
        errno = entry_errno;
        return GREEN_REAL_FN(gethostbyaddr)(addr, len, type);
    }
    return hb_static(q, entry_errno);
}

/* ---- the _r forms ---------------------------------------------------- */

/* Move the pointers glibc left in the helper's copies (hostent fields,
 * h_aliases and h_addr_list and the entries of both) onto the program's
 * buffer. */
static void hb_rebase(struct hb_req *q)
{
    struct hostent *ent = (struct hostent *)q->ent.work;
    char **lists[2] = { ent->h_aliases, ent->h_addr_list };
    for (int i = 0; i < 2; i++) {
        char **v = lists[i];
        const uintptr_t end = (uintptr_t)q->buf.work + q->buf.len;
        if (outbuf_map(&q->buf, v) == v) {
            continue;               /* not in the buffer: glibc's own */
        }
        for (; (uintptr_t)(v + 1) <= end && *v != NULL; v++) {
            *v = outbuf_map(&q->buf, *v);
        }
    }
    ent->h_name = outbuf_map(&q->buf, ent->h_name);
    ent->h_aliases = outbuf_map(&q->buf, ent->h_aliases);
    ent->h_addr_list = outbuf_map(&q->buf, ent->h_addr_list);
}

/* Copy the program's hostent and buffer in, run `q`, copy back what the
 * call wrote, and give *result and *h_errnop. Returns the call's result;
 * q is freed. When the program's memory cannot be read, the call is left
 * to `direct`, glibc itself. */
static int hb_reentrant(struct hb_req *q, struct hostent *ret, char *buf,
                        size_t buflen, struct hostent **result,
                        int *h_errnop, int entry_errno)
{
    if (outbuf_in(&q->ent, ret, sizeof *ret) != 0 || q->ent.work == NULL) {
        hb_free(q);
        return -1;
    }
    if (outbuf_in(&q->buf, buf, buflen) != 0) {
        outbuf_drop(&q->ent);
        hb_free(q);
        return -1;
    }
    if (h_errnop != NULL) {
        q->herr = *h_errnop;
    }
    offload(hb_run, &q->c, entry_errno);
    hb_rebase(q);
    outbuf_out(&q->ent);
    outbuf_out(&q->buf);
    if (q->result_set) {
        *result = q->result == (struct hostent *)q->ent.work ? ret
                  : (struct hostent *)outbuf_map(&q->buf, q->result);
    }
    if (h_errnop != NULL) {
        *h_errnop = q->herr;
    }
    const int rc = q->rc;
    hb_free(q);
    return rc;
}

GREEN_WRAP int gethostbyname_r(const char *name, struct hostent *ret,
                               char *buf, size_t buflen,
                               struct hostent **result, int *h_errnop)
{
    green__ensure_init();
    const int entry_errno = errno;
    struct hb_req *q;
    int rc;
    if (!green__may_park() || h_errnop == NULL
        || (q = hb_new(HB_NAME_R, name, NULL, 0, 0)) == NULL
        || (rc = hb_reentrant(q, ret, buf, buflen, result, h_errnop,
                                 entry_errno)) < 0) {
        errno = entry_errno;
        return GREEN_REAL_FN(gethostbyname_r)(name, ret, buf, buflen, result,
                                           h_errnop);
    }
    return rc;
}

GREEN_WRAP int gethostbyname2_r(const char *name, int af,
                                struct hostent *ret, char *buf,
                                size_t buflen, struct hostent **result,
                                int *h_errnop)
{
    green__ensure_init();
    const int entry_errno = errno;
    struct hb_req *q;
    int rc;
    if (!green__may_park() || h_errnop == NULL
        || (q = hb_new(HB_NAME2_R, name, NULL, 0, af)) == NULL
        || (rc = hb_reentrant(q, ret, buf, buflen, result, h_errnop,
                                 entry_errno)) < 0) {
        errno = entry_errno;
        return GREEN_REAL_FN(gethostbyname2_r)(name, af, ret, buf, buflen,
                                            result, h_errnop);
    }
    return rc;
}

GREEN_WRAP int gethostbyaddr_r(const void *addr, socklen_t len, int type,
                               struct hostent *ret, char *buf,
                               size_t buflen, struct hostent **result,
                               int *h_errnop)
{
    green__ensure_init();
    const int entry_errno = errno;
    struct hb_req *q;
    int rc;
    if (!green__may_park() || h_errnop == NULL
        || (q = hb_new(HB_ADDR_R, NULL, addr, len, type)) == NULL
        || (rc = hb_reentrant(q, ret, buf, buflen, result, h_errnop,
                                 entry_errno)) < 0) {
        errno = entry_errno;
        return GREEN_REAL_FN(gethostbyaddr_r)(addr, len, type, ret, buf,
                                           buflen, result, h_errnop);
    }
    return rc;
}
