/* Open files on libuv's thread pool: a handle that keeps its own position,
 * reads and writes at it or at an offset, and the whole-file helpers.
 *
 * Every call is one pool request (fs.h) or a loop of them. An interrupted
 * call may have changed the file all the same (the pool had started it):
 * the position follows what the OS did, and an fd opened or left open by
 * an interrupted call is closed here, so none leaks. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "fs.h"

struct tl_file {
    uv_file fd;
    bool append;     /* O_APPEND: the OS puts each write at the end, not at pos */
    bool unseekable; /* a FIFO, a terminal: only the fd's own position works */
    int64_t pos;
};

/* Marks "at the file's position" for transfer's offset. */
#define AT_POS INT64_MIN

int tl_file_open(const char *path, int flags, int mode, tl_file **out)
{
    if (out)
        *out = NULL;
    tl__fsop op;
    int rc = tl__fs_begin(&op, "tl_file_open", path && out);
    if (rc)
        return rc;
    tl_file *f = tl__malloc(sizeof *f);
    if (!f)
        return TL_ENOMEM;
    ssize_t fd =
        tl__fs_end(&op, uv_fs_open(op.loop, &op.req, path, flags | O_CLOEXEC, mode, tl__fs_cb));
    if (fd < 0) {
        if (op.req.result >= 0) /* opened while the caller was being interrupted */
            close((int)op.req.result);
        tl__free(f);
        return (int)fd;
    }
    *f = (tl_file){.fd = (uv_file)fd,
                   .append = (flags & O_APPEND) != 0,
                   .unseekable = lseek((int)fd, 0, SEEK_CUR) < 0}; /* ESPIPE, at once */
    *out = f;
    return 0;
}

/* One read or write of up to n bytes at offset, or at the file's position
 * (AT_POS), which then moves by what the OS moved, even if the caller was
 * interrupted while the pool ran it. */
static ssize_t transfer(tl_file *f, const char *fn, bool writing, char *buf, size_t n,
                        int64_t offset)
{
    tl__fsop op;
    int rc = tl__fs_begin(&op, fn, f && (buf || n == 0) && (offset >= 0 || offset == AT_POS));
    if (rc)
        return rc;
    bool at_pos = offset == AT_POS;
    if (at_pos)
        offset = f->unseekable || (writing && f->append) ? -1 : f->pos; /* -1: the fd's own */
    uv_buf_t b = {.base = buf, .len = n};
    int submitted = writing ? uv_fs_write(op.loop, &op.req, f->fd, &b, 1, offset, tl__fs_cb)
                            : uv_fs_read(op.loop, &op.req, f->fd, &b, 1, offset, tl__fs_cb);
    ssize_t r = tl__fs_end(&op, submitted);
    if (at_pos && offset >= 0 && op.req.result > 0)
        f->pos += op.req.result;
    return r;
}

/* Writes all n bytes, one request after another (write(2) may write less). */
static int write_all(tl_file *f, const char *fn, const char *p, size_t n, int64_t offset)
{
    for (;;) {
        ssize_t r = transfer(f, fn, true, (char *)p, n, offset);
        if (r < 0)
            return (int)r;
        if ((size_t)r == n)
            return 0;
        if (r == 0)
            return TL_EIO; /* write(2) does not say 0 for n > 0; if it did, this would spin */
        p += r;
        n -= (size_t)r;
        if (offset != AT_POS)
            offset += r;
    }
}

ssize_t tl_file_read(tl_file *f, void *buf, size_t n)
{
    return transfer(f, "tl_file_read", false, buf, n, AT_POS);
}

ssize_t tl_file_pread(tl_file *f, void *buf, size_t n, int64_t offset)
{
    return transfer(f, "tl_file_pread", false, buf, n, offset < 0 ? -1 : offset);
}

int tl_file_write(tl_file *f, const void *data, size_t n)
{
    return write_all(f, "tl_file_write", data, n, AT_POS);
}

int tl_file_pwrite(tl_file *f, const void *data, size_t n, int64_t offset)
{
    return write_all(f, "tl_file_pwrite", data, n, offset < 0 ? -1 : offset);
}

int tl_file_sync(tl_file *f)
{
    tl__fsop op;
    int rc = tl__fs_begin(&op, "tl_file_sync", f != NULL);
    return rc ? rc : (int)tl__fs_end(&op, uv_fs_fsync(op.loop, &op.req, f->fd, tl__fs_cb));
}

int tl_file_fd(const tl_file *f)
{
    return f ? f->fd : TL_EINVAL;
}

int tl_file_close(tl_file *f)
{
    tl__fsop op;
    int rc = tl__fs_begin(&op, "tl_file_close", f != NULL);
    if (!f)
        return rc;
    uv_file fd = f->fd;
    tl__free(f);
    if (rc == 0)
        rc = (int)tl__fs_end(&op, uv_fs_close(op.loop, &op.req, fd, tl__fs_cb));
    /* The pool never ran it (the caller was interrupted first, or the
     * request was refused): close here rather than leak the fd. close(2)
     * does not wait for the disk (except on NFS, which flushes): the one
     * blocking call a cancelled task makes, to keep its promise. */
    if (op.req.result == UV_ECANCELED)
        close(fd);
    return rc;
}

/* ---- whole files ---- */

/* The file's size, a hint only: files in /proc say 0, and files grow. */
static ssize_t size_hint(tl_file *f)
{
    tl__fsop op;
    int rc = tl__fs_begin(&op, "tl_read_file", true);
    if (rc)
        return rc;
    ssize_t r = tl__fs_wait(&op, uv_fs_fstat(op.loop, &op.req, f->fd, tl__fs_cb));
    if (r == 0)
        r = (ssize_t)op.req.statbuf.st_size;
    uv_fs_req_cleanup(&op.req);
    return r;
}

static int grow(char **buf, size_t *cap, size_t want)
{
    char *p = tl__user_realloc(*buf, want);
    if (!p)
        return TL_ENOMEM;
    *buf = p;
    *cap = want;
    return 0;
}

/* Reads f to its end, starting with a buffer of first bytes. */
static int read_all(tl_file *f, size_t first, char **data, size_t *len)
{
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        int rc = n + 1 < cap ? 0 : grow(&buf, &cap, cap ? 2 * cap : first);
        ssize_t r = rc ? rc : tl_file_read(f, buf + n, cap - n - 1);
        if (r < 0) {
            free(buf);
            return (int)r;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

int tl_read_file(const char *path, char **data, size_t *len)
{
    tl__need_task("tl_read_file");
    if (!path || !data || !len)
        return TL_EINVAL;
    *data = NULL;
    *len = 0;
    tl_file *f;
    int rc = tl_file_open(path, O_RDONLY, 0, &f);
    if (rc)
        return rc;
    ssize_t size = size_hint(f);
    /* + 2: room for the NUL and for the read that finds the end. */
    rc = size < 0 ? (int)size : read_all(f, size > 0 ? (size_t)size + 2 : 4096, data, len);
    int closed = tl_file_close(f);
    if (rc == 0 && closed < 0) {
        free(*data);
        *data = NULL;
        *len = 0;
        rc = closed;
    }
    return rc;
}

int tl_write_file(const char *path, const void *data, size_t len)
{
    tl__need_task("tl_write_file");
    if (!path || (!data && len > 0))
        return TL_EINVAL;
    tl_file *f;
    int rc = tl_file_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666, &f);
    if (rc)
        return rc;
    rc = tl_file_write(f, data, len);
    int closed = tl_file_close(f);
    return rc ? rc : closed;
}
