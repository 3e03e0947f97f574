/* SPDX-License-Identifier: MIT */
/* stdio-wscan [SECTION | hold [FILE]]: threads read pipes that another
 * thread feeds in pieces with the wide scanf family, in the C.UTF-8
 * locale.
 *
 * A SECTION (no argument: all of them, in this order): functions:
 * fwscanf, wscanf, vfwscanf, vwscanf and their __isoc99_ names each read
 * "%d %ls %lc%l[a-c]" from a pipe fed in pieces (slow-feed.h: each piece
 * written only once the reader took the one before, so each is written
 * while the scan waits for it): a number split across writes, UTF-8
 * characters split across writes in the %ls and the %lc; then what a
 * following fgetwc reads.  matching: a matching failure (the input
 * stays); eof: EOF before any conversion; cut: a character cut off by
 * EOF; ebadf: a write-only stream; ungetwc: before and after a scan;
 * directives: a trailing white-space directive waiting for more, %n and
 * scan sets.
 *
 * With "hold [FILE]": a reader waits in fwscanf for the rest of a number
 * whose first digit it has taken; the feeder then prints "waiting" and
 * writes the rest once FILE exists (at once without FILE).
 *
 * Prints a deterministic transcript.
 */
#define _GNU_SOURCE
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "check.h"
#include "slow-feed.h"

/* The plain (GNU) names, which <wchar.h> maps to __isoc99_* in C99. */
int plain_fwscanf(FILE *f, const wchar_t *fmt, ...) __asm__("fwscanf");
int plain_wscanf(const wchar_t *fmt, ...) __asm__("wscanf");
int plain_vfwscanf(FILE *f, const wchar_t *fmt, va_list ap)
    __asm__("vfwscanf");
int plain_vwscanf(const wchar_t *fmt, va_list ap) __asm__("vwscanf");
/* The C99 names, by their exported names. */
int __isoc99_fwscanf(FILE *f, const wchar_t *fmt, ...);
int __isoc99_wscanf(const wchar_t *fmt, ...);
int __isoc99_vfwscanf(FILE *f, const wchar_t *fmt, va_list ap);
int __isoc99_vwscanf(const wchar_t *fmt, va_list ap);

/* ---- transcript helpers --------------------------------------------- */

static void put_wide(const wchar_t *s)
{
    for (const wchar_t *p = s; *p != L'\0'; p++) {
        if (*p < 0x80 && *p >= 0x20) {
            putchar((int)*p);
        } else {
            printf("<U+%04X>", (unsigned)*p);
        }
    }
}

static void show_result(const char *label, int r, FILE *f, int err)
{
    printf("%s: %d feof %d ferror %d errno %s\n", label, r, feof(f) != 0,
           ferror(f) != 0, err == EILSEQ ? "EILSEQ" : errno_name(err));
}

static void show_next(const char *label, FILE *f)
{
    errno = 0;
    const wint_t c = fgetwc(f);
    const int err = errno;
    if (c == WEOF) {
        printf("%s: WEOF feof %d ferror %d errno %s\n", label,
               feof(f) != 0, ferror(f) != 0,
               err == EILSEQ ? "EILSEQ" : errno_name(err));
    } else {
        printf("%s: U+%04X\n", label, (unsigned)c);
    }
}

/* ---- one scan per function ------------------------------------------ */

enum which {
    FWSCANF, WSCANF, VFWSCANF, VWSCANF,
    C99_FWSCANF, C99_WSCANF, C99_VFWSCANF, C99_VWSCANF,
};

static const char *const names[] = {
    "fwscanf", "wscanf", "vfwscanf", "vwscanf", "__isoc99_fwscanf",
    "__isoc99_wscanf", "__isoc99_vfwscanf", "__isoc99_vwscanf",
};

static int call_v(enum which w, FILE *f, const wchar_t *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = -2;
    switch (w) {
    case VFWSCANF:
        r = plain_vfwscanf(f, fmt, ap);
        break;
    case VWSCANF:
        r = plain_vwscanf(fmt, ap);
        break;
    case C99_VFWSCANF:
        r = __isoc99_vfwscanf(f, fmt, ap);
        break;
    case C99_VWSCANF:
        r = __isoc99_vwscanf(fmt, ap);
        break;
    default:
        break;
    }
    va_end(ap);
    return r;
}

#define MAIN_FMT L"%d %ls %lc%l[a-c]"

static int scan_main(enum which w, FILE *f, int *n, wchar_t *word,
                     wchar_t *c, wchar_t *set)
{
    switch (w) {
    case FWSCANF:
        return plain_fwscanf(f, MAIN_FMT, n, word, c, set);
    case WSCANF:
        return plain_wscanf(MAIN_FMT, n, word, c, set);
    case C99_FWSCANF:
        return __isoc99_fwscanf(f, MAIN_FMT, n, word, c, set);
    case C99_WSCANF:
        return __isoc99_wscanf(MAIN_FMT, n, word, c, set);
    default:
        return call_v(w, f, MAIN_FMT, n, word, c, set);
    }
}

/* "12 héllo €abc;" with "12", "é" and "€" each split across writes. */
static void case_function(enum which w)
{
    const bool on_stdin = w == WSCANF || w == VWSCANF || w == C99_WSCANF
        || w == C99_VWSCANF;
    struct slow s;
    const char script[] = "1|2 h\xc3|\xa9llo \xe2|\x82|\xac|ab|c;";
    slow_feed(&s, script, strlen(script), 0, on_stdin);
    slow_go(&s);
    int n = 0;
    wchar_t word[16] = L"", c = 0, set[16] = L"";
    errno = 0;
    const int r = scan_main(w, s.in, &n, word, &c, set);
    const int err = errno;
    char label[64];
    snprintf(label, sizeof label, "%s", names[w]);
    show_result(label, r, s.in, err);
    printf("%s: %d \"", label, n);
    put_wide(word);
    printf("\" U+%04X \"", (unsigned)c);
    put_wide(set);
    printf("\"\n");
    snprintf(label, sizeof label, "%s then fgetwc", names[w]);
    show_next(label, s.in);
    show_next(label, s.in);
    slow_end(&s);
    if (on_stdin) {
        clearerr(stdin);
    }
}

/* ---- failures and ends ---------------------------------------------- */

/* A matching failure leaves the character that failed to match. */
static void case_matching(void)
{
    struct slow s;
    slow_script(&s, "4|2x|y");
    int a = 0, b = 0;
    errno = 0;
    const int r = fwscanf(s.in, L"%d%d", &a, &b);
    show_result("matching", r, s.in, errno);
    printf("matching: %d %d\n", a, b);
    show_next("matching then fgetwc", s.in);
    show_next("matching then fgetwc", s.in);
    slow_end(&s);
}

/* EOF before any conversion: EOF, with feof; also after white space. */
static void case_eof(void)
{
    struct slow s;
    int a = 0;
    slow_script(&s, "");
    errno = 0;
    int r = fwscanf(s.in, L"%d", &a);
    show_result("eof at once", r, s.in, errno);
    slow_end(&s);

    slow_script(&s, " |\n|");
    errno = 0;
    r = fwscanf(s.in, L"%d", &a);
    show_result("eof after white space", r, s.in, errno);
    slow_end(&s);

    slow_script(&s, "7|");
    errno = 0;
    r = fwscanf(s.in, L"%d", &a);
    show_result("eof ends a number", r, s.in, errno);
    printf("eof ends a number: %d\n", a);
    slow_end(&s);
}

/* A character cut off by EOF: in the same read as the EOF's refill, and
 * left over from an earlier read. */
static void case_cut(void)
{
    struct slow s;
    wchar_t c1 = 0, c2 = 0;
    slow_script(&s, "x|\xc3|");
    errno = 0;
    int r = fwscanf(s.in, L"%lc%lc", &c1, &c2);
    show_result("cut alone", r, s.in, errno);
    printf("cut alone: U+%04X\n", (unsigned)c1);
    slow_end(&s);

    slow_script(&s, "y\xc3|");
    errno = 0;
    r = fwscanf(s.in, L"%lc%lc", &c1, &c2);
    show_result("cut after a character", r, s.in, errno);
    printf("cut after a character: U+%04X\n", (unsigned)c1);
    slow_end(&s);

    slow_script(&s, "z\xff|w");
    errno = 0;
    r = fwscanf(s.in, L"%lc%lc", &c1, &c2);
    show_result("invalid byte", r, s.in, errno);
    printf("invalid byte: U+%04X\n", (unsigned)c1);
    slow_end(&s);
}

/* A stream open only for writing: EOF and EBADF, as glibc. */
static void case_ebadf(void)
{
    int p[2];
    CHECK_OK(pipe(p));
    FILE *out = fdopen(p[1], "w");
    CHECK(out != NULL);
    int a = 0;
    errno = 0;
    const int r = fwscanf(out, L"%d", &a);
    show_result("write-only", r, out, errno);
    fclose(out);
    close(p[0]);
}

/* ungetwc before a scan (on a fresh FILE, and after a read), and after
 * one. */
static void case_ungetwc(void)
{
    struct slow s;
    int a = 0;
    slow_script(&s, "3|4 |5|6;");
    printf("ungetwc fresh: U+%04X\n", (unsigned)ungetwc(L'7', s.in));
    errno = 0;
    int r = fwscanf(s.in, L"%d", &a);
    show_result("ungetwc then fwscanf", r, s.in, errno);
    printf("ungetwc then fwscanf: %d\n", a);
    show_next("then fgetwc", s.in);
    printf("ungetwc again: U+%04X\n", (unsigned)ungetwc(L'9', s.in));
    errno = 0;
    r = fwscanf(s.in, L"%d", &a);
    show_result("ungetwc again then fwscanf", r, s.in, errno);
    printf("ungetwc again then fwscanf: %d\n", a);
    printf("ungetwc after: U+%04X\n", (unsigned)ungetwc(L'\x263a', s.in));
    show_next("after then fgetwc", s.in);
    show_next("after then fgetwc", s.in);
    show_next("after then fgetwc", s.in);
    slow_end(&s);
}

/* A trailing white-space directive reads on to the next non-space; %n
 * counts what was read; %% and a scan set with ']' and '%' in it. */
static void case_directives(void)
{
    struct slow s;
    int a = 0, n = -1;
    wchar_t set[16] = L"";
    slow_script(&s, "5|  |\n|  |q%]%|!");
    errno = 0;
    int r = fwscanf(s.in, L"%d %n", &a, &n);
    show_result("white space", r, s.in, errno);
    printf("white space: %d n %d\n", a, n);
    errno = 0;
    r = fwscanf(s.in, L"q%%%l[]%]", set);
    show_result("scan set", r, s.in, errno);
    printf("scan set: \"");
    put_wide(set);
    printf("\"\n");
    show_next("scan set then fgetwc", s.in);
    slow_end(&s);
}

/* hold: wait in fwscanf for the rest of a number. */
static void case_hold(const char *hold)
{
    struct slow s;
    const char script[] = "4|2 \xc3\xa9\n";
    slow_feed(&s, script, strlen(script), 0, false);
    s.feed.announce = true;
    s.feed.hold = hold;
    slow_go(&s);
    int a = 0;
    wchar_t c = 0;
    errno = 0;
    const int r = fwscanf(s.in, L"%d %lc", &a, &c);
    show_result("hold fwscanf", r, s.in, errno);
    printf("hold fwscanf: %d U+%04X\n", a, (unsigned)c);
    slow_end(&s);
}

static void section_functions(void)
{
    for (enum which w = FWSCANF; w <= C99_VWSCANF; w++) {
        case_function(w);
    }
}

static const struct section sections[] = {
    { "functions", section_functions },
    { "matching", case_matching },
    { "eof", case_eof },
    { "cut", case_cut },
    { "ebadf", case_ebadf },
    { "ungetwc", case_ungetwc },
    { "directives", case_directives },
};

int main(int argc, char **argv)
{
    if (setlocale(LC_ALL, "C.UTF-8") == NULL) {
        fprintf(stderr, "no C.UTF-8 locale\n");
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "hold") == 0) {
        case_hold(argc > 2 ? argv[2] : NULL);
        return check_exit_status();
    }
    return RUN_SECTIONS(argc, argv, sections, NULL);
}
