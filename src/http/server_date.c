/* The Date header (RFC 9110 §6.6.1), made once a second, not per response.
 *
 * Formatting a date costs more than the rest of a small response's head, so
 * each thread keeps the line ready, as nginx and h2o keep theirs per worker:
 * a loop belongs to one thread, so this is the loop's string. It is rebuilt
 * when the wall clock has passed into the next second. The names are
 * spelled out, not strftime's: a program's locale must not change them. */
#include <stdio.h>
#include <time.h>

#include "http.h"

static __thread char line[48];
static __thread size_t line_len;
static __thread double next_refresh; /* tl_time() at which the second changes */

const char *tl__http_date_line(size_t *len)
{
    double now = tl_time();
    if (now >= next_refresh) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        static const char days[] = "SunMonTueWedThuFriSat";
        static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
        int n = snprintf(line, sizeof line, "Date: %.3s, %02d %.3s %04d %02d:%02d:%02d GMT\r\n",
                         days + 3 * tm.tm_wday, tm.tm_mday, months + 3 * tm.tm_mon,
                         tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        line_len = n > 0 && (size_t)n < sizeof line ? (size_t)n : 0;
        next_refresh = now + (1e9 - (double)ts.tv_nsec) / 1e9;
    }
    *len = line_len;
    return line;
}
