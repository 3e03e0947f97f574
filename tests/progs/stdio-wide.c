/* SPDX-License-Identifier: MIT */
/* stdio-wide [SECTION | hold [FILE]]: threads read wide characters from
 * pipes that another thread feeds in pieces, in the C.UTF-8 locale.
 *
 * A SECTION (no argument: all of them, in this order): each wide read call
 * (getwc: fgetwc, getwc, their _unlocked forms, __wuflow, __wunderflow;
 * getwchar: getwchar and getwchar_unlocked; fgetws: fgetws,
 * fgetws_unlocked, __fgetws_chk, __fgetws_unlocked_chk; getw) reads a
 * pipe fed in pieces (slow-feed.h: each piece written only once the
 * reader took the one before), UTF-8 characters split across two or
 * three writes, so each split character is completed by a write made
 * while the call waited for it; then eof (EOF, a character cut off by
 * EOF), eilseq (an invalid byte), ebadf (a write-only stream) and
 * ungetwc (before a read).
 *
 * With "hold [FILE]": a reader waits in fgetws for the rest of a character
 * whose first byte it has taken; the feeder then prints "waiting" and
 * writes the rest once FILE exists (at once without FILE).
 *
 * Prints a deterministic transcript.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <locale.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "check.h"
#include "slow-feed.h"

/* glibc's refill entries and fortified fgetws, declared by no header
 * without _FORTIFY_SOURCE. */
wint_t __wuflow(FILE *f);
wint_t __wunderflow(FILE *f);
wchar_t *__fgetws_chk(wchar_t *buf, size_t size, int n, FILE *f);
wchar_t *__fgetws_unlocked_chk(wchar_t *buf, size_t size, int n, FILE *f);

/* ---- transcript helpers --------------------------------------------- */

static void show_wc(const char *label, wint_t c, FILE *f, int err)
{
    if (c == WEOF) {
        printf("%s: WEOF feof %d ferror %d errno %s\n", label,
               feof(f) != 0, ferror(f) != 0,
               err == EILSEQ ? "EILSEQ" : errno_name(err));
    } else {
        printf("%s: U+%04X\n", label, (unsigned)c);
    }
}

static void show_ws(const char *label, const wchar_t *s, FILE *f, int err)
{
    if (s == NULL) {
        printf("%s: NULL feof %d ferror %d errno %s\n", label,
               feof(f) != 0, ferror(f) != 0,
               err == EILSEQ ? "EILSEQ" : errno_name(err));
        return;
    }
    printf("%s: %zu \"", label, wcslen(s));
    for (const wchar_t *p = s; *p != L'\0'; p++) {
        if (*p == L'\n') {
            printf("\\n");
        } else if (*p < 0x80) {
            putchar((int)*p);
        } else {
            printf("<U+%04X>", (unsigned)*p);
        }
    }
    printf("\"\n");
}

/* Show what `call` returned with the errno it left (0 before it). */
#define SHOW_WC(label, call, f)                                            \
    do {                                                                   \
        errno = 0;                                                         \
        const wint_t show_c_ = (call);                                     \
        show_wc((label), show_c_, (f), errno);                             \
    } while (0)

#define SHOW_WS(label, call, f)                                            \
    do {                                                                   \
        errno = 0;                                                         \
        const wchar_t *show_s_ = (call);                                   \
        show_ws((label), show_s_, (f), errno);                             \
    } while (0)

/* ---- the cases ------------------------------------------------------ */

typedef wint_t (*getwc_fn)(FILE *);

static wint_t call_getwchar(FILE *f)
{
    (void)f;
    return getwchar();
}

static wint_t call_getwchar_unlocked(FILE *f)
{
    (void)f;
    return getwchar_unlocked();
}

static wint_t call_wunderflow(FILE *f)
{
    /* __wunderflow does not consume: take the character as getwc would. */
    const wint_t c = __wunderflow(f);
    if (c != WEOF) {
        fgetwc_unlocked(f);
    }
    return c;
}

/* One character at a time: "a" + é split after its first byte + "€"
 * split in three + "\n", then EOF. Each split character must wait. */
static void case_getwc(const char *name, getwc_fn fn, FILE *in)
{
    char label[64];
    for (int i = 0; i < 5; i++) {
        errno = 0;
        const wint_t c = fn(in);
        const int err = errno;
        snprintf(label, sizeof label, "%s %d", name, i);
        show_wc(label, c, in, err);
    }
}

static const char split_script[] =
    "a\xc3|\xa9\xe2|\x82|\xac\n";

static void case_getwc_pipe(const char *name, getwc_fn fn)
{
    struct slow s;
    slow_script(&s, split_script);
    case_getwc(name, fn, s.in);
    slow_end(&s);
}

/* getwchar reads stdin: a pipe put on fd 0 for it. */
static void case_getwchar(void)
{
    struct slow s;
    slow_script(&s, split_script);
    CHECK_OK(dup2(fileno(s.in), 0));
    case_getwc("getwchar", call_getwchar, stdin);
    clearerr(stdin);
    slow_end(&s);

    slow_script(&s, split_script);
    CHECK_OK(dup2(fileno(s.in), 0));
    case_getwc("getwchar_unlocked", call_getwchar_unlocked, stdin);
    clearerr(stdin);
    slow_end(&s);
}

typedef wchar_t *(*fgetws_fn)(wchar_t *, int, FILE *);

static wchar_t *call_fgetws_chk(wchar_t *buf, int n, FILE *f)
{
    return __fgetws_chk(buf, 64, n, f);
}

static wchar_t *call_fgetws_unlocked_chk(wchar_t *buf, int n, FILE *f)
{
    return __fgetws_unlocked_chk(buf, 64, n, f);
}

/* Lines: "hé" split inside é, "llo wö" "rld\n"; a line longer than the
 * buffer; a last line without newline cut by EOF. */
static void case_fgetws(const char *name, fgetws_fn fn)
{
    struct slow s;
    slow_script(&s, "h\xc3|\xa9llo w\xc3|\xb6rld\n|\xe2\x82|\xac"
                   "123456789\n|end");
    wchar_t buf[64];
    char label[64];
    const int sizes[] = { 64, 5, 64, 64, 64 };
    for (int i = 0; i < 5; i++) {
        errno = 0;
        const wchar_t *r = fn(buf, sizes[i], s.in);
        const int err = errno;
        snprintf(label, sizeof label, "%s %d", name, i);
        show_ws(label, r, s.in, err);
    }
    slow_end(&s);
}

/* EOF after a whole character; EOF cutting a character read by the same
 * call (EILSEQ); EOF after a partial character left by an earlier call. */
static void case_eof(void)
{
    struct slow s;
    slow_script(&s, "x");
    SHOW_WC("eof 0", fgetwc(s.in), s.in);
    SHOW_WC("eof 1", fgetwc(s.in), s.in);
    slow_end(&s);

    slow_script(&s, "\xc3");
    SHOW_WC("cut 0", fgetwc(s.in), s.in);
    slow_end(&s);

    slow_script(&s, "b\xe2\x82");
    SHOW_WC("cut later 0", fgetwc(s.in), s.in);
    SHOW_WC("cut later 1", fgetwc(s.in), s.in);
    slow_end(&s);
}

/* An invalid byte: EILSEQ and the error flag, at once and after a wait. */
static void case_eilseq(void)
{
    struct slow s;
    slow_script(&s, "q\xff|z\n");
    SHOW_WC("eilseq 0", fgetwc(s.in), s.in);
    SHOW_WC("eilseq 1", fgetwc(s.in), s.in);
    slow_end(&s);

    slow_script(&s, "\xc3|(|z");
    wchar_t buf[16];
    SHOW_WS("eilseq fgetws", fgetws(buf, 16, s.in), s.in);
    slow_end(&s);
}

/* A stream open only for writing: WEOF, EBADF, the error flag. */
static void case_ebadf(void)
{
    int p[2];
    CHECK_OK(pipe(p));
    FILE *out = fdopen(p[1], "w");
    CHECK(out != NULL);
    SHOW_WC("ebadf fgetwc", fgetwc(out), out);
    wchar_t buf[8];
    clearerr(out);
    SHOW_WS("ebadf fgetws", fgetws(buf, 8, out), out);
    fclose(out);
    close(p[0]);
}

/* ungetwc, then reads: the pushed-back character, then a wait for the
 * rest of a split one. */
static void case_ungetwc(void)
{
    struct slow s;
    slow_script(&s, "\xc3\xa9|\xe2\x82|\xac");
    SHOW_WC("ungetwc 0", fgetwc(s.in), s.in);
    printf("ungetwc: U+%04X\n", (unsigned)ungetwc(L'\x263a', s.in));
    SHOW_WC("ungetwc 1", fgetwc(s.in), s.in);
    SHOW_WC("ungetwc 2", fgetwc(s.in), s.in);
    SHOW_WC("ungetwc 3", fgetwc(s.in), s.in);
    slow_end(&s);
}

/* getw: an int whose bytes come in two writes, then a short one, EOF. */
static void case_getw(void)
{
    struct slow s;
    slow_script(&s, "\x01\x02|\x03\x04|\x05");
    const int w = getw(s.in);
    printf("getw 0: 0x%08x\n", (unsigned)w);
    const int e = getw(s.in);
    printf("getw 1: %d feof %d ferror %d\n", e, feof(s.in) != 0,
           ferror(s.in) != 0);
    slow_end(&s);
}

/* hold: wait in fgetws for the second byte of é. */
static void case_hold(const char *hold)
{
    struct slow s;
    const char script[] = "\xc3|\xa9!\n";
    slow_feed(&s, script, strlen(script), 0, false);
    s.feed.announce = true;
    s.feed.hold = hold;
    slow_go(&s);
    wchar_t buf[16];
    SHOW_WS("hold fgetws", fgetws(buf, 16, s.in), s.in);
    slow_end(&s);
}

static void section_getwc(void)
{
    case_getwc_pipe("fgetwc", fgetwc);
    case_getwc_pipe("getwc", getwc);
    case_getwc_pipe("fgetwc_unlocked", fgetwc_unlocked);
    case_getwc_pipe("getwc_unlocked", getwc_unlocked);
    case_getwc_pipe("__wuflow", __wuflow);
    case_getwc_pipe("__wunderflow", call_wunderflow);
}

static void section_fgetws(void)
{
    case_fgetws("fgetws", fgetws);
    case_fgetws("fgetws_unlocked", fgetws_unlocked);
    case_fgetws("__fgetws_chk", call_fgetws_chk);
    case_fgetws("__fgetws_unlocked_chk", call_fgetws_unlocked_chk);
}

static const struct section sections[] = {
    { "getwc", section_getwc },
    { "getwchar", case_getwchar },
    { "fgetws", section_fgetws },
    { "eof", case_eof },
    { "eilseq", case_eilseq },
    { "ebadf", case_ebadf },
    { "ungetwc", case_ungetwc },
    { "getw", case_getw },
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
