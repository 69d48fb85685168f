/* Files and the file system on libuv's thread pool: positions, whole files,
 * the OS's errors as they are, and the pool's cancellation rule (withdrawn
 * unstarted, else waited for). */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fault_walk.h"

/* ---- a scratch directory per test, removed with what it holds ---- */

static char scratch[64];

static void mkscratch(void)
{
    strcpy(scratch, "/tmp/tulip-test-file.XXXXXX");
    cr_assert_not_null(mkdtemp(scratch));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void rmscratch(void)
{
    cr_assert_eq(nftw(scratch, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* Every test gets one, removed even when the test fails. */
TestSuite(file, .init = mkscratch, .fini = rmscratch);

static char *in_scratch(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", scratch, name);
    return buf;
}

static int nothing(void *arg)
{
    (void)arg;
    return 0;
}

/* The open fds, after a first loop has opened what libuv keeps for the
 * process (its signal pipe). */
static int open_fds(void)
{
    RUN(nothing, NULL);
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void expect_contents(const char *path, const char *want)
{
    char *data;
    size_t len;
    int rc = tl_read_file(path, &data, &len);
    cr_assert_eq(rc, 0, "%s: %s", path, tl_err_name(rc));
    cr_assert_eq(len, strlen(want));
    cr_assert_str_eq(data, want);
    free(data);
}

/* ---- positions ---- */

static int positions(void *arg)
{
    (void)arg;
    char p[128];
    in_scratch(p, sizeof p, "f");
    tl_file *f;
    cr_assert_eq(tl_file_open(p, O_RDWR | O_CREAT | O_EXCL, 0600, &f), 0);
    cr_assert(fcntl(tl_file_fd(f), F_GETFD) & FD_CLOEXEC, "opened close-on-exec");
    cr_assert_eq(tl_file_write(f, "hello world", 11), 0);
    char buf[16] = {0};
    cr_assert_eq(tl_file_read(f, buf, sizeof buf), 0, "the position is at the end");
    cr_assert_eq(tl_file_pread(f, buf, 5, 0), 5);
    cr_assert_arr_eq(buf, "hello", 5);
    cr_assert_eq(tl_file_pwrite(f, "WORLD", 5, 6), 0);
    cr_assert_eq(tl_file_write(f, "!", 1), 0, "pread and pwrite left the position at 11");
    cr_assert_eq(tl_file_sync(f), 0);
    cr_assert_eq(tl_file_close(f), 0);
    expect_contents(p, "hello WORLD!");

    cr_assert_eq(tl_file_open(p, O_RDONLY, 0, &f), 0);
    cr_assert_eq(tl_file_read(f, buf, 6), 6);
    cr_assert_eq(tl_file_read(f, buf, sizeof buf), 6, "reads go on where the last stopped");
    cr_assert_arr_eq(buf, "WORLD!", 6);
    cr_assert_eq(tl_file_read(f, buf, sizeof buf), 0);
    cr_assert_eq(tl_file_close(f), 0);
    return 0;
}

Test(file, reads_and_writes_move_the_position_and_preads_do_not)
{
    RUN(positions, NULL);
}

static int appends(void *arg)
{
    (void)arg;
    char p[128];
    in_scratch(p, sizeof p, "log");
    cr_assert_eq(tl_write_file(p, "abc", 3), 0);
    tl_file *f;
    cr_assert_eq(tl_file_open(p, O_WRONLY | O_APPEND, 0, &f), 0);
    cr_assert_eq(tl_file_write(f, "def", 3), 0);
    cr_assert_eq(tl_file_write(f, "gh", 2), 0);
    cr_assert_eq(tl_file_close(f), 0);
    expect_contents(p, "abcdefgh");
    return 0;
}

Test(file, writes_to_a_file_opened_with_o_append_go_to_its_end)
{
    RUN(appends, NULL);
}

/* ---- the OS's errors ---- */

static int os_errors(void *arg)
{
    (void)arg;
    char missing[128], dir[128], file[128];
    in_scratch(missing, sizeof missing, "missing");
    in_scratch(dir, sizeof dir, "d");
    in_scratch(file, sizeof file, "f");
    tl_file *f;
    char *data;
    size_t len;
    struct stat st;
    tl_dirent *e;
    size_t n;
    char buf[8];

    cr_assert_eq(tl_file_open(missing, O_RDONLY, 0, &f), TL_ENOENT);
    cr_assert_null(f);
    cr_assert_eq(tl_read_file(missing, &data, &len), TL_ENOENT);
    cr_assert_null(data);
    cr_assert_eq(tl_fs_stat(missing, &st), TL_ENOENT);
    cr_assert_eq(tl_fs_unlink(missing), TL_ENOENT);
    cr_assert_eq(tl_fs_rmdir(missing), TL_ENOENT);
    cr_assert_eq(tl_fs_rename(missing, file), TL_ENOENT);
    cr_assert_eq(tl_fs_scandir(missing, &e, &n), TL_ENOENT);

    cr_assert_eq(tl_fs_mkdir(dir, 0700), 0);
    cr_assert_eq(tl_fs_mkdir(dir, 0700), TL_EEXIST);
    /* Linux opens a directory for reading; reading it is the error. */
    cr_assert_eq(tl_file_open(dir, O_RDONLY, 0, &f), 0);
    cr_assert_eq(tl_file_read(f, buf, sizeof buf), TL_EISDIR);
    cr_assert_eq(tl_file_close(f), 0);
    cr_assert_eq(tl_file_open(dir, O_WRONLY, 0, &f), TL_EISDIR);
    cr_assert_eq(tl_read_file(dir, &data, &len), TL_EISDIR);
    cr_assert_null(data);

    cr_assert_eq(tl_write_file(file, "x", 1), 0);
    cr_assert_eq(tl_fs_scandir(file, &e, &n), TL_ENOTDIR);
    cr_assert_eq(tl_fs_rmdir(file), TL_ENOTDIR);
    cr_assert_eq(tl_fs_rename(file, dir), TL_EISDIR);
    cr_assert_eq(tl_fs_rename(dir, file), TL_ENOTDIR);
    char inner[160];
    snprintf(inner, sizeof inner, "%s/x", dir);
    cr_assert_eq(tl_write_file(inner, "", 0), 0);
    cr_assert_eq(tl_fs_rmdir(dir), TL_ENOTEMPTY);

    cr_assert_eq(tl_file_open(file, O_RDONLY, 0, &f), 0);
    cr_assert_eq(tl_file_write(f, "y", 1), TL_EBADF, "opened read-only");
    cr_assert_eq(tl_file_close(f), 0);

    cr_assert_eq(tl_file_open("/dev/full", O_WRONLY, 0, &f), 0);
    cr_assert_eq(tl_file_write(f, "z", 1), TL_ENOSPC);
    cr_assert_eq(tl_file_close(f), 0);
    cr_assert_eq(tl_write_file("/dev/full", "z", 1), TL_ENOSPC);

    /* The tests run as root, who writes through a file's mode bits. A
     * sysctl's mode binds root too: this one is 0444, so opening it for
     * writing is EACCES for everyone. */
    cr_assert_eq(tl_file_open("/proc/sys/kernel/osrelease", O_WRONLY, 0, &f), TL_EACCES);
    cr_assert_eq(tl_write_file("/proc/sys/kernel/osrelease", "x", 1), TL_EACCES);
    return 0;
}

Test(file, errors_are_the_os_errors)
{
    RUN(os_errors, NULL);
}

static int null_arguments(void *arg)
{
    (void)arg;
    tl_file *f;
    char *data;
    size_t len, n;
    struct stat st;
    tl_dirent *e;
    char buf[4];
    cr_assert_eq(tl_file_open(NULL, O_RDONLY, 0, &f), TL_EINVAL);
    cr_assert_eq(tl_file_open("/dev/null", O_RDONLY, 0, NULL), TL_EINVAL);
    cr_assert_eq(tl_file_read(NULL, buf, 1), TL_EINVAL);
    cr_assert_eq(tl_file_pread(NULL, buf, 1, 0), TL_EINVAL);
    cr_assert_eq(tl_file_write(NULL, "x", 1), TL_EINVAL);
    cr_assert_eq(tl_file_pwrite(NULL, "x", 1, 0), TL_EINVAL);
    cr_assert_eq(tl_file_sync(NULL), TL_EINVAL);
    cr_assert_eq(tl_file_fd(NULL), TL_EINVAL);
    cr_assert_eq(tl_file_close(NULL), TL_EINVAL);
    cr_assert_eq(tl_file_open("/dev/null", O_RDWR, 0, &f), 0);
    cr_assert_eq(tl_file_read(f, NULL, 1), TL_EINVAL);
    cr_assert_eq(tl_file_write(f, NULL, 1), TL_EINVAL);
    cr_assert_eq(tl_file_pread(f, buf, 1, -1), TL_EINVAL);
    cr_assert_eq(tl_file_pwrite(f, "x", 1, -5), TL_EINVAL);
    cr_assert_eq(tl_file_read(f, NULL, 0), 0, "nothing to read into, nothing asked");
    cr_assert_eq(tl_file_write(f, NULL, 0), 0);
    cr_assert_eq(tl_file_close(f), 0);
    cr_assert_eq(tl_read_file(NULL, &data, &len), TL_EINVAL);
    cr_assert_eq(tl_read_file("/dev/null", NULL, &len), TL_EINVAL);
    cr_assert_eq(tl_read_file("/dev/null", &data, NULL), TL_EINVAL);
    cr_assert_eq(tl_write_file(NULL, "x", 1), TL_EINVAL);
    cr_assert_eq(tl_write_file("/dev/null", NULL, 1), TL_EINVAL);
    cr_assert_eq(tl_fs_stat(NULL, &st), TL_EINVAL);
    cr_assert_eq(tl_fs_stat("/", NULL), TL_EINVAL);
    cr_assert_eq(tl_fs_rename(NULL, "/tmp/x"), TL_EINVAL);
    cr_assert_eq(tl_fs_rename("/tmp/x", NULL), TL_EINVAL);
    cr_assert_eq(tl_fs_unlink(NULL), TL_EINVAL);
    cr_assert_eq(tl_fs_mkdir(NULL, 0700), TL_EINVAL);
    cr_assert_eq(tl_fs_rmdir(NULL), TL_EINVAL);
    cr_assert_eq(tl_fs_scandir(NULL, &e, &n), TL_EINVAL);
    cr_assert_eq(tl_fs_scandir("/", NULL, &n), TL_EINVAL);
    cr_assert_eq(tl_fs_scandir("/", &e, NULL), TL_EINVAL);
    tl_fs_scandir_free(NULL, 0);
    return 0;
}

Test(file, null_arguments_are_einval)
{
    RUN(null_arguments, NULL);
}

/* ---- whole files ---- */

static int whole_files(void *arg)
{
    (void)arg;
    char *data;
    size_t len;
    /* /proc's files say they are empty: the size is only a hint. */
    cr_assert_eq(tl_read_file("/proc/self/status", &data, &len), 0);
    cr_assert_gt(len, 0);
    cr_assert_eq(strncmp(data, "Name:", 5), 0);
    cr_assert_eq(data[len], '\0');
    cr_assert_eq(strlen(data), len);
    free(data);

    char p[128];
    in_scratch(p, sizeof p, "empty");
    cr_assert_eq(tl_write_file(p, NULL, 0), 0);
    cr_assert_eq(tl_read_file(p, &data, &len), 0);
    cr_assert_eq(len, 0);
    cr_assert_not_null(data);
    cr_assert_eq(data[0], '\0');
    free(data);

    /* Bigger than any first guess, and not a round size. */
    size_t big = (1 << 20) + 3;
    char *src = malloc(big);
    for (size_t i = 0; i < big; i++)
        src[i] = (char)(i * 7 + i / 251);
    in_scratch(p, sizeof p, "big");
    cr_assert_eq(tl_write_file(p, src, big), 0);
    cr_assert_eq(tl_read_file(p, &data, &len), 0);
    cr_assert_eq(len, big);
    cr_assert_arr_eq(data, src, big);
    cr_assert_eq(data[len], '\0');
    free(data);

    cr_assert_eq(tl_write_file(p, "short", 5), 0, "truncates what was there");
    expect_contents(p, "short");
    free(src);

    in_scratch(p, sizeof p, "mode");
    mode_t mask = umask(022);
    cr_assert_eq(tl_write_file(p, "m", 1), 0);
    umask(mask);
    struct stat st;
    cr_assert_eq(stat(p, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0644, "0666 less the umask");
    return 0;
}

Test(file, read_file_and_write_file_handle_proc_empty_and_big_files)
{
    RUN(whole_files, NULL);
}

/* ---- names ---- */

static int names(void *arg)
{
    (void)arg;
    char a[128], b[128], d[128];
    in_scratch(a, sizeof a, "a");
    in_scratch(b, sizeof b, "b");
    in_scratch(d, sizeof d, "d");
    cr_assert_eq(tl_write_file(a, "12345", 5), 0);

    struct stat st, want;
    cr_assert_eq(tl_fs_stat(a, &st), 0);
    cr_assert_eq(stat(a, &want), 0);
    cr_assert(S_ISREG(st.st_mode));
    cr_assert_eq(st.st_mode, want.st_mode);
    cr_assert_eq(st.st_size, 5);
    cr_assert_eq(st.st_nlink, 1);
    cr_assert_eq(st.st_ino, want.st_ino);
    cr_assert_eq(st.st_dev, want.st_dev);
    cr_assert_eq(st.st_uid, want.st_uid);
    cr_assert_eq(st.st_gid, want.st_gid);
    cr_assert_eq(st.st_blocks, want.st_blocks);
    cr_assert_eq(st.st_blksize, want.st_blksize);
    cr_assert_eq(st.st_mtim.tv_sec, want.st_mtim.tv_sec);
    cr_assert_eq(st.st_mtim.tv_nsec, want.st_mtim.tv_nsec);
    cr_assert_eq(st.st_ctim.tv_nsec, want.st_ctim.tv_nsec);
    cr_assert_eq(st.st_atim.tv_nsec, want.st_atim.tv_nsec);
    cr_assert_eq(tl_fs_stat("/dev/null", &st), 0);
    cr_assert(S_ISCHR(st.st_mode));
    cr_assert_eq(st.st_rdev, makedev(1, 3));

    cr_assert_eq(tl_fs_rename(a, b), 0);
    cr_assert_eq(tl_fs_stat(a, &st), TL_ENOENT);
    expect_contents(b, "12345");
    cr_assert_eq(tl_fs_unlink(b), 0);
    cr_assert_eq(tl_fs_stat(b, &st), TL_ENOENT);

    cr_assert_eq(tl_fs_mkdir(d, 0700), 0);
    cr_assert_eq(tl_fs_stat(d, &st), 0);
    cr_assert(S_ISDIR(st.st_mode));
    cr_assert_eq(st.st_mode & 0777, 0700);
    cr_assert_eq(tl_fs_rmdir(d), 0);
    cr_assert_eq(tl_fs_stat(d, &st), TL_ENOENT);
    return 0;
}

Test(file, stat_rename_unlink_mkdir_rmdir)
{
    RUN(names, NULL);
}

static int listing(void *arg)
{
    (void)arg;
    char p[128];
    tl_dirent *e;
    size_t n;
    cr_assert_eq(tl_fs_scandir(scratch, &e, &n), 0);
    cr_assert_eq(n, 0, "an empty directory");
    cr_assert_null(e);
    tl_fs_scandir_free(e, n);

    cr_assert_eq(tl_write_file(in_scratch(p, sizeof p, "b"), "", 0), 0);
    cr_assert_eq(tl_write_file(in_scratch(p, sizeof p, "B"), "", 0), 0);
    cr_assert_eq(tl_fs_mkdir(in_scratch(p, sizeof p, "a"), 0700), 0);
    cr_assert_eq(mkfifo(in_scratch(p, sizeof p, "fifo"), 0600), 0);
    cr_assert_eq(symlink("b", in_scratch(p, sizeof p, "link")), 0);
    cr_assert_eq(tl_fs_scandir(scratch, &e, &n), 0);
    static const struct {
        const char *name;
        int type;
    } want[] = {{"B", DT_REG}, {"a", DT_DIR}, {"b", DT_REG}, {"fifo", DT_FIFO}, {"link", DT_LNK}};
    cr_assert_eq(n, 5);
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(e[i].name, want[i].name, "sorted by strcmp, without . and ..");
        cr_assert_eq(e[i].type, want[i].type, "%s", e[i].name);
    }
    tl_fs_scandir_free(e, n);
    return 0;
}

Test(file, scandir_lists_sorted_names_with_their_types)
{
    RUN(listing, NULL);
}

/* ---- cancellation ---- */

typedef struct reader {
    tl_file *f;
    char buf[16];
} reader;

static int read_once(void *arg)
{
    reader *r = arg;
    return (int)tl_file_read(r->f, r->buf, sizeof r->buf);
}

/* A FIFO opened O_RDWR (Linux) opens at once; its reads block on a pool
 * thread until someone writes. */
static int cancel_while_running(void *arg)
{
    (void)arg;
    char p[128];
    in_scratch(p, sizeof p, "fifo");
    cr_assert_eq(mkfifo(p, 0600), 0);
    reader r = {0};
    cr_assert_eq(tl_file_open(p, O_RDWR, 0, &r.f), 0);
    tl_task *t = tl_create_task(read_once, &r);
    tl_sleep(2 * TOL); /* time for a pool thread to start the read */
    tl_task_cancel(t);
    tl_sleep(2 * TOL);
    cr_assert_not(tl_task_done(t), "a started read is waited for");
    int w = open(p, O_WRONLY | O_NONBLOCK);
    cr_assert_geq(w, 0);
    cr_assert_eq(write(w, "hello", 5), 5);
    cr_assert_eq(tl_await(t), TL_ECANCELED, "then the cancellation is reported");
    cr_assert_arr_eq(r.buf, "hello", 5, "the read finished into the caller's buffer");
    tl_task_release(t);
    close(w);
    cr_assert_eq(tl_file_close(r.f), 0);
    return 0;
}

Test(file, a_read_cancelled_while_it_runs_is_waited_for)
{
    RUN(cancel_while_running, NULL);
}

static int block_on_pipe(void *arg)
{
    char c;
    return read(*(int *)arg, &c, 1) == 1 ? 0 : -1;
}

static int blocker(void *arg)
{
    return tl_to_thread(block_on_pipe, arg);
}

static int make_dir(void *arg)
{
    return tl_fs_mkdir(arg, 0700);
}

enum { POOL = 4 };

/* Every pool thread blocks, so the mkdir queues behind them. */
static int cancel_before_start(void *arg)
{
    (void)arg;
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    tl_task *b[POOL];
    for (int i = 0; i < POOL; i++)
        b[i] = tl_create_task(blocker, &fds[0]);
    tl_sleep(2 * TOL);
    char p[128];
    in_scratch(p, sizeof p, "never");
    tl_task *t = tl_create_task(make_dir, p);
    tl_sleep(0.05);
    cr_assert_not(tl_task_done(t), "queued behind the blockers");
    double t0 = tl_time();
    tl_task_cancel(t);
    cr_assert_eq(tl_await(t), TL_ECANCELED);
    cr_assert_lt(elapsed_since(t0), TOL, "withdrawn, not waited for");
    tl_task_release(t);
    cr_assert_eq(write(fds[1], "xxxx", POOL), POOL);
    for (int i = 0; i < POOL; i++) {
        cr_assert_eq(tl_await(b[i]), 0);
        tl_task_release(b[i]);
    }
    struct stat st;
    cr_assert_eq(tl_fs_stat(p, &st), TL_ENOENT, "the withdrawn mkdir never ran");
    close(fds[0]);
    close(fds[1]);
    return 0;
}

Test(file, an_operation_cancelled_before_it_starts_never_runs)
{
    setenv("UV_THREADPOOL_SIZE", "4", 1); /* before the pool starts */
    RUN(cancel_before_start, NULL);
}

static int stat_root(void *arg)
{
    (void)arg;
    struct stat st;
    return tl_fs_stat("/", &st);
}

static int timeouts(void *arg)
{
    (void)arg;
    tl_timeout tm;
    tl_timeout_enter(&tm, 0);
    struct stat st;
    cr_assert_eq(tl_fs_stat("/", &st), TL_ETIMEDOUT);
    char *data;
    size_t len;
    cr_assert_eq(tl_read_file("/proc/self/status", &data, &len), TL_ETIMEDOUT);
    cr_assert_null(data);
    cr_assert_eq(tl_timeout_exit(&tm), TL_ETIMEDOUT);

    tl_task *t = tl_create_task(stat_root, NULL);
    cr_assert_eq(tl_wait_for(t, 0), TL_ETIMEDOUT);
    tl_task_release(t);
    cr_assert_eq(tl_fs_stat("/", &st), 0, "outside the scope");
    return 0;
}

Test(file, a_timeout_of_zero_times_file_operations_out)
{
    RUN(timeouts, NULL);
}

static int close_cancelled(void *arg)
{
    (void)arg;
    tl_file *f;
    cr_assert_eq(tl_file_open("/dev/null", O_RDONLY, 0, &f), 0);
    int fd = tl_file_fd(f);
    tl_task_cancel(tl_current_task());
    cr_assert_eq(tl_file_close(f), TL_ECANCELED);
    cr_assert_eq(fcntl(fd, F_GETFD), -1, "the fd was closed all the same");
    return 0;
}

static int cancelled_closer(void *arg)
{
    tl_task *t = tl_create_task(close_cancelled, arg);
    cr_assert_eq(tl_await(t), 0);
    tl_task_release(t);
    return 0;
}

Test(file, a_cancelled_close_still_closes)
{
    int fds = open_fds();
    RUN(cancelled_closer, NULL);
    cr_assert_eq(open_fds(), fds);
}

typedef struct slurp {
    const char *path;
    char *data;
    size_t len;
} slurp;

static int read_whole(void *arg)
{
    slurp *s = arg;
    return tl_read_file(s->path, &s->data, &s->len);
}

/* tl_read_file of a FIFO: it opens when a writer comes, reads what is
 * written and waits in a read for more, where it is cancelled. */
static int cancel_read_file(void *arg)
{
    (void)arg;
    char p[128];
    in_scratch(p, sizeof p, "fifo");
    cr_assert_eq(mkfifo(p, 0600), 0);
    slurp s = {.path = p};
    tl_task *t = tl_create_task(read_whole, &s);
    int w = -1;
    for (int i = 0; i < 100 && w < 0; i++) {
        w = open(p, O_WRONLY | O_NONBLOCK); /* ENXIO until the reader opens */
        if (w < 0)
            tl_sleep(0.01);
    }
    cr_assert_geq(w, 0);
    cr_assert_eq(write(w, "partial", 7), 7);
    tl_sleep(2 * TOL);
    tl_task_cancel(t);
    tl_sleep(0.05);
    cr_assert_not(tl_task_done(t), "the read under way is waited for");
    close(w); /* the read finds the end */
    cr_assert_eq(tl_await(t), TL_ECANCELED);
    cr_assert_null(s.data, "what was read is freed");
    tl_task_release(t);
    return 0;
}

Test(file, read_file_cancelled_midway_frees_and_closes)
{
    int fds = open_fds();
    long live = tl__alloc_live();
    RUN(cancel_read_file, NULL);
    cr_assert_eq(open_fds(), fds);
    cr_assert_eq(tl__alloc_live(), live);
}

/* ---- many at once ---- */

enum { MANY = 200 };

static int write_and_read_back(void *arg)
{
    int i = (int)(intptr_t)arg;
    char p[128], want[4096];
    snprintf(p, sizeof p, "%s/%d", scratch, i);
    size_t n = 0;
    while (n + 16 < sizeof want)
        n += (size_t)snprintf(want + n, sizeof want - n, "task %d, ", i);
    tl_file *f;
    int rc = tl_file_open(p, O_RDWR | O_CREAT | O_EXCL, 0600, &f);
    if (rc)
        return rc;
    rc = tl_file_write(f, want, n);
    char got[4096];
    ssize_t r = rc ? rc : tl_file_pread(f, got, sizeof got, 0);
    int closed = tl_file_close(f);
    if (r < 0 || closed < 0)
        return r < 0 ? (int)r : closed;
    if ((size_t)r != n || memcmp(got, want, n) != 0)
        return TL_EIO;
    char *data;
    size_t len;
    if ((rc = tl_read_file(p, &data, &len)) != 0)
        return rc;
    rc = len == n && memcmp(data, want, n) == 0 ? 0 : TL_EIO;
    free(data);
    return rc ? rc : tl_fs_unlink(p);
}

static int many(void *arg)
{
    (void)arg;
    tl_task *t[MANY];
    for (int i = 0; i < MANY; i++)
        t[i] = tl_create_task(write_and_read_back, (void *)(intptr_t)i);
    int results[MANY];
    cr_assert_eq(tl_gather(t, MANY, results, 0), 0);
    for (int i = 0; i < MANY; i++) {
        cr_assert_eq(results[i], 0, "task %d: %s", i, tl_err_name(results[i]));
        tl_task_release(t[i]);
    }
    tl_dirent *e;
    size_t n;
    cr_assert_eq(tl_fs_scandir(scratch, &e, &n), 0);
    cr_assert_eq(n, 0, "each unlinked its own");
    return 0;
}

Test(file, many_tasks_write_and_read_their_own_files)
{
    RUN(many, NULL);
}

/* ---- faults ---- */

static int faulty_program(void *arg)
{
    (void)arg;
    char p[128];
    in_scratch(p, sizeof p, "f");
    tl_file *f;
    int rc = tl_file_open(p, O_RDWR | O_CREAT | O_TRUNC, 0600, &f);
    if (rc)
        return rc;
    rc = tl_file_write(f, "hello", 5);
    char buf[8];
    ssize_t r = rc ? rc : tl_file_pread(f, buf, 5, 0);
    rc = tl_file_close(f);
    if (r < 0 || rc < 0)
        return r < 0 ? (int)r : rc;
    char *data;
    size_t len;
    if ((rc = tl_read_file(p, &data, &len)) != 0)
        return rc;
    cr_assert_str_eq(data, "hello");
    free(data);
    tl_dirent *e;
    size_t n;
    if ((rc = tl_fs_scandir(scratch, &e, &n)) != 0)
        return rc;
    cr_assert_eq(n, 1);
    tl_fs_scandir_free(e, n);
    return tl_fs_unlink(p);
}

Test(file, every_fault_point_fails_cleanly)
{
    int fds = open_fds();
    int n = fault_walk(faulty_program, NULL, 500);
    cr_assert_gt(n, 8, "the walk went through the file calls");
    cr_assert_eq(open_fds(), fds, "no fd leaked");
}
