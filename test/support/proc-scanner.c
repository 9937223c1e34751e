/*
 * A hostile container process for test/integration/proc-race.test.ts: for `seconds` it scans
 * /proc over and over, and for every other process tries to reach its exe, cwd, root and each
 * open fd (stat through the link, readlink, open for writing). Everything it reaches is checked
 * against its own root: a file that is not the same file (dev+ino) at the same path inside the
 * container is FOREIGN, i.e. something of the host. Output, one line each:
 *   REACH <pid> <what> <dev>:<ino> <mode> <foreign 0|1> <write 0|1> <link>
 *       (first time a (pid, what, dev, ino) is reached)
 *   DONE scans=<n> pids=<distinct pids seen> denied=<links that could not be followed>
 * Built static by the test with Debian's gcc: `gcc -static -O2 -o scanner proc-scanner.c`.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_SEEN 65536

struct seen { int pid; unsigned long dev, ino; char what[24]; };
static struct seen reached[MAX_SEEN];
static int nreached;
static int pids[MAX_SEEN];
static int npids;
static long denied;

static int already(int pid, const char *what, const struct stat *st) {
  for (int i = 0; i < nreached; i++) {
    if (reached[i].pid == pid && reached[i].dev == st->st_dev && reached[i].ino == st->st_ino &&
        strcmp(reached[i].what, what) == 0) return 1;
  }
  if (nreached < MAX_SEEN) {
    reached[nreached].pid = pid;
    reached[nreached].dev = st->st_dev;
    reached[nreached].ino = st->st_ino;
    snprintf(reached[nreached].what, sizeof reached[nreached].what, "%s", what);
    nreached++;
  }
  return 0;
}

static void note_pid(int pid) {
  for (int i = 0; i < npids; i++) if (pids[i] == pid) return;
  if (npids < MAX_SEEN) pids[npids++] = pid;
}

/* Same file at the same path in our own root? Pipes, sockets and anon inodes have no path. */
static int foreign(const char *link, const struct stat *st) {
  if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) return 0;
  if (link[0] != '/') return 1;
  char clean[4096];
  snprintf(clean, sizeof clean, "%s", link);
  char *del = strstr(clean, " (deleted)");
  if (del) *del = 0;
  struct stat mine;
  if (stat(clean, &mine) != 0) return 1;
  return mine.st_dev != st->st_dev || mine.st_ino != st->st_ino;
}

static void probe(int pid, const char *path, const char *what) {
  struct stat st;
  if (stat(path, &st) != 0) {
    if (errno == EACCES || errno == EPERM) denied++;
    return;
  }
  char link[4096];
  ssize_t n = readlink(path, link, sizeof link - 1);
  link[n > 0 ? n : 0] = 0;
  int writable = 0;
  if (S_ISREG(st.st_mode)) {
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) { writable = 1; close(fd); }
  }
  if (already(pid, what, &st)) return;
  printf("REACH %d %s %lu:%lu %o %d %d %s\n", pid, what, (unsigned long)st.st_dev, (unsigned long)st.st_ino,
         st.st_mode, foreign(link, &st), writable, link);
  fflush(stdout);
}

static void scan_pid(int pid) {
  char path[64];
  static const char *links[] = { "exe", "cwd", "root" };
  for (int i = 0; i < 3; i++) {
    snprintf(path, sizeof path, "/proc/%d/%s", pid, links[i]);
    probe(pid, path, links[i]);
  }
  snprintf(path, sizeof path, "/proc/%d/fd", pid);
  DIR *d = opendir(path);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char fdpath[96], what[24];
    snprintf(fdpath, sizeof fdpath, "/proc/%d/fd/%s", pid, e->d_name);
    snprintf(what, sizeof what, "fd%s", e->d_name);
    probe(pid, fdpath, what);
  }
  closedir(d);
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 10;
  int self = getpid(), parent = getppid();
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  long scans = 0;
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 > seconds) break;
    DIR *proc = opendir("/proc");
    if (!proc) { perror("/proc"); return 2; }
    struct dirent *e;
    while ((e = readdir(proc)) != NULL) {
      int pid = atoi(e->d_name);
      if (pid <= 0 || pid == self || pid == parent) continue;
      note_pid(pid);
      scan_pid(pid);
    }
    closedir(proc);
    scans++;
  }
  printf("DONE scans=%ld pids=%d denied=%ld\n", scans, npids, denied);
  return 0;
}
