/* tl_stream: asyncio's StreamReader and StreamWriter over one transport
 * (transport.h: a socket, a file, TLS).
 *
 * Reading runs ahead of the reader into one growable buffer, as asyncio's
 * StreamReader does, and pauses above twice the limit (flow control). A task
 * that must wait parks with its need (any byte, n bytes, a separator), and
 * the read callback wakes it only once the need is met or reading has ended,
 * so a line arriving in many pieces costs one wake-up. A reader that waits on
 * an empty buffer in tl_stream_read lends its own buffer to the next read:
 * the bytes go from the kernel (or TLS) straight to the caller.
 *
 * A cancelled reader only leaves the reader slot: whatever arrived stays
 * buffered, so nothing is lost.
 *
 * Writing tries the transport at once (try_write); what it does not take is
 * copied into wbuf, and at most one write is in flight (fbuf), so bursts of
 * small writes leave as one large one, and the two buffers are reused. */
#include <string.h>

#include "io.h"

#define CHUNK_MIN    4096
#define HIGH_WATER   ((size_t)64 * 1024)
#define SHRINK_ABOVE ((size_t)256 * 1024)

static size_t buffered(const tl_stream *s)
{
    return s->rend - s->rstart;
}

static size_t write_queued(const tl_stream *s)
{
    return s->wlen + s->flen + s->tp->queued;
}

/* ---- lifetime ---- */

static void io_teardown(tl__attached *n);
static const tl__transport_events stream_events;

tl_stream *tl__stream_new(tl_loop *loop, tl__stream_kind kind, tl__transport *tp)
{
    tl_stream *s = tl__calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->loop = loop;
    s->refs = 2; /* the owner, the transport */
    s->limit = TL_STREAM_LIMIT_DEFAULT;
    s->high_water = HIGH_WATER;
    s->attached.teardown = io_teardown;
    if (kind == TL__STREAM_OVER) {
        s->tp = tp;
    } else {
        s->flags = kind == TL__STREAM_TCP ? TL__S_TCP : 0;
        tl__sock_init(&s->sock, &loop->uv, kind == TL__STREAM_TCP);
        s->tp = &s->sock.base;
    }
    s->tp->ev = &stream_events;
    s->tp->up = s;
    tl__loop_attach(loop, &s->attached);
    return s;
}

void tl__stream_ref(tl_stream *s)
{
    s->refs++;
}

void tl__stream_unref(tl_stream *s)
{
    if (--s->refs)
        return;
    tl__free(s->rbuf);
    tl__free(s->wbuf);
    tl__free(s->fbuf);
    tl__free(s);
}

static void ev_closed(void *up)
{
    tl_stream *s = up;
    s->flags |= TL__S_CLOSED;
    tl__loop_detach(s->loop, &s->attached);
    tl__wlist_wake_all(&s->closers, 0);
    tl__stream_unref(s); /* the transport's reference */
}

static void end_reading(tl_stream *s);

void tl__stream_close_now(tl_stream *s)
{
    s->flags |= TL__S_CLOSING;
    end_reading(s);
    if (s->flags & TL__S_TP_CLOSING)
        return;
    s->flags |= TL__S_TP_CLOSING;
    s->tp->ops->close(s->tp, !(s->flags & TL__S_ABORT) && !s->write_error);
}

void tl__stream_begin_close(tl_stream *s)
{
    s->flags |= TL__S_CLOSING;
    end_reading(s);
    /* Writes still buffered go first (asyncio's transport.close flushes);
     * the written event closes the transport when they are done. */
    if (!write_queued(s) || s->write_error)
        tl__stream_close_now(s);
}

/* Aborts when the caller's handle was given up already: a double close. */
static void must_own(const tl_stream *s, const char *fn)
{
    if (s->flags & TL__S_RELEASED)
        tl__fatal("%s: stream %p closed already (tl_stream_close, tl_stream_wait_closed and "
                  "tl_stream_abort each give the handle up)",
                  fn, (void *)s);
}

void tl__stream_release(tl_stream *s)
{
    must_own(s, "tl_stream_close");
    s->flags |= TL__S_RELEASED;
    tl__stream_begin_close(s);
    tl__stream_unref(s);
}

static void io_teardown(tl__attached *n)
{
    tl_stream *s = tl__container_of(n, tl_stream, attached);
    s->flags |= TL__S_ABORT; /* the loop is going: nothing may wait */
    if ((s->flags & TL__S_TP_CLOSING) && !(s->flags & TL__S_CLOSED))
        s->tp->ops->close(s->tp, false); /* a graceful close in progress ends now */
    tl__stream_close_now(s);
    if (!(s->flags & TL__S_RELEASED)) {
        s->flags |= TL__S_RELEASED;
        tl__stream_unref(s);
    }
}

void tl_stream_abort(tl_stream *s)
{
    tl__need_loop("tl_stream_abort");
    must_own(s, "tl_stream_abort");
    s->wlen = 0; /* dropped, as asyncio's transport.abort() drops them */
    s->flags |= TL__S_ABORT;
    tl__stream_close_now(s);
    tl__stream_release(s);
}

void tl_stream_close(tl_stream *s)
{
    tl__need_loop("tl_stream_close");
    tl__stream_release(s);
}

int tl_stream_wait_closed(tl_stream *s)
{
    tl_task *self = tl__need_task("tl_stream_wait_closed");
    must_own(s, "tl_stream_wait_closed");
    tl__stream_begin_close(s);
    int rc = 0;
    if (!(s->flags & TL__S_CLOSED) && !(rc = tl__interrupt(self)))
        rc = tl__wait_in(self, &s->closers, "stream close", s);
    if (!rc && s->write_error != TL_ECANCELED)
        rc = s->write_error;
    s->flags |= TL__S_RELEASED;
    tl__stream_unref(s);
    return rc;
}

/* ---- reading ---- */

/* Makes room for at least want more bytes after rend: moves the buffered
 * bytes to the front or grows the buffer. */
static bool reserve(tl_stream *s, size_t want)
{
    if (s->rcap - s->rend >= want)
        return true;
    size_t have = buffered(s);
    if (s->rstart && have + want <= s->rcap) {
        memmove(s->rbuf, s->rbuf + s->rstart, have);
        s->rstart = 0;
        s->rend = have;
        return true;
    }
    size_t cap = s->rcap ? s->rcap * 2 : CHUNK_MIN;
    while (cap < have + want)
        cap *= 2;
    char *nb = tl__malloc(cap);
    if (!nb)
        return false;
    if (have)
        memcpy(nb, s->rbuf + s->rstart, have);
    tl__free(s->rbuf);
    s->rbuf = nb;
    s->rcap = cap;
    s->rstart = 0;
    s->rend = have;
    return true;
}

static void consume(tl_stream *s, size_t n);

/* Copies n buffered bytes out and takes them off the front. */
static void take(tl_stream *s, void *buf, size_t n)
{
    if (n) {
        memcpy(buf, s->rbuf + s->rstart, n);
        consume(s, n);
    }
}

/* Takes n buffered bytes off the front. */
static void consume(tl_stream *s, size_t n)
{
    s->rstart += n;
    if (s->rstart == s->rend) {
        s->rstart = s->rend = 0;
        if (s->rcap > SHRINK_ABOVE) {
            /* A burst grew it: give the memory back rather than hold it per connection. */
            tl__free(s->rbuf);
            s->rbuf = NULL;
            s->rcap = 0;
        }
    }
}

static int ev_read_buf(void *up, bool may_decline, char **base, size_t *len)
{
    tl_stream *s = up;
    if (s->direct) {
        *base = s->direct;
        *len = s->direct_cap;
        return 0;
    }
    if (s->hold && may_decline) {
        /* The reader just got a full buffer and will be back before the next
         * poll: leave the rest in the kernel for its next direct read rather
         * than copy it through ours (the socket stays readable, so nothing is
         * missed; if the reader does not come back, the next poll reads ahead). */
        s->hold = false;
        return TL__READ_DECLINE;
    }
    s->hold = false;
    size_t want = s->rcap / 2 > CHUNK_MIN ? s->rcap / 2 : CHUNK_MIN;
    if (!reserve(s, want) && !reserve(s, 1))
        return TL_ENOMEM;
    *base = s->rbuf + s->rend;
    *len = s->rcap - s->rend;
    return 0;
}

/* NEED_SEP: looks for the separator in the bytes not scanned yet. True once
 * the chunk is found (s->found) or cannot fit scan_max (found stays 0). */
static bool scan(tl_stream *s)
{
    size_t have = buffered(s);
    const char *base = have ? s->rbuf + s->rstart : NULL; /* rbuf is NULL until bytes arrive */
    if (have >= s->seplen) {
        const char *p = memmem(base + s->scanned, have - s->scanned, s->sep, s->seplen);
        if (p) {
            s->found = (size_t)(p - base) + s->seplen;
            return true;
        }
        s->scanned = have - s->seplen + 1;
    }
    return have >= s->scan_max;
}

/* Whether the parked reader's need is met by what is buffered. */
static bool need_met(tl_stream *s)
{
    switch (s->need_kind) {
    case TL__NEED_ANY:
        return buffered(s) > 0;
    case TL__NEED_EXACT:
        return buffered(s) >= s->need;
    default:
        return scan(s);
    }
}

static void update_reading(tl_stream *s);

/* Bytes were added to the buffer. */
static void arrived(tl_stream *s)
{
    if (s->reader && !s->direct && need_met(s))
        tl__wake_slot(&s->reader, 0);
    update_reading(s);
}

static void ev_read(void *up, char *base, ssize_t n)
{
    tl_stream *s = up;
    if (n > 0 && s->direct && base == s->direct) {
        s->hold = (size_t)n == s->direct_cap;
        s->direct = NULL;
        s->direct_got = n;
        tl__wake_slot(&s->reader, 0);
        return;
    }
    if (n > 0) {
        s->rend += (size_t)n;
        arrived(s);
        return;
    }
    s->read_error = n == TL_EOF ? 0 : (int)n;
    end_reading(s);
}

/* Pauses reading ahead. */
static void stop_reading(tl_stream *s)
{
    s->flags &= ~(unsigned)TL__S_READING;
    if (!(s->flags & TL__S_TP_CLOSING))
        s->tp->ops->read_stop(s->tp);
}

/* Reading is over (EOF, an error, close): stops it and wakes the reader. */
static void end_reading(tl_stream *s)
{
    s->flags |= TL__S_EOF;
    if (s->flags & TL__S_READING)
        stop_reading(s);
    if (s->reader) {
        s->direct = NULL;
        tl__wake_slot(&s->reader, 0);
    }
}

static int start_reading(tl_stream *s)
{
    s->flags |= TL__S_READING;
    int rc = s->tp->ops->read_start(s->tp);
    if (rc) {
        s->flags &= ~(unsigned)TL__S_READING;
        s->read_error = rc;
        end_reading(s);
        return rc;
    }
    return 0;
}

/* Flow control: reads while the buffer is at most the limit or a reader
 * needs more; pauses above twice the limit (asyncio's thresholds). */
static void update_reading(tl_stream *s)
{
    if (s->flags & TL__S_EOF)
        return;
    size_t have = buffered(s);
    bool hungry = s->reader != NULL; /* parked, so its need is not met */
    if (s->flags & TL__S_READING) {
        if (have > 2 * s->limit && !hungry)
            stop_reading(s);
    } else if (have <= s->limit || hungry) {
        start_reading(s);
    }
}

int tl__stream_start(tl_stream *s)
{
    update_reading(s);
    return s->read_error;
}

void tl__stream_pause(tl_stream *s)
{
    if (s->flags & TL__S_READING)
        stop_reading(s);
}

int tl__stream_detail(const tl_stream *s, int rc)
{
    if (rc <= TL_ETLS && rc > -6000 && s->tp->ops->detail) {
        const char *d = s->tp->ops->detail(s->tp);
        if (d)
            tl__error_detail_set("%s", d);
    }
    return rc;
}

static void reader_detach(tl_task *t, void *ctx)
{
    (void)t;
    tl_stream *s = ctx;
    s->reader = NULL;
    s->direct = NULL;
}

/* Parks the calling task until its need (set by the caller) is met or
 * reading has ended: 0, TL_EBUSY, TL_ECANCELED, TL_ETIMEDOUT. The caller
 * holds a reference across it. */
static int wait_readable(tl_stream *s, tl_task *self)
{
    if (s->reader)
        return TL_EBUSY;
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    /* A parked reader needs more, whatever the buffer holds: read on. */
    if (!(s->flags & TL__S_READING) && start_reading(s))
        return 0; /* reading ended; the caller sees the error */
    s->reader = self;
    return tl__wait(self, "stream read", s, reader_detach, s);
}

ssize_t tl_stream_read(tl_stream *s, void *buf, size_t n)
{
    tl_task *self = tl__need_task("tl_stream_read");
    if (s->reader)
        return TL_EBUSY; /* its bytes are spoken for, even those buffered */
    if (n == 0)
        return 0;
    for (;;) {
        size_t have = buffered(s);
        if (have) {
            size_t k = have < n ? have : n;
            take(s, buf, k);
            update_reading(s);
            return (ssize_t)k;
        }
        if (s->flags & TL__S_EOF)
            return tl__stream_detail(s, s->read_error); /* 0 at a clean EOF */
        s->need_kind = TL__NEED_ANY;
        s->direct = buf;
        s->direct_cap = n > UINT32_MAX ? UINT32_MAX : n;
        s->direct_got = 0;
        tl__stream_ref(s);
        int rc = wait_readable(s, self);
        ssize_t got = s->direct_got;
        s->direct = NULL;
        s->direct_got = 0;
        tl__stream_unref(s);
        if (rc)
            return rc;
        if (got)
            return got;
    }
}

int tl_stream_readexactly(tl_stream *s, void *buf, size_t n, size_t *partial)
{
    tl_task *self = tl__need_task("tl_stream_readexactly");
    if (partial)
        *partial = 0;
    if (s->reader)
        return TL_EBUSY;
    while (buffered(s) < n && !(s->flags & TL__S_EOF)) {
        s->need_kind = TL__NEED_EXACT;
        s->need = n;
        tl__stream_ref(s);
        int rc = wait_readable(s, self);
        tl__stream_unref(s);
        if (rc)
            return rc;
    }
    size_t have = buffered(s);
    if (have < n) {
        /* Ended first: hand over what came, as IncompleteReadError.partial. */
        int err = s->read_error;
        take(s, buf, have);
        if (partial)
            *partial = have;
        return err ? tl__stream_detail(s, err) : TL_EOF;
    }
    take(s, buf, n);
    update_reading(s);
    return 0;
}

/* readuntil's core: 0 with s->found set, TL_ENOBUFS, TL_EOF (ended first), or
 * a wait's error. */
static int find_separator(tl_stream *s, tl_task *self, const void *sep, size_t seplen, size_t cap)
{
    if (s->reader)
        return TL_EBUSY;
    s->need_kind = TL__NEED_SEP;
    s->sep = sep;
    s->seplen = seplen;
    s->scan_max = cap < s->limit ? cap : s->limit;
    s->scanned = 0;
    s->found = 0;
    for (;;) {
        if (scan(s))
            return s->found && s->found <= s->scan_max ? 0 : TL_ENOBUFS;
        if (s->flags & TL__S_EOF)
            return s->read_error ? tl__stream_detail(s, s->read_error) : TL_EOF;
        tl__stream_ref(s);
        int rc = wait_readable(s, self);
        tl__stream_unref(s);
        if (rc)
            return rc;
    }
}

/* Takes the chunk find_separator found. */
static ssize_t take_found(tl_stream *s, void *buf)
{
    size_t n = s->found;
    take(s, buf, n);
    update_reading(s);
    return (ssize_t)n;
}

ssize_t tl_stream_readuntil(tl_stream *s, const void *sep, size_t seplen, void *buf, size_t cap)
{
    tl_task *self = tl__need_task("tl_stream_readuntil");
    if (seplen == 0)
        return TL_EINVAL;
    int rc = find_separator(s, self, sep, seplen, cap);
    return rc ? rc : take_found(s, buf);
}

ssize_t tl_stream_readline(tl_stream *s, void *buf, size_t cap)
{
    tl_task *self = tl__need_task("tl_stream_readline");
    int rc = find_separator(s, self, "\n", 1, cap);
    if (rc == TL_EOF) {
        /* The last line need not end with a newline (asyncio's readline). */
        size_t n = buffered(s);
        if (n > s->scan_max)
            return TL_ENOBUFS;
        take(s, buf, n);
        return (ssize_t)n;
    }
    return rc ? rc : take_found(s, buf);
}

bool tl_stream_at_eof(const tl_stream *s)
{
    return (s->flags & TL__S_EOF) && buffered(s) == 0;
}

size_t tl_stream_buffered(const tl_stream *s)
{
    return buffered(s);
}

int tl_stream_set_limit(tl_stream *s, size_t limit)
{
    if (limit == 0)
        return TL_EINVAL;
    s->limit = limit;
    update_reading(s);
    return 0;
}

size_t tl_stream_limit(const tl_stream *s)
{
    return s->limit;
}

/* ---- writing ---- */

static void wake_drainers(tl_stream *s)
{
    if (s->drainers.head)
        tl__wlist_wake_all(&s->drainers, 0);
}

static void ev_shut(void *up, int status)
{
    tl_stream *s = up;
    if (status < 0 && status != UV_ECANCELED && status != UV_ENOTCONN && !s->write_error)
        s->write_error = status;
}

static void send_eof(tl_stream *s)
{
    s->flags |= TL__S_SHUT_SENT;
    int rc = s->tp->ops->shutdown(s->tp);
    if (rc && rc != UV_ENOTCONN && !s->write_error)
        s->write_error = rc;
}

/* The connection broke: later writes and drains report it. */
static void write_failed(tl_stream *s, int err)
{
    if (!s->write_error)
        s->write_error = err;
    s->wlen = 0;
    wake_drainers(s);
    if (s->flags & TL__S_CLOSING)
        tl__stream_close_now(s);
}

/* Sends what gathered in wbuf as the one write in flight. */
static void submit(tl_stream *s)
{
    char *b = s->fbuf;
    size_t c = s->fcap;
    s->fbuf = s->wbuf;
    s->fcap = s->wcap;
    s->flen = s->wlen;
    s->wbuf = b;
    s->wcap = c;
    s->wlen = 0;
    int rc = s->tp->ops->write(s->tp, s->fbuf, s->flen);
    if (rc) {
        s->flen = 0;
        write_failed(s, rc);
    }
}

static void ev_written(void *up, int status)
{
    tl_stream *s = up;
    s->flen = 0;
    if (status < 0) {
        write_failed(s, status);
        return;
    }
    if (s->wlen)
        submit(s);
    if (write_queued(s) <= s->high_water / 4)
        wake_drainers(s);
    if (!s->flen) {
        if ((s->flags & TL__S_WRITE_EOF) && !(s->flags & TL__S_SHUT_SENT))
            send_eof(s);
        if (s->flags & TL__S_CLOSING)
            tl__stream_close_now(s);
    }
}

/* Appends to wbuf, growing it. */
static bool gather(tl_stream *s, const char *data, size_t n)
{
    if (s->wcap - s->wlen < n) {
        size_t cap = s->wcap ? s->wcap : CHUNK_MIN;
        while (cap - s->wlen < n)
            cap *= 2;
        char *nb = tl__realloc(s->wbuf, cap);
        if (!nb)
            return false;
        s->wbuf = nb;
        s->wcap = cap;
    }
    memcpy(s->wbuf + s->wlen, data, n);
    s->wlen += n;
    return true;
}

int tl_stream_write(tl_stream *s, const void *data, size_t n)
{
    if (!s->tp->ops->write)
        return TL_EBADF; /* read-only: a file */
    if (s->write_error)
        return tl__stream_detail(s, s->write_error);
    if (s->flags & (TL__S_WRITE_EOF | TL__S_CLOSING))
        return TL_EPIPE;
    if (n == 0)
        return 0;
    const char *p = data;
    if (!write_queued(s)) {
        ssize_t w = s->tp->ops->try_write(s->tp, p, n);
        if (w < 0) {
            write_failed(s, (int)w);
            return (int)w;
        }
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            if (!n)
                return 0;
        }
    }
    if (!gather(s, p, n))
        return TL_ENOMEM;
    if (!s->flen)
        submit(s);
    return s->write_error;
}

int tl__stream_flush(tl_stream *s, tl_task *self)
{
    int rc = 0;
    tl__stream_ref(s);
    while (!rc && write_queued(s) && !s->write_error && !(rc = tl__interrupt(self)))
        rc = tl__wait_in(self, &s->drainers, "stream flush", s);
    tl__stream_unref(s);
    return rc ? rc : s->write_error;
}

int tl_stream_drain(tl_stream *s)
{
    tl_task *self = tl__need_task("tl_stream_drain");
    if (s->write_error)
        return tl__stream_detail(s, s->write_error);
    if (write_queued(s) <= s->high_water)
        return 0;
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    tl__stream_ref(s);
    rc = tl__wait_in(self, &s->drainers, "stream drain", s);
    if (!rc)
        rc = s->write_error;
    tl__stream_unref(s);
    return rc;
}

int tl_stream_write_eof(tl_stream *s)
{
    if (!s->tp->ops->shutdown)
        return TL_EBADF;
    if (s->flags & TL__S_CLOSING)
        return TL_EPIPE;
    if (s->flags & TL__S_WRITE_EOF)
        return 0;
    s->flags |= TL__S_WRITE_EOF;
    if (!s->write_error && !write_queued(s))
        send_eof(s);
    return s->write_error;
}

size_t tl_stream_write_buffer_size(const tl_stream *s)
{
    return write_queued(s);
}

void tl_stream_set_write_limit(tl_stream *s, size_t high)
{
    s->high_water = high;
    if (write_queued(s) <= high / 4)
        wake_drainers(s);
}

static const tl__transport_events stream_events = {
    .read_buf = ev_read_buf,
    .read = ev_read,
    .written = ev_written,
    .shut = ev_shut,
    .closed = ev_closed,
};
