/* tl_open_file_stream: a read-only tl_stream over a file, so that
 * tl_stream_readline, readuntil, readexactly and read work on files with the
 * stream's own code. libuv cannot poll a regular file, so the stream's source
 * is a chain of uv_fs_read requests on the thread pool, one in flight at a
 * time, each into the source's own chunk (the stream's buffer may move while
 * a pool thread writes), handed to the stream with tl__stream_feed. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../io/io.h"
#include "fs.h"

#define CHUNK ((size_t)64 * 1024)

struct tl__filesrc {
    uv_fs_t req;
    int fd;
    int64_t offset;
    bool busy; /* a read is in flight */
    char chunk[CHUNK];
};

static void finish_close(tl_stream *s)
{
    close(s->file->fd); /* a regular file's close does not block */
    tl__free(s->file);
    s->file = NULL;
    tl__stream_closed(s);
}

static void read_done(uv_fs_t *req)
{
    tl_stream *s = req->data;
    tl__filesrc *f = s->file;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    f->busy = false;
    if (s->flags & TL__S_UV_CLOSING) {
        finish_close(s);
        return;
    }
    if (n > 0)
        f->offset += n;
    tl__stream_feed(s, f->chunk, n); /* 0: the end of the file */
    if ((s->flags & TL__S_READING) && !(s->flags & TL__S_EOF))
        tl__filesrc_read(s);
}

void tl__filesrc_read(tl_stream *s)
{
    tl__filesrc *f = s->file;
    if (f->busy)
        return;
    uv_buf_t b = uv_buf_init(f->chunk, CHUNK);
    f->req.data = s;
    int rc = uv_fs_read(&s->loop->uv, &f->req, f->fd, &b, 1, f->offset, read_done);
    if (rc) {
        tl__stream_feed(s, NULL, rc);
        return;
    }
    f->busy = true;
}

void tl__filesrc_close(tl_stream *s)
{
    if (!s->file->busy)
        finish_close(s); /* else read_done closes it: the pool still uses the fd */
}

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
    tl__filesrc *f = tl__malloc(sizeof *f);
    tl_stream *s = f ? tl__stream_new(op.self->loop, TL__STREAM_FILE, f) : NULL;
    if (!s) {
        tl__free(f);
        close(fd);
        return TL_ENOMEM;
    }
    *f = (tl__filesrc){.fd = fd};
    tl__stream_start(s);
    *out = s;
    return 0;
}
