/* SPDX-License-Identifier: MIT */
/* setuid, setgid and the rest of the family that changes the process's
 * credentials. glibc's versions, in a process with more than one thread,
 * signal every other thread on its thread list to make the same change
 * (POSIX wants it process-wide, Linux keeps it per thread). That list
 * knows only the kernel thread's own TLS area, its *home* (hub/tls.c), so
 * a green thread that calls one from its own window would be taken for
 * another thread and signalled. The call runs at home instead; errno, set
 * there, moves back with the area.
 */
#include "config.h"

#include <grp.h>

#include "wrappers/wrap.h"

#define AT_HOME(name, args)                                                \
    do {                                                                   \
        green__ensure_init();                                              \
        if (!green__in_green_thread()) {                                   \
            return GREEN_REAL_FN(name) args;                               \
        }                                                                  \
        struct green__thread *self = green__self();                 \
        green__tls_home(self);                                             \
        const int ret = GREEN_REAL_FN(name) args;                          \
        green__tls_away(self);                                             \
        return ret;                                                        \
    } while (0)

GREEN_WRAP int setuid(uid_t uid) { AT_HOME(setuid, (uid)); }
GREEN_WRAP int setgid(gid_t gid) { AT_HOME(setgid, (gid)); }
GREEN_WRAP int seteuid(uid_t uid) { AT_HOME(seteuid, (uid)); }
GREEN_WRAP int setegid(gid_t gid) { AT_HOME(setegid, (gid)); }
GREEN_WRAP int setreuid(uid_t r, uid_t e) { AT_HOME(setreuid, (r, e)); }
GREEN_WRAP int setregid(gid_t r, gid_t e) { AT_HOME(setregid, (r, e)); }
GREEN_WRAP int setresuid(uid_t r, uid_t e, uid_t s)
{
    AT_HOME(setresuid, (r, e, s));
}
GREEN_WRAP int setresgid(gid_t r, gid_t e, gid_t s)
{
    AT_HOME(setresgid, (r, e, s));
}
GREEN_WRAP int setgroups(size_t n, const gid_t *list)
{
    AT_HOME(setgroups, (n, list));
}
