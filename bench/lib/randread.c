/* randread: the device limit. THREADS threads each open, read whole and close random files from
 * PATHS (URL paths, resolved under ROOT) for SECONDS; prints "DEVICE files=N files_per_s=X".
 * usage: randread ROOT PATHS THREADS SECONDS */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char **paths; static size_t npaths; static const char *root;
static atomic_long done, failed; static volatile int stop;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static void *worker(void *arg) {
    unsigned int seed = (unsigned int) (uintptr_t) arg * 2654435761u ^ (unsigned int) time(NULL);
    char p[4096], buf[65536];
    while (!stop) {
        size_t i = ((size_t) rand_r(&seed) << 16 ^ (size_t) rand_r(&seed)) % npaths;
        snprintf(p, sizeof p, "%s%s", root, paths[i]);
        int fd = open(p, O_RDONLY);
        if (fd < 0) { atomic_fetch_add(&failed, 1); continue; }
        ssize_t n; while ((n = read(fd, buf, sizeof buf)) > 0) {}
        close(fd);
        if (n < 0) atomic_fetch_add(&failed, 1); else if (!stop) atomic_fetch_add(&done, 1);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: %s ROOT PATHS THREADS SECONDS\n", argv[0]); return 2; }
    root = argv[1]; int threads = atoi(argv[3]); double secs = atof(argv[4]);
    FILE *f = fopen(argv[2], "r"); if (!f) { perror(argv[2]); return 2; }
    size_t cap = 1024; paths = malloc(cap * sizeof *paths); char line[4096];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0; if (!*line) continue;
        if (npaths == cap) paths = realloc(paths, (cap *= 2) * sizeof *paths);
        paths[npaths++] = strdup(line);
    }
    fclose(f); if (!npaths) { fprintf(stderr, "no paths\n"); return 2; }
    pthread_t *t = calloc(threads, sizeof *t);
    double t0 = now();
    for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, worker, (void *) (uintptr_t) (i + 1));
    usleep((useconds_t) (secs * 1e6)); stop = 1; double el = now() - t0;
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    printf("DEVICE files=%ld failed=%ld threads=%d seconds=%.2f files_per_s=%.1f\n",
           (long) done, (long) failed, threads, el, done / el);
    return 0;
}
