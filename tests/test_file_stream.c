/* tl_open_file_stream: the stream reads (readline, readuntil, readexactly,
 * read) over files, with their ends, errors and cancellation. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault_walk.h"
#include "util.h"

static char dir[] = "/tmp/tulip-fstream-XXXXXX";

static void make_dir(void)
{
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

/* dir/name with the given contents; the path in a static buffer. */
static const char *put(const char *name, const void *data, size_t n)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    fclose(f);
    return path;
}

#define NLINES 100000

static int many_lines(void *arg)
{
    const char *path = arg;
    tl_stream *s;
    cr_assert_eq(tl_open_file_stream(path, &s), 0);
    char line[64], want[64];
    for (int i = 0; i < NLINES; i++) {
        ssize_t n = tl_stream_readline(s, line, sizeof line);
        int wn = snprintf(want, sizeof want, "line %d\n", i);
        cr_assert_eq(n, wn, "line %d: %zd bytes", i, n);
        cr_assert(memcmp(line, want, (size_t)wn) == 0, "line %d", i);
    }
    cr_assert_eq(tl_stream_readline(s, line, sizeof line), 5, "the last line has no newline");
    cr_assert(memcmp(line, "tail.", 5) == 0);
    cr_assert_eq(tl_stream_readline(s, line, sizeof line), 0, "then the end");
    cr_assert(tl_stream_at_eof(s));
    cr_assert_eq(tl_stream_read(s, line, sizeof line), 0);
    tl_stream_close(s);
    return 0;
}

Test(file_stream, readline_reads_every_line_of_a_large_file, .init = make_dir, .fini = remove_dir)
{
    size_t cap = (size_t)NLINES * 16 + 16, len = 0;
    char *data = malloc(cap);
    for (int i = 0; i < NLINES; i++)
        len += (size_t)sprintf(data + len, "line %d\n", i);
    memcpy(data + len, "tail.", 5);
    len += 5;
    const char *path = put("lines.txt", data, len);
    free(data);
    RUN(many_lines, (void *)path);
}

static int ends_and_errors(void *arg)
{
    (void)arg;
    char path[256], buf[64];
    tl_stream *s = (tl_stream *)&buf; /* must come back NULL */

    snprintf(path, sizeof path, "%s/missing", dir);
    cr_assert_eq(tl_open_file_stream(path, &s), TL_ENOENT);
    cr_assert_null(s);
    cr_assert_eq(tl_open_file_stream(dir, &s), TL_EISDIR);
    cr_assert_eq(tl_open_file_stream(NULL, &s), TL_EINVAL);
    cr_assert_eq(tl_open_file_stream(path, NULL), TL_EINVAL);

    cr_assert_eq(tl_open_file_stream(put("empty", "", 0), &s), 0);
    cr_assert_eq(tl_stream_readline(s, buf, sizeof buf), 0, "an empty file is at its end");
    cr_assert_eq(tl_stream_write(s, "x", 1), TL_EBADF, "a file stream is read-only");
    cr_assert_eq(tl_stream_write_eof(s), TL_EBADF);
    tl_stream_close(s);

    cr_assert_eq(tl_open_file_stream(put("short", "abcdef", 6), &s), 0);
    size_t partial;
    cr_assert_eq(tl_stream_readexactly(s, buf, 4, &partial), 0);
    cr_assert_eq(tl_stream_readexactly(s, buf, 4, &partial), TL_EOF);
    cr_assert_eq(partial, 2);
    cr_assert(memcmp(buf, "ef", 2) == 0);
    tl_stream_close(s);

    cr_assert_eq(tl_open_file_stream(put("records", "a;bb;ccc", 8), &s), 0);
    cr_assert_eq(tl_stream_readuntil(s, ";", 1, buf, sizeof buf), 2);
    cr_assert_eq(tl_stream_readuntil(s, ";", 1, buf, sizeof buf), 3);
    cr_assert_eq(tl_stream_readuntil(s, ";", 1, buf, sizeof buf), TL_EOF);
    cr_assert_eq(tl_stream_read(s, buf, sizeof buf), 3, "the rest stays for read");
    tl_stream_close(s);

    /* /proc files say their size is 0: the stream reads to the real end. */
    cr_assert_eq(tl_open_file_stream("/proc/self/status", &s), 0);
    cr_assert_gt(tl_stream_readline(s, buf, sizeof buf), 5);
    cr_assert(memcmp(buf, "Name:", 5) == 0);
    tl_stream_close(s);
    return 0;
}

Test(file_stream, ends_errors_and_the_other_reads, .init = make_dir, .fini = remove_dir)
{
    RUN(ends_and_errors, NULL);
}

static int long_line(void *arg)
{
    const char *path = arg;
    tl_stream *s;
    cr_assert_eq(tl_open_file_stream(path, &s), 0);
    cr_assert_eq(tl_stream_set_limit(s, 1000), 0);
    char buf[4096];
    cr_assert_eq(tl_stream_readline(s, buf, sizeof buf), TL_ENOBUFS, "a line over the limit");
    cr_assert_eq(tl_stream_readexactly(s, buf, 3000, NULL), 0);
    cr_assert_eq(buf[2999], 'x');
    cr_assert_eq(tl_stream_readline(s, buf, sizeof buf), 3, "the data was kept");
    tl_stream_close(s);
    return 0;
}

Test(file_stream, a_line_over_the_limit_is_enobufs_and_loses_nothing, .init = make_dir,
     .fini = remove_dir)
{
    char data[3003];
    memset(data, 'x', 3000);
    memcpy(data + 3000, "ok\n", 3);
    RUN(long_line, (void *)put("long", data, sizeof data));
}

/* ---- cancellation, closing mid-read, the loop's end ---- */

static int read_all_lines(void *arg)
{
    tl_stream *s = arg;
    char line[64];
    ssize_t n;
    int count = 0;
    while ((n = tl_stream_readline(s, line, sizeof line)) > 0)
        count++;
    return n < 0 ? (int)n : count;
}

static int cancel_and_close(void *arg)
{
    const char *path = arg;
    tl_stream *s;
    cr_assert_eq(tl_open_file_stream(path, &s), 0);
    tl_task *t = tl_create_task(read_all_lines, s);
    tl_sleep(0);
    tl_task_cancel(t);
    cr_assert_eq(tl_await(t), TL_ECANCELED);
    tl_task_release(t);
    /* The cancelled reader lost nothing: a new one reads on. */
    char line[64];
    cr_assert_gt(tl_stream_readline(s, line, sizeof line), 0);
    /* Closed with a read in flight on the pool: the file closes after it. */
    tl_stream_close(s);

    cr_assert_eq(tl_open_file_stream(path, &s), 0);
    tl_timeout scope;
    tl_timeout_enter(&scope, 0);
    cr_assert_eq(tl_stream_readline(s, line, sizeof line), TL_ETIMEDOUT);
    tl_timeout_exit(&scope);
    /* Left open on purpose: the loop closes it when it is freed. */
    return 0;
}

Test(file_stream, cancelled_reads_lose_nothing_and_closing_mid_read_is_safe, .init = make_dir,
     .fini = remove_dir)
{
    static char data[1 << 20];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = i % 32 == 31 ? '\n' : 'a';
    RUN(cancel_and_close, (void *)put("big", data, sizeof data));
}

/* ---- faults ---- */

static int file_stream_workload(void *arg)
{
    const char *path = arg;
    tl_stream *s;
    int rc = tl_open_file_stream(path, &s);
    if (rc)
        return rc;
    char line[64];
    int n = 0;
    ssize_t r;
    while ((r = tl_stream_readline(s, line, sizeof line)) > 0)
        n++;
    tl_stream_close(s);
    if (r < 0)
        return (int)r;
    cr_assert_eq(n, 3);
    return 0;
}

Test(file_stream, every_fault_point_fails_cleanly, .init = make_dir, .fini = remove_dir)
{
    fault_walk(file_stream_workload, (void *)put("three", "a\nb\nc\n", 6), 200);
}
