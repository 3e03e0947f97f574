/* SPDX-License-Identifier: MIT */
/* Reads the LIBGREEN_* environment variables once into green__config.
 * An invalid value is reported on stderr (variable, value, what is
 * accepted) and the default is kept: libgreen never stops a program because
 * of its own configuration.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "preload/preload.h"

struct green__config green__config = {
    .stack_mode = GREEN__MODE_SEPARATE,
    .fsgsbase = true,
};

static void parse_bool(const char *name, bool *out)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') {
        return;
    }
    if (strcmp(v, "1") == 0 || strcmp(v, "yes") == 0) {
        *out = true;
    } else if (strcmp(v, "0") == 0 || strcmp(v, "no") == 0) {
        *out = false;
    } else {
        green__log("%s=%s is not valid (accepted: 0, 1, no, yes); "
                   "using the default\n", name, v);
    }
}

static void parse_stack_mode(void)
{
    const char *v = getenv("LIBGREEN_STACK");
    if (v == NULL || *v == '\0') {
        return;
    }
    if (strcmp(v, "copy") == 0) {
        green__config.stack_mode = GREEN__MODE_COPY;
    } else if (strcmp(v, "separate") == 0) {
        green__config.stack_mode = GREEN__MODE_SEPARATE;
    } else {
        green__log("LIBGREEN_STACK=%s is not valid (accepted: copy, "
                   "separate); using separate\n", v);
    }
}

/* Bytes with an optional K, M or G suffix (powers of 1024). */
static void parse_stack_size(void)
{
    const char *v = getenv("LIBGREEN_STACK_SIZE");
    if (v == NULL || *v == '\0') {
        return;
    }
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k') {
        shift = 10;
    } else if (*end == 'M' || *end == 'm') {
        shift = 20;
    } else if (*end == 'G' || *end == 'g') {
        shift = 30;
    }
    if (shift) {
        end++;
    }
    const unsigned long long min = 64 * 1024, max = 1ULL << 40;
    if (errno || end == v || *end != '\0' || n > (max >> shift)
        || (n << shift) < min) {
        green__log("LIBGREEN_STACK_SIZE=%s is not valid (accepted: a size "
                   "in bytes from 64K to 1024G, optional suffix K, M or G); "
                   "using the default\n", v);
        return;
    }
    green__config.stack_size = (size_t)(n << shift);
    green__config.stack_size_set = true;
}

void green__config_load(void)
{
    parse_stack_mode();
    parse_stack_size();
    parse_bool("LIBGREEN_STATS", &green__config.stats);
    parse_bool("LIBGREEN_DEBUG", &green__config.debug);
    parse_bool("LIBGREEN_FSGSBASE", &green__config.fsgsbase);
}
