/* A parallel grep: one `grep -c` child process per file, four at a time,
 * their answers gathered and printed in the files' order:
 *
 *     sem = asyncio.Semaphore(4)
 *     async def count(path):
 *         async with sem:
 *             proc = await asyncio.create_subprocess_exec(
 *                 "grep", "-c", PATTERN, path,
 *                 stdout=PIPE, stderr=DEVNULL)
 *             out, _ = await proc.communicate()
 *             return proc.returncode, out
 *     results = await asyncio.gather(*(count(p) for p in paths))
 *
 * The program writes its own eight small files to a temporary directory first
 * (so it knows what grep should find), and asks about a ninth that does not
 * exist: grep's return code says which is which (0: lines matched, 1: none
 * did, 2: trouble, here a missing file).
 *
 * What to notice: the children run at the same time while the loop waits on
 * their pipes; the semaphore bounds the children alive at once, not the tasks;
 * tl_process_communicate reads a child's output to its end and waits for its
 * exit in one call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tulip.h>
#include <unistd.h>

#define NFILES  8
#define NPATHS  (NFILES + 1) /* the last does not exist */
#define LIMIT   4
#define PATTERN "tulip"

static char dir[] = "/tmp/pgrep_files.XXXXXX";
static char paths[NPATHS][64];

typedef struct result {
    int returncode;
    char out[32]; /* grep -c's count, newline dropped */
} result;

static result results[NPATHS];
static tl_semaphore sem;
static int running, most_running;

/* Runs grep -c on paths[i] into results[i]: 0, or why it could not. */
static int count(void *arg)
{
    int i = (int)(intptr_t)arg;
    int rc = tl_semaphore_acquire(&sem);
    if (rc < 0)
        return rc;
    if (++running > most_running)
        most_running = running;
    tl_process_opts o = {.argv = (char *[]){"grep", "-c", PATTERN, paths[i], NULL},
                         .stdout_mode = TL_STDIO_PIPE,
                         .stderr_mode = TL_STDIO_DEVNULL};
    tl_process *p;
    rc = tl_process_spawn(&o, &p);
    if (rc == 0) {
        char *out;
        size_t len;
        rc = tl_process_communicate(p, NULL, 0, &out, &len, NULL, NULL);
        if (rc == 0) {
            snprintf(results[i].out, sizeof results[i].out, "%.*s", (int)strcspn(out, "\n"), out);
            free(out);
            rc = tl_process_wait(p, &results[i].returncode); /* exited already: at once */
        }
        tl_process_free(p);
    }
    running--;
    tl_semaphore_release(&sem);
    return rc;
}

static int main_task(void *arg)
{
    (void)arg;
    tl_semaphore_init(&sem, LIMIT);
    tl_coro coros[NPATHS];
    int rcs[NPATHS];
    for (int i = 0; i < NPATHS; i++)
        coros[i] = TL_CORO(count, (void *)(intptr_t)i);
    int rc = tl_gather_coros(coros, NPATHS, rcs, TL_RETURN_EXCEPTIONS);
    printf("searched %d files for \"%s\", at most %d greps at once\n", NPATHS, PATTERN,
           most_running);
    for (int i = 0; i < NPATHS; i++) {
        const char *name = strrchr(paths[i], '/') + 1;
        if (rcs[i] < 0)
            printf("%s: cannot run grep: %s\n", name, tl_strerror(rcs[i]));
        else if (results[i].returncode == 2)
            printf("%s: grep failed (return code 2)\n", name);
        else
            printf("%s: lines matching: %s (return code %d)\n", name, results[i].out,
                   results[i].returncode);
    }
    tl_semaphore_destroy(&sem);
    return rc;
}

/* Before the loop starts, blocking is fine: file i + 1 holds i lines that
 * match among others that do not. */
static int make_files(void)
{
    if (!mkdtemp(dir))
        return -1;
    for (int i = 0; i < NPATHS; i++)
        snprintf(paths[i], sizeof paths[i], "%s/%s%d.txt", dir, i < NFILES ? "notes" : "missing",
                 i + 1);
    for (int i = 0; i < NFILES; i++) {
        FILE *f = fopen(paths[i], "w");
        if (!f)
            return -1;
        for (int line = 0; line < 10; line++)
            fprintf(f, "line %d: %s\n", line, line < i ? "a " PATTERN " in bloom" : "a rose");
        fclose(f);
    }
    return 0;
}

static void remove_files(void)
{
    for (int i = 0; i < NFILES; i++)
        unlink(paths[i]);
    rmdir(dir);
}

int main(void)
{
    if (make_files() < 0) {
        perror("pgrep_files: temporary files");
        return 1;
    }
    int rc = tl_run(main_task, NULL);
    remove_files();
    return rc == 0 ? 0 : 1;
}
