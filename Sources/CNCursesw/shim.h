// Wide-character ncurses for Swift.
//
// SwiftPM drops pkg-config's `-D_XOPEN_SOURCE=600`, which is what normally turns on the wide-char
// API (cchar_t, setcchar, add_wch, get_wch), so it is switched on here. Function-like macros
// (COLOR_PAIR, getmaxyx, A_BOLD, KEY_F) are not imported by Swift, and the library's global
// variables (stdscr, COLORS, LINES, ...) are shared mutable state that Swift 6 refuses to touch
// directly: both get `static inline` wrappers below. Everything is prefixed `cn_`.
#ifndef CN_CURSESW_SHIM_H
#define CN_CURSESW_SHIM_H

#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <langinfo.h>
#include <stdio.h>
#include <wchar.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <ncursesw/curses.h>

// Global variables.
static inline WINDOW *cn_stdscr(void) { return stdscr; }
static inline WINDOW *cn_curscr(void) { return curscr; }
static inline int cn_colors(void) { return COLORS; }
static inline int cn_color_pairs(void) { return COLOR_PAIRS; }
static inline int cn_lines(void) { return LINES; }
static inline int cn_cols(void) { return COLS; }
static inline FILE *cn_stdin(void) { return stdin; }
static inline FILE *cn_stdout(void) { return stdout; }

// Function-like macros.
static inline void cn_getmaxyx(WINDOW *w, int *y, int *x) { getmaxyx(w, *y, *x); }
static inline attr_t cn_a_normal(void) { return A_NORMAL; }
static inline attr_t cn_a_bold(void) { return A_BOLD; }
static inline attr_t cn_a_dim(void) { return A_DIM; }
static inline attr_t cn_a_reverse(void) { return A_REVERSE; }
static inline attr_t cn_a_underline(void) { return A_UNDERLINE; }
static inline int cn_color_pair(int n) { return (int)COLOR_PAIR(n); }
static inline int cn_key_f(int n) { return KEY_F(n); }

// One cell: `wch` is a spacing character followed by up to CCHARW_MAX-1 combining characters and
// a 0. The pair goes through setcchar's `opts` so that extended pair numbers (> 32767) work.
static inline int cn_setcchar(cchar_t *cc, const wchar_t *wch, attr_t attrs, int pair) {
    return setcchar(cc, wch, attrs, (short)(pair > 32767 ? 0 : pair), &pair);
}
static inline int cn_ccharw_max(void) { return CCHARW_MAX; }

// Locale and terminal helpers (wcwidth is hidden behind __USE_XOPEN, ioctl is variadic).
static inline const char *cn_codeset(void) { return nl_langinfo(CODESET); }
static inline int cn_wcwidth(wchar_t c) {
    extern int wcwidth(wchar_t);
    return wcwidth(c);
}
/// The terminal's size from the kernel; 0 on success, -1 when `fd` is not a terminal.
static inline int cn_winsize(int fd, int *rows, int *cols) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0) return -1;
    *rows = ws.ws_row;
    *cols = ws.ws_col;
    return 0;
}

#endif
