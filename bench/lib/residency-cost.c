/* residency-cost: what telling whether a big file's 1 MiB chunks are in the page cache costs, the way edge
 * tells it (mmap of the chunk, mincore, munmap) against mincore on one mapping of the whole file kept open.
 * Five passes over the file; prints microseconds per chunk for each and how many chunks were resident.
 * usage: gcc -O2 -o /tmp/residency-cost bench/lib/residency-cost.c && /tmp/residency-cost FILE
 * (cat FILE > /dev/null first for the hot case). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1L << 20)
#define PASSES 5

static double now_us(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e6 + t.tv_nsec / 1e3; }

static int resident(const unsigned char *vector) {
    for (long i = 0; i < CHUNK / 4096; i++) {
        if (!(vector[i] & 1)) {
            return 0;
        }
    }
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: residency-cost FILE\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < CHUNK) {
        perror(argv[1]);
        return 1;
    }
    long chunks = st.st_size / CHUNK, hits = 0;
    static unsigned char vector[CHUNK / 4096];
    double t0 = now_us();
    for (int pass = 0; pass < PASSES; pass++) {
        for (long i = 0; i < chunks; i++) {
            void *a = mmap(NULL, CHUNK, PROT_READ, MAP_SHARED, fd, i * CHUNK);
            mincore(a, CHUNK, vector);
            hits += resident(vector);
            munmap(a, CHUNK);
        }
    }
    double t1 = now_us();
    char *whole = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    for (int pass = 0; pass < PASSES; pass++) {
        for (long i = 0; i < chunks; i++) {
            mincore(whole + i * CHUNK, CHUNK, vector);
            hits += resident(vector);
        }
    }
    double t2 = now_us();
    printf("RESIDENCY chunks=%ld resident=%ld map_per_chunk_us=%.1f kept_mapping_us=%.1f\n", chunks,
           hits / (2 * PASSES), (t1 - t0) / (PASSES * chunks), (t2 - t1) / (PASSES * chunks));
    return 0;
}
