/* Child processes: asyncio's create_subprocess_exec on uv_spawn.
 *
 * Every one of the child's fds 0, 1 and 2 is handed to libuv as an fd to
 * inherit: the parent's own, /dev/null, or the child's end of a socketpair
 * made here, whose other end becomes a tl_stream. One path for all modes, and
 * stderr can share stdout's pipe (libuv's own UV_CREATE_PIPE cannot be shared
 * within one spawn: the pipe opens only after the fork).
 *
 * libuv reaps a child only while its process handle is open, so the handle
 * outlives tl_process_free: it stays open (unreferenced) until the exit
 * callback, which closes it; tl_loop_free closes it whatever. */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../io/io.h"

struct tl_process {
    uv_process_t uv;
    tl_loop *loop;
    tl__attached attached;
    /* the pipes, or NULL; the process holds a reference on each of its own,
     * beside the owner's, so it can tell when the user closed one */
    tl_stream *pipes[3];
    tl__wlist waiters; /* tasks in tl_process_wait */
    int returncode;
    bool exited; /* reaped: returncode is set */
    bool freed;  /* the user gave the handle up */
};

/* What the child's fds 0, 1, 2 become, and which of those fds were opened
 * here (the parent closes its copies once the child has them). */
typedef struct stdio_plan {
    int fd[3];
    bool own[3];
} stdio_plan;

static void close_cb(uv_handle_t *h)
{
    tl__free(h->data); /* the handle's memory goes only here (libuv's rule) */
}

static void close_handle(tl_process *p)
{
    tl__loop_detach(p->loop, &p->attached);
    uv_close((uv_handle_t *)&p->uv, close_cb);
}

/* Closes the pipes the user has not closed and drops the process's references. */
static void drop_pipes(tl_process *p)
{
    for (int i = 0; i < 3; i++) {
        tl_stream *s = p->pipes[i];
        if (!s)
            continue;
        p->pipes[i] = NULL;
        if (!(s->flags & TL__S_RELEASED))
            tl__stream_release(s);
        tl__stream_unref(s);
    }
}

static void exit_cb(uv_process_t *h, int64_t status, int term_signal)
{
    tl_process *p = h->data;
    p->exited = true;
    p->returncode = term_signal ? -term_signal : (int)status;
    tl__wlist_wake_all(&p->waiters, 0);
    if (p->freed)
        close_handle(p);
}

/* tl_loop_free: the child, if it runs on, is no longer watched. */
static void io_teardown(tl__attached *n)
{
    tl_process *p = tl__container_of(n, tl_process, attached);
    drop_pipes(p);
    uv_close((uv_handle_t *)&p->uv, close_cb);
}

/* ---- spawning ---- */

/* A socketpair: the parent's end as the stream p->pipes[i], the child's in the plan. */
static int plan_pipe(tl_process *p, int i, size_t limit, stdio_plan *pl)
{
    tl_stream *s = tl__stream_new(p->loop, TL__STREAM_PIPE, NULL);
    if (!s)
        return TL_ENOMEM;
    uv_os_sock_t sv[2];
    int rc = uv_socketpair(SOCK_STREAM, 0, sv, UV_NONBLOCK_PIPE, 0);
    if (!rc && (rc = uv_pipe_open(&s->sock.uv.pipe, sv[0]))) {
        close(sv[0]);
        close(sv[1]);
    }
    if (rc) {
        tl__stream_release(s);
        return rc;
    }
    tl__stream_ref(s); /* the process's own */
    s->limit = limit;
    p->pipes[i] = s;
    pl->fd[i] = sv[1];
    pl->own[i] = true;
    return 0;
}

static int plan_one(tl_process *p, int i, tl_stdio mode, size_t limit, stdio_plan *pl)
{
    switch (mode) {
    case TL_STDIO_PIPE:
        return plan_pipe(p, i, limit, pl);
    case TL_STDIO_DEVNULL:
        pl->fd[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (pl->fd[i] < 0)
            return -errno;
        pl->own[i] = true;
        return 0;
    case TL_STDIO_STDOUT:
        pl->fd[i] = pl->fd[1]; /* stderr only, checked before */
        return 0;
    default:
        pl->fd[i] = i;
        return 0;
    }
}

static int plan_stdio(tl_process *p, const tl_process_opts *o, stdio_plan *pl)
{
    const tl_stdio modes[3] = {o->stdin_mode, o->stdout_mode, o->stderr_mode};
    size_t limit = o->limit ? o->limit : TL_STREAM_LIMIT_DEFAULT;
    for (int i = 0; i < 3; i++) {
        pl->fd[i] = -1;
        pl->own[i] = false;
    }
    int rc = 0;
    for (int i = 0; i < 3 && !rc; i++)
        rc = plan_one(p, i, modes[i], limit, pl);
    return rc;
}

static void close_planned(stdio_plan *pl)
{
    for (int i = 0; i < 3; i++) {
        if (pl->own[i])
            close(pl->fd[i]);
    }
}

static bool mode_ok(tl_stdio mode, bool is_stderr)
{
    return mode == TL_STDIO_INHERIT || mode == TL_STDIO_PIPE || mode == TL_STDIO_DEVNULL ||
           (is_stderr && mode == TL_STDIO_STDOUT);
}

static bool opts_ok(const tl_process_opts *o)
{
    return o && o->argv && o->argv[0] && mode_ok(o->stdin_mode, false) &&
           mode_ok(o->stdout_mode, false) && mode_ok(o->stderr_mode, true);
}

static int start(tl_process *p, const tl_process_opts *o, const stdio_plan *pl)
{
    uv_stdio_container_t stdio[3];
    for (int i = 0; i < 3; i++) {
        stdio[i].flags = UV_INHERIT_FD;
        stdio[i].data.fd = pl->fd[i];
    }
    uv_process_options_t uo = {
        .exit_cb = exit_cb,
        .file = o->file ? o->file : o->argv[0],
        .args = (char **)o->argv,
        .env = (char **)o->env,
        .cwd = o->cwd,
        .stdio_count = 3,
        .stdio = stdio,
    };
    p->uv.data = p;
    return uv_spawn(&p->loop->uv, &p->uv, &uo);
}

int tl_process_spawn(const tl_process_opts *o, tl_process **out)
{
    tl_loop *loop = tl__need_loop("tl_process_spawn");
    *out = NULL;
    if (!opts_ok(o))
        return TL_EINVAL;
    tl_process *p = tl__calloc(1, sizeof *p);
    if (!p)
        return TL_ENOMEM;
    p->loop = loop;
    p->attached.teardown = io_teardown;
    stdio_plan pl;
    int rc = plan_stdio(p, o, &pl);
    bool spawned = !rc; /* uv_spawn initializes the handle even when it fails */
    if (spawned)
        rc = start(p, o, &pl);
    close_planned(&pl);
    if (rc) {
        drop_pipes(p);
        if (spawned)
            uv_close((uv_handle_t *)&p->uv, close_cb); /* a failed exec was reaped already */
        else
            tl__free(p);
        return rc;
    }
    for (int i = 1; i < 3; i++) {
        if (p->pipes[i])
            tl__stream_start(p->pipes[i]); /* an error here reaches the first read */
    }
    tl__loop_attach(loop, &p->attached);
    *out = p;
    return 0;
}

int tl_process_shell(const char *cmd, const tl_process_opts *opts, tl_process **out)
{
    *out = NULL;
    if (!cmd)
        return TL_EINVAL;
    char *argv[] = {"/bin/sh", "-c", (char *)(uintptr_t)cmd, NULL};
    tl_process_opts o = opts ? *opts : (tl_process_opts){0};
    o.file = argv[0];
    o.argv = argv;
    return tl_process_spawn(&o, out);
}

/* ---- the running child ---- */

int tl_process_pid(const tl_process *p)
{
    return p->uv.pid;
}

/* A pipe the user has closed is no longer the process's to hand out. */
static tl_stream *pipe_of(tl_process *p, int i)
{
    tl_stream *s = p->pipes[i];
    return s && !(s->flags & TL__S_RELEASED) ? s : NULL;
}

tl_stream *tl_process_stdin(tl_process *p)
{
    return pipe_of(p, 0);
}

tl_stream *tl_process_stdout(tl_process *p)
{
    return pipe_of(p, 1);
}

tl_stream *tl_process_stderr(tl_process *p)
{
    return pipe_of(p, 2);
}

int tl_process_wait(tl_process *p, int *returncode)
{
    tl_task *self = tl__need_task("tl_process_wait");
    int rc = 0;
    if (!p->exited && !(rc = tl__interrupt(self)))
        rc = tl__wait_in(self, &p->waiters, "process exit", p);
    if (!rc && returncode)
        *returncode = p->returncode;
    return rc;
}

int tl_process_kill(tl_process *p, int signum)
{
    if (p->exited)
        return TL_ESRCH; /* its pid may belong to another process by now */
    return uv_process_kill(&p->uv, signum);
}

void tl_process_free(tl_process *p)
{
    if (!p)
        return;
    tl__need_loop("tl_process_free");
    if (p->freed)
        tl__fatal("tl_process_free: process %p freed twice", (void *)p);
    p->freed = true;
    drop_pipes(p);
    if (p->exited)
        close_handle(p);
    else
        uv_unref((uv_handle_t *)&p->uv); /* it waits for the exit, keeping nothing alive */
}
