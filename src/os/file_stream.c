/* tl_open_file_stream: a read-only tl_stream over a file, so that
 * tl_stream_readline, readuntil, readexactly and read work on files with the
 * stream's own code. libuv cannot poll a regular file, so this transport is
 * a chain of uv_fs_read requests on the thread pool, one in flight at a
 * time, each into the transport's own chunk (the stream's buffer may move
 * while a pool thread writes), then copied up with tl__transport_deliver. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../io/io.h"
#include "fs.h"

#define CHUNK ((size_t)64 * 1024)

typedef struct filesrc {
    tl__transport base;
    uv_fs_t req;
    uv_loop_t *loop;
    int fd;
    int64_t offset;
    bool busy;    /* a read is in flight */
    bool reading; /* the layer above wants bytes: a read follows the last */
    bool closing;
    char chunk[CHUNK];
} filesrc;

static filesrc *file_of(tl__transport *t)
{
    return tl__container_of(t, filesrc, base);
}

static void finish_close(filesrc *f)
{
    close(f->fd); /* a regular file's close does not block */
    const tl__transport_events *ev = f->base.ev;
    void *up = f->base.up;
    tl__free(f);
    ev->closed(up);
}

static int start_read(filesrc *f);

static void read_done(uv_fs_t *req)
{
    filesrc *f = req->data;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    f->busy = false;
    if (f->closing) {
        finish_close(f);
        return;
    }
    if (n > 0)
        f->offset += n;
    else
        f->reading = false; /* the end of the file, or an error: no read follows */
    tl__transport_deliver(&f->base, f->chunk, n);
    if (f->reading && !f->closing && (n = start_read(f)) < 0)
        tl__transport_deliver(&f->base, NULL, n);
}

/* One read into the chunk unless one is in flight: 0 or libuv's error. */
static int start_read(filesrc *f)
{
    if (f->busy)
        return 0;
    uv_buf_t b = uv_buf_init(f->chunk, CHUNK);
    f->req.data = f;
    int rc = uv_fs_read(f->loop, &f->req, f->fd, &b, 1, f->offset, read_done);
    if (rc) {
        f->reading = false;
        return rc;
    }
    f->busy = true;
    return 0;
}

static int file_read_start(tl__transport *t)
{
    filesrc *f = file_of(t);
    f->reading = true;
    return start_read(f);
}

/* The read in flight finishes; no next one starts. */
static void file_read_stop(tl__transport *t)
{
    file_of(t)->reading = false;
}

static void file_close(tl__transport *t, bool graceful)
{
    (void)graceful;
    filesrc *f = file_of(t);
    if (f->closing)
        return;
    f->closing = true;
    if (!f->busy)
        finish_close(f); /* else read_done closes it: the pool still uses the fd */
}

/* Read-only: no try_write, write, shutdown, or socket. */
static const tl__transport_ops file_ops = {
    .read_start = file_read_start,
    .read_stop = file_read_stop,
    .close = file_close,
};

/* Opens path read-only on the pool: the fd, or an error. */
static int open_on_pool(tl__fsop *op, const char *path)
{
    ssize_t fd =
        tl__fs_end(op, uv_fs_open(op->loop, &op->req, path, O_RDONLY | O_CLOEXEC, 0, tl__fs_cb));
    if (fd < 0 && op->req.result >= 0)
        close((int)op->req.result); /* opened, but the caller is gone */
    return (int)fd;
}

int tl_open_file_stream(const char *path, tl_stream **out)
{
    if (out)
        *out = NULL;
    tl__fsop op;
    int rc = tl__fs_begin(&op, "tl_open_file_stream", path && out);
    if (rc)
        return rc;
    int fd = open_on_pool(&op, path);
    if (fd < 0)
        return fd;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return TL_EISDIR;
    }
    filesrc *f = tl__malloc(sizeof *f);
    if (f)
        *f = (filesrc){.base.ops = &file_ops, .loop = &op.self->loop->uv, .fd = fd};
    tl_stream *s = f ? tl__stream_new(op.self->loop, TL__STREAM_OVER, &f->base) : NULL;
    if (!s) {
        tl__free(f);
        close(fd);
        return TL_ENOMEM;
    }
    tl__stream_start(s);
    *out = s;
    return 0;
}
