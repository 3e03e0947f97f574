/* SPDX-License-Identifier: MIT */
/* Reads the LIBGREEN_* environment variables once into green__config, at
 * start-up (libgreen's constructor, or the first wrapper call if another
 * library's constructor makes one earlier), so that every process that
 * loads libgreen reads the environment it started with, even one that
 * never calls a wrapper.
 *
 * One parser per kind of value: a word from a list (LIBGREEN_STACK, and
 * the switches LIBGREEN_STATS, LIBGREEN_DEBUG, LIBGREEN_FSGSBASE) and a
 * size (LIBGREEN_STACK_SIZE). A variable that is set to anything else, the
 * empty string included, is reported in one line on stderr that names the
 * variable, the value and what is accepted, and the default is kept:
 * libgreen never stops a program because of its own configuration.
 * scripts/green-run accepts in its options exactly what this file accepts
 * in the variables they set, and words its refusals the same way.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "preload/preload.h"

struct green__config green__config = {
    .stack_mode = GREEN__MODE_SEPARATE,
    .fsgsbase = true,
};

/* A word a setting accepts and the value it stands for. */
struct word {
    const char *text;               /* NULL ends a list */
    int value;
};

static const struct word stack_words[] = {
    {"copy", GREEN__MODE_COPY},
    {"separate", GREEN__MODE_SEPARATE},
    {NULL, 0},
};

/* On or off: LIBGREEN_STATS, LIBGREEN_DEBUG, LIBGREEN_FSGSBASE. */
static const struct word switch_words[] = {
    {"0", false},
    {"1", true},
    {"no", false},
    {"yes", true},
    {NULL, 0},
};

/* Sizes: decimal digits and an optional suffix K, M or G (either case,
 * powers of 1024); no sign, space, base prefix or other unit. */
static const uint64_t size_min = (uint64_t)64 << 10;
static const uint64_t size_max = (uint64_t)1 << 40;
static const char size_accepted[] =
    "a size in bytes from 64K to 1024G, optional suffix K, M or G";

/* A report shows at most this many bytes of a value; quoted, each takes at
 * most 4 characters (\xNN), so that the whole line fits green__log's
 * buffer and keeps its newline. */
enum { SHOWN_MAX = 64, SHOWN_SIZE = 2 + 4 * SHOWN_MAX + 3 + 1 };

/* The bytes a report shows as they are: ASCII letters and digits, whatever
 * the program's locale, and a few marks. */
static bool plain_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9')
           || (c != '\0' && strchr("._+:,/@%=-", c) != NULL);
}

/* Write into `out` the value as a report shows it, always on one line: as
 * it is if it is 1 to SHOWN_MAX plain bytes; else its first SHOWN_MAX
 * bytes in double quotes, with \" \\ \n \t and \xNN (lower-case hex) for
 * the other bytes outside ' '..'~', followed by ... if it is longer. */
static void show(const char *value, char out[static SHOWN_SIZE])
{
    const size_t len = strlen(value);
    bool plain = len > 0 && len <= SHOWN_MAX;
    for (size_t i = 0; plain && i < len; i++) {
        plain = plain_byte((unsigned char)value[i]);
    }
    if (plain) {
        memcpy(out, value, len + 1);
        return;
    }
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    *p++ = '"';
    for (size_t i = 0; i < len && i < SHOWN_MAX; i++) {
        const unsigned char c = (unsigned char)value[i];
        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c == '\n' || c == '\t') {
            *p++ = '\\';
            *p++ = c == '\n' ? 'n' : 't';
        } else if (c >= ' ' && c <= '~') {
            *p++ = (char)c;
        } else {
            *p++ = '\\';
            *p++ = 'x';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    *p++ = '"';
    if (len > SHOWN_MAX) {
        memcpy(p, "...", 3);
        p += 3;
    }
    *p = '\0';
}

/* The one line that reports an invalid value of `name`. */
static void reject(const char *name, const char *value, const char *accepted)
{
    char shown[SHOWN_SIZE];
    show(value, shown);
    green__log("%s=%s is not valid (accepted: %s); using the default\n",
               name, shown, accepted);
}

/* The value of the word the variable `name` holds; `unset` when it is
 * unset, or (reported) not one of `words`. */
static int read_word(const char *name, const struct word *words, int unset)
{
    const char *v = getenv(name);
    if (v == NULL) {
        return unset;
    }
    for (const struct word *w = words; w->text != NULL; w++) {
        if (strcmp(v, w->text) == 0) {
            return w->value;
        }
    }
    char accepted[64] = "";
    for (const struct word *w = words; w->text != NULL; w++) {
        if (w != words) {
            strncat(accepted, ", ", sizeof accepted - strlen(accepted) - 1);
        }
        strncat(accepted, w->text, sizeof accepted - strlen(accepted) - 1);
    }
    reject(name, v, accepted);
    return unset;
}

/* Parse a size (see size_accepted) into *out; false if `v` is not one. */
static bool parse_size(const char *v, uint64_t *out)
{
    if (*v < '0' || *v > '9') {
        return false;
    }
    uint64_t n = 0;
    for (; *v >= '0' && *v <= '9'; v++) {
        if (n <= size_max) {        /* beyond it, n only has to stay so */
            n = n * 10 + (uint64_t)(*v - '0');
        }
    }
    unsigned shift = 0;
    switch (*v) {
    case 'K':
    case 'k':
        shift = 10;
        break;
    case 'M':
    case 'm':
        shift = 20;
        break;
    case 'G':
    case 'g':
        shift = 30;
        break;
    }
    if (shift != 0) {
        v++;
    }
    if (*v != '\0' || n > size_max >> shift || n << shift < size_min) {
        return false;
    }
    *out = n << shift;
    return true;
}

/* Set *out and *set from the size the variable `name` holds; leave them
 * when it is unset or (reported) not a valid size. */
static void read_size(const char *name, size_t *out, bool *set)
{
    const char *v = getenv(name);
    if (v == NULL) {
        return;
    }
    uint64_t n;
    if (!parse_size(v, &n)) {
        reject(name, v, size_accepted);
        return;
    }
    *out = (size_t)n;
    *set = true;
}

void green__config_load(void)
{
    struct green__config *const c = &green__config;
    c->stack_mode = read_word("LIBGREEN_STACK", stack_words, c->stack_mode);
    read_size("LIBGREEN_STACK_SIZE", &c->stack_size, &c->stack_size_set);
    c->stats = read_word("LIBGREEN_STATS", switch_words, c->stats);
    c->debug = read_word("LIBGREEN_DEBUG", switch_words, c->debug);
    c->fsgsbase = read_word("LIBGREEN_FSGSBASE", switch_words, c->fsgsbase);
}

/* Read the settings before main runs even if the program never calls a
 * wrapper (/bin/true), so that an invalid value is reported in every
 * process, and before the program can change its environment (env(1)
 * sets the variables it is given before it calls execvp). A process
 * pays a few getenv calls for it, no dlsym. */
__attribute__((constructor))
static void read_at_start(void)
{
    green__init();
}
