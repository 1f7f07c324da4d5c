/* batch-cost: what batching a small file's system calls into io_uring would save, per file, on this machine.
 * edge serves a page-cache thumbnail with openat2, statx, preadv2(RWF_NOWAIT) and close, each its own system
 * call from the event loop. Files are opened 25 at a time (about what one event-loop wake-up answers on
 * hot-thumbs) beneath ROOT as edge opens them; then, per MODE:
 *   sync     statx, preadv2 and close per file, as edge does today
 *   close    statx and preadv2 per file, the 25 closes in one io_uring_enter
 *   ring     statx, read and close of all 25 (hard-linked per file) in one io_uring_enter
 * and two modes that open on the ring too, for a server that knew a file's size and times without a statx:
 *   nostat   open, preadv2 and close per file, one system call each
 *   chain    open (into a registered "direct" descriptor), read and close of all 25, linked per file, in one
 *            io_uring_enter: no descriptor in the process's table, no statx
 * and one that keeps edge's statx of every file it opens:
 *   split    the 25 opens in one io_uring_enter, a statx per file, then the reads and closes (linked per file) in one
 * Prints the process's CPU time (user + system) per file. Run with the tree in the page cache.
 * usage: gcc -O2 -o /tmp/batch-cost bench/lib/batch-cost.c &&
 *        /tmp/batch-cost BENCH_DIR/thumbs-300000/tree BENCH_DIR/thumbs-300000/paths.txt sync|close|ring|nostat|chain|split [FILES] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define BATCH 25
#define MAX_FILE 65536
#define CLOSED 3 /* user_data of a close: its CQE comes only on failure */
#define DIRECT_CLOSED 4 /* user_data of a close whose CQE is waited for: chain's frees a slot for the next batch */

static int ring;
static struct io_uring_sqe *sqes;
static unsigned *sq_tail, *sq_mask, *cq_head, *cq_tail, *cq_mask, local_tail;
static struct io_uring_cqe *cqes;
static unsigned waited_for_closes;
#define OPENED 16 /* user_data of split's open of file j: OPENED + j */
static int opened[BATCH];

static void die(const char *what) { perror(what); exit(1); }

static void ring_setup(void) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    ring = syscall(SYS_io_uring_setup, 4 * BATCH, &p);
    if (ring < 0) die("io_uring_setup");
    char *sq = mmap(0, p.sq_off.array + p.sq_entries * 4, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring,
                    IORING_OFF_SQ_RING);
    char *cq = mmap(0, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe), PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
    sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                ring, IORING_OFF_SQES);
    if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) die("mmap");
    sq_tail = (unsigned *)(sq + p.sq_off.tail);
    sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
    unsigned *array = (unsigned *)(sq + p.sq_off.array);
    for (unsigned i = 0; i < p.sq_entries; i++) array[i] = i;
    cq_head = (unsigned *)(cq + p.cq_off.head);
    cq_tail = (unsigned *)(cq + p.cq_off.tail);
    cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
    cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
    local_tail = *sq_tail;
}

static struct io_uring_sqe *sqe(unsigned char opcode, int fd, unsigned char flags, unsigned long long user_data) {
    struct io_uring_sqe *s = &sqes[local_tail++ & *sq_mask];
    memset(s, 0, sizeof *s);
    s->opcode = opcode;
    s->fd = fd;
    s->flags = flags;
    s->user_data = user_data;
    return s;
}

/* Submits what is queued, waits for `wait` completions, and checks them: returns bytes read. */
static long enter(unsigned submit, unsigned wait) {
    __atomic_store_n(sq_tail, local_tail, __ATOMIC_RELEASE);
    if (syscall(SYS_io_uring_enter, ring, submit, wait, wait ? IORING_ENTER_GETEVENTS : 0, NULL, 0) < 0)
        die("io_uring_enter");
    long bytes = 0;
    unsigned head = *cq_head, tail = __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE);
    for (; head != tail; head++) {
        struct io_uring_cqe *c = &cqes[head & *cq_mask];
        if (c->res < 0) {
            fprintf(stderr, "io_uring op %llu failed: %s\n", c->user_data, strerror(-c->res));
            exit(1);
        }
        if (c->user_data == 2) bytes += c->res;
        if (c->user_data >= OPENED) opened[c->user_data - OPENED] = c->res;
        if (c->user_data == DIRECT_CLOSED) waited_for_closes++;
    }
    __atomic_store_n(cq_head, head, __ATOMIC_RELEASE);
    return bytes;
}

static int open_beneath(int root, const char *relative) {
    struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_CACHED};
    return syscall(SYS_openat2, root, relative, &how, sizeof how);
}

static double cpu_us(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 + u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s ROOT PATHS sync|close|ring|nostat|chain|split [FILES]\n", argv[0]);
        return 2;
    }
    enum { SYNC, CLOSE, RING, NOSTAT, CHAIN, SPLIT, MODES };
    const char *modes[MODES] = {"sync", "close", "ring", "nostat", "chain", "split"};
    int mode = -1;
    for (int m = 0; m < MODES; m++) if (!strcmp(argv[3], modes[m])) mode = m;
    if (mode < 0) { fprintf(stderr, "mode: sync, close, ring, nostat, chain or split\n"); return 2; }
    int files = argc > 4 ? atoi(argv[4]) : 100000;
    int root = open(argv[1], O_RDONLY | O_DIRECTORY);
    FILE *list = fopen(argv[2], "r");
    if (root < 0 || !list) die("open");
    char (*paths)[256] = malloc(sizeof *paths * (size_t)files);
    int n = 0;
    while (n < files && fgets(paths[n], sizeof paths[n], list)) {
        paths[n][strcspn(paths[n], "\n")] = 0;
        n++;
    }
    static char buffers[BATCH][MAX_FILE];
    static struct statx stats[BATCH];
    ring_setup();
    if (mode == CHAIN) { /* a table of BATCH empty slots for the direct descriptors */
        struct io_uring_rsrc_register table = {.nr = BATCH, .flags = IORING_RSRC_REGISTER_SPARSE};
        if (syscall(SYS_io_uring_register, ring, IORING_REGISTER_FILES2, &table, sizeof table) < 0) die("register");
    }
    /* no O_CLOEXEC: a direct descriptor refuses it (it is in no process's table) */
    static struct open_how direct_how = {.flags = O_RDONLY | O_NONBLOCK, .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS};
    long bytes = 0;
    int done = 0;
    double start = cpu_us();
    for (int i = 0; i + BATCH <= n; i += BATCH, done += BATCH) {
        if (mode == SPLIT) {
            static struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
                                          .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS};
            for (int j = 0; j < BATCH; j++) {
                const char *relative = paths[i + j][0] == '/' ? paths[i + j] + 1 : paths[i + j];
                struct io_uring_sqe *s = sqe(IORING_OP_OPENAT2, root, 0, OPENED + j);
                s->addr = (unsigned long)relative;
                s->len = sizeof how;
                s->off = (unsigned long)&how;
            }
            enter(BATCH, BATCH);
            waited_for_closes = 0;
            for (int j = 0; j < BATCH; j++) {
                syscall(SYS_statx, opened[j], "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stats[j]);
                struct io_uring_sqe *s = sqe(IORING_OP_READ, opened[j], IOSQE_IO_HARDLINK, 2);
                s->addr = (unsigned long)buffers[j];
                s->len = MAX_FILE;
                sqe(IORING_OP_CLOSE, opened[j], 0, DIRECT_CLOSED);
            }
            bytes += enter(2 * BATCH, 2 * BATCH);
            while (waited_for_closes < BATCH) bytes += enter(0, 1);
            continue;
        }
        if (mode == NOSTAT || mode == CHAIN) {
            for (int j = 0; j < BATCH; j++) {
                const char *relative = paths[i + j][0] == '/' ? paths[i + j] + 1 : paths[i + j];
                if (mode == NOSTAT) {
                    int fd = open_beneath(root, relative);
                    if (fd < 0) die(relative);
                    struct iovec v = {buffers[j], MAX_FILE};
                    bytes += preadv2(fd, &v, 1, 0, RWF_NOWAIT);
                    close(fd);
                    continue;
                }
                /* open into slot j (its CQE only on failure), then read it, then close it whatever the read did */
                struct io_uring_sqe *s = sqe(IORING_OP_OPENAT2, root, IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS, 1);
                s->addr = (unsigned long)relative;
                s->len = sizeof direct_how;
                s->off = (unsigned long)&direct_how;
                s->file_index = j + 1;
                s = sqe(IORING_OP_READ, j, IOSQE_FIXED_FILE | IOSQE_IO_HARDLINK, 2);
                s->addr = (unsigned long)buffers[j];
                s->len = MAX_FILE;
                s = sqe(IORING_OP_CLOSE, 0, 0, DIRECT_CLOSED);
                s->file_index = j + 1;
            }
            if (mode == CHAIN) {
                waited_for_closes = 0;
                bytes += enter(3 * BATCH, 2 * BATCH);
                while (waited_for_closes < BATCH) bytes += enter(0, 1); /* every slot free before the next batch */
            }
            continue;
        }
        int fds[BATCH];
        for (int j = 0; j < BATCH; j++) {
            const char *relative = paths[i + j][0] == '/' ? paths[i + j] + 1 : paths[i + j];
            if ((fds[j] = open_beneath(root, relative)) < 0) die(paths[i + j]);
        }
        for (int j = 0; j < BATCH; j++) {
            if (mode == RING) {
                struct io_uring_sqe *s = sqe(IORING_OP_STATX, fds[j], IOSQE_IO_HARDLINK, 1);
                s->addr = (unsigned long)"";
                s->statx_flags = AT_EMPTY_PATH;
                s->len = STATX_BASIC_STATS;
                s->off = (unsigned long)&stats[j];
                s = sqe(IORING_OP_READ, fds[j], IOSQE_IO_HARDLINK, 2);
                s->addr = (unsigned long)buffers[j];
                s->len = MAX_FILE;
                sqe(IORING_OP_CLOSE, fds[j], IOSQE_CQE_SKIP_SUCCESS, CLOSED);
                continue;
            }
            syscall(SYS_statx, fds[j], "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stats[j]);
            struct iovec v = {buffers[j], MAX_FILE};
            bytes += preadv2(fds[j], &v, 1, 0, RWF_NOWAIT);
            if (mode == SYNC) close(fds[j]);
            else sqe(IORING_OP_CLOSE, fds[j], IOSQE_CQE_SKIP_SUCCESS, CLOSED);
        }
        if (mode == CLOSE) enter(BATCH, 0);
        if (mode == RING) bytes += enter(3 * BATCH, 2 * BATCH);
    }
    printf("%s: %.2f us of CPU per file (%d files, %ld bytes read)\n", modes[mode], (cpu_us() - start) / done, done,
           bytes);
    return 0;
}
