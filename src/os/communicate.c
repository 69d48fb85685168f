/* tl_process_communicate: feeds the child's stdin while its stdout and stderr
 * are read to their ends, without a deadlock when a pipe fills.
 *
 * No helper tasks: for the call's length the output pipes' limits are lifted,
 * so libuv reads both ahead into their buffers whatever the task is doing.
 * The task writes the input, then collects stdout, then stderr; neither pipe
 * ever stops being read, so the child never blocks on a full one. */
#include <string.h>

#include "os.h"

#define FEED_CHUNK ((size_t)256 * 1024)
#define NO_LIMIT   (SIZE_MAX / 4) /* read ahead whatever is buffered (twice it still fits) */

/* A pipe's output as it is collected: in data, when the caller wants it. */
typedef struct sink {
    char *data;
    size_t len, cap;
} sink;

/* Writes the input and ends the child's stdin. A child that stopped reading
 * (TL_EPIPE, TL_ECONNRESET) is not an error: its output still counts. */
static int feed(tl_stream *in, const char *data, size_t len)
{
    int rc = 0;
    size_t off = 0;
    while (off < len && !rc) {
        size_t n = len - off < FEED_CHUNK ? len - off : FEED_CHUNK;
        rc = tl_stream_write(in, data + off, n);
        if (!rc)
            rc = tl_stream_drain(in);
        off += n;
    }
    if (rc == TL_ECANCELED || rc == TL_ETIMEDOUT)
        return rc; /* the child's input stays open, as the caller left it */
    tl_stream_write_eof(in);
    return rc == TL_EPIPE || rc == TL_ECONNRESET ? 0 : rc;
}

/* Room for more, and for the NUL beyond the end. */
static int grow(sink *k)
{
    size_t cap = k->cap ? k->cap * 2 : 4096;
    char *nb = tl__user_realloc(k->data, cap);
    if (!nb)
        return TL_ENOMEM;
    k->data = nb;
    k->cap = cap;
    return 0;
}

/* Reads s to its end, keeping the bytes in k when keep, else only counting them. */
static int collect(tl_stream *s, sink *k, bool keep)
{
    char scratch[4096];
    for (;;) {
        int rc = keep && k->cap - k->len < 2 ? grow(k) : 0;
        if (rc)
            return rc;
        char *dst = keep ? k->data + k->len : scratch;
        size_t room = keep ? k->cap - k->len - 1 : sizeof scratch;
        ssize_t n = tl_stream_read(s, dst, room);
        if (n <= 0)
            return (int)n;
        k->len += (size_t)n; /* counted even when dropped */
    }
}

/* Hands a collected output to the caller, NUL-terminated. */
static void hand_over(sink *k, char **out, size_t *outlen)
{
    if (k->data)
        k->data[k->len] = '\0';
    if (out)
        *out = k->data;
    if (outlen)
        *outlen = k->len;
}

static size_t lift_limit(tl_stream *s)
{
    if (!s)
        return 0;
    size_t old = tl_stream_limit(s);
    tl_stream_set_limit(s, NO_LIMIT);
    return old;
}

static void restore_limit(tl_stream *s, size_t limit)
{
    if (s)
        tl_stream_set_limit(s, limit);
}

int tl_process_communicate(tl_process *p, const void *input, size_t len, char **out, size_t *outlen,
                           char **err, size_t *errlen)
{
    tl__need_task("tl_process_communicate");
    hand_over(&(sink){0}, out, outlen);
    hand_over(&(sink){0}, err, errlen);
    tl_stream *in = tl_process_stdin(p), *o = tl_process_stdout(p), *e = tl_process_stderr(p);
    if (len && (!input || !in))
        return TL_EINVAL;
    size_t olimit = lift_limit(o), elimit = lift_limit(e);
    sink ko = {0}, ke = {0};
    int rc = in ? feed(in, input, len) : 0;
    if (!rc && o)
        rc = collect(o, &ko, out != NULL);
    if (!rc && e)
        rc = collect(e, &ke, err != NULL);
    if (!rc)
        rc = tl_process_wait(p, NULL);
    restore_limit(o, olimit);
    restore_limit(e, elimit);
    if (rc) {
        free(ko.data);
        free(ke.data);
        return rc;
    }
    hand_over(&ko, out, outlen);
    hand_over(&ke, err, errlen);
    return 0;
}
