/* Names in the file system (stat, rename, unlink, mkdir, rmdir, scandir),
 * and the one request helper every file call goes through (fs.h).
 *
 * The request lives in the caller's frame, with the path and buffers it was
 * given: tl__pool_wait keeps the caller there until no pool thread can touch
 * them again. libuv copies paths, but not buffers or the request itself. */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "fs.h"

int tl__fs_begin(tl__fsop *op, const char *fn, bool valid)
{
    tl_task *self = tl__need_task(fn);
    memset(op, 0, sizeof *op);
    op->req.result = UV_ECANCELED; /* it has not run */
    if (!valid)
        return TL_EINVAL;
    int rc = tl__interrupt(self);
    if (rc)
        return rc;
    if (tl__fault_point())
        return TL_ENOMEM;
    op->self = self;
    op->loop = &self->loop->uv;
    op->pw.withdraw = tl__pool_withdraw_uv;
    op->pw.req = &op->req;
    return 0;
}

void tl__fs_cb(uv_fs_t *req)
{
    tl__fsop *op = (tl__fsop *)req; /* its first member */
    tl__pool_done(&op->pw);
}

ssize_t tl__fs_wait(tl__fsop *op, int submitted)
{
    if (submitted < 0) {
        op->req.result = UV_ECANCELED;
        return submitted;
    }
    int rc = tl__pool_wait(op->self, &op->pw, "file");
    return rc ? rc : op->req.result;
}

ssize_t tl__fs_end(tl__fsop *op, int submitted)
{
    ssize_t r = tl__fs_wait(op, submitted);
    uv_fs_req_cleanup(&op->req);
    return r;
}

static void stat_from_uv(struct stat *st, const uv_stat_t *s)
{
    memset(st, 0, sizeof *st);
    st->st_dev = s->st_dev;
    st->st_ino = s->st_ino;
    st->st_mode = s->st_mode;
    st->st_nlink = s->st_nlink;
    st->st_uid = s->st_uid;
    st->st_gid = s->st_gid;
    st->st_rdev = s->st_rdev;
    st->st_size = s->st_size;
    st->st_blksize = s->st_blksize;
    st->st_blocks = s->st_blocks;
    st->st_atim = (struct timespec){s->st_atim.tv_sec, s->st_atim.tv_nsec};
    st->st_mtim = (struct timespec){s->st_mtim.tv_sec, s->st_mtim.tv_nsec};
    st->st_ctim = (struct timespec){s->st_ctim.tv_sec, s->st_ctim.tv_nsec};
}

int tl_fs_stat(const char *path, struct stat *st)
{
    tl__fsop op;
    int rc = tl__fs_begin(&op, "tl_fs_stat", path && st);
    if (rc)
        return rc;
    rc = (int)tl__fs_wait(&op, uv_fs_stat(op.loop, &op.req, path, tl__fs_cb));
    if (rc == 0)
        stat_from_uv(st, &op.req.statbuf);
    uv_fs_req_cleanup(&op.req);
    return rc;
}

int tl_fs_rename(const char *from, const char *to)
{
    tl__fsop op;
    int rc = tl__fs_begin(&op, "tl_fs_rename", from && to);
    return rc ? rc : (int)tl__fs_end(&op, uv_fs_rename(op.loop, &op.req, from, to, tl__fs_cb));
}

int tl_fs_unlink(const char *path)
{
    tl__fsop op;
    int rc = tl__fs_begin(&op, "tl_fs_unlink", path != NULL);
    return rc ? rc : (int)tl__fs_end(&op, uv_fs_unlink(op.loop, &op.req, path, tl__fs_cb));
}

int tl_fs_mkdir(const char *path, int mode)
{
    tl__fsop op;
    int rc = tl__fs_begin(&op, "tl_fs_mkdir", path != NULL);
    return rc ? rc : (int)tl__fs_end(&op, uv_fs_mkdir(op.loop, &op.req, path, mode, tl__fs_cb));
}

int tl_fs_rmdir(const char *path)
{
    tl__fsop op;
    int rc = tl__fs_begin(&op, "tl_fs_rmdir", path != NULL);
    return rc ? rc : (int)tl__fs_end(&op, uv_fs_rmdir(op.loop, &op.req, path, tl__fs_cb));
}

/* ---- scandir ---- */

static const unsigned char dt_of[] = {
    [UV_DIRENT_UNKNOWN] = DT_UNKNOWN, [UV_DIRENT_FILE] = DT_REG,  [UV_DIRENT_DIR] = DT_DIR,
    [UV_DIRENT_LINK] = DT_LNK,        [UV_DIRENT_FIFO] = DT_FIFO, [UV_DIRENT_SOCKET] = DT_SOCK,
    [UV_DIRENT_CHAR] = DT_CHR,        [UV_DIRENT_BLOCK] = DT_BLK,
};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const tl_dirent *)a)->name, ((const tl_dirent *)b)->name);
}

/* Copies the request's count entries out, sorted: libuv sorts them too, but
 * does not promise to. TL_ENOMEM leaves nothing behind. */
static int take_entries(uv_fs_t *req, size_t count, tl_dirent **entries, size_t *n)
{
    if (count == 0)
        return 0;
    tl_dirent *e = tl__calloc(count, sizeof *e);
    if (!e)
        return TL_ENOMEM;
    size_t i = 0;
    uv_dirent_t d;
    /* Until UV_EOF, not just count entries: uv_fs_req_cleanup leaks the
     * entry scandir_next returned last unless a later call saw UV_EOF
     * (libuv 1.44's uv__fs_scandir_cleanup). */
    while (uv_fs_scandir_next(req, &d) == 0 && i < count) {
        e[i].name = tl__strdup(d.name);
        if (!e[i].name) {
            tl_fs_scandir_free(e, i);
            return TL_ENOMEM;
        }
        e[i].type = (size_t)d.type < sizeof dt_of ? dt_of[d.type] : DT_UNKNOWN;
        i++;
    }
    qsort(e, i, sizeof *e, by_name);
    *entries = e;
    *n = i;
    return 0;
}

int tl_fs_scandir(const char *path, tl_dirent **entries, size_t *n)
{
    if (entries && n) {
        *entries = NULL;
        *n = 0;
    }
    tl__fsop op;
    int rc = tl__fs_begin(&op, "tl_fs_scandir", path && entries && n);
    if (rc)
        return rc;
    ssize_t r = tl__fs_wait(&op, uv_fs_scandir(op.loop, &op.req, path, 0, tl__fs_cb));
    rc = r < 0 ? (int)r : take_entries(&op.req, (size_t)r, entries, n);
    uv_fs_req_cleanup(&op.req);
    return rc;
}

void tl_fs_scandir_free(tl_dirent *entries, size_t n)
{
    if (!entries)
        return;
    for (size_t i = 0; i < n; i++)
        tl__free(entries[i].name);
    tl__free(entries);
}
