/*
 * Seccomp probe, run inside containers by test/integration/seccomp.test.ts. Makes each call a
 * default profile must refuse, with harmless arguments, through syscall(2) so no libc wrapper
 * changes what reaches the kernel, and prints one line per call: `name=ok` or `name=ERRNO`,
 * then the `NoNewPrivs:` and `Seccomp:` lines of /proc/self/status. Built static with Debian's gcc by the test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *name, long rc) {
  if (rc < 0) printf("%s=%s\n", name, strerrorname_np(errno));
  else printf("%s=ok\n", name);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  /* Meant for containers only: the test sets this in the container's environment. */
  if (!getenv("MINIPOD_SECCOMP_PROBE")) {
    fputs("seccomp-probe: not in a test container (MINIPOD_SECCOMP_PROBE unset)\n", stderr);
    return 2;
  }
  report("getpid", syscall(SYS_getpid));
  report("bpf", syscall(SYS_bpf, 0, NULL, 0));
  report("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
  report("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0));
  report("add_key", syscall(SYS_add_key, "user", "minipod-probe", "x", 1, -2 /* KEY_SPEC_PROCESS_KEYRING */));
  report("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* KEY_SPEC_SESSION_KEYRING */, 0));
  report("request_key", syscall(SYS_request_key, "user", "minipod-no-such-key", NULL, 0));
  report("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
  report("init_module", syscall(SYS_init_module, NULL, 0, ""));
  report("finit_module", syscall(SYS_finit_module, -1, "", 0));
  report("setns", syscall(SYS_setns, -1, 0));
  /* Targets that do not exist: harmless even where the calls are allowed. */
  report("mount", syscall(SYS_mount, "none", "/minipod-probe-no-such-dir", "tmpfs", 0, NULL));
  report("umount2", syscall(SYS_umount2, "/minipod-probe-no-such-dir", 0));
  long p = syscall(SYS_personality, 0x0400000 /* READ_IMPLIES_EXEC */);
  report("personality", p);
  if (p >= 0) syscall(SYS_personality, 0);
  report("userfaultfd", syscall(SYS_userfaultfd, O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY */));
  report("clone3", syscall(SYS_clone3, NULL, 0));
  report("io_uring_setup", syscall(SYS_io_uring_setup, 1, NULL));
  /* Last: when they succeed they change what the calls above would see. */
  long c = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  if (c == 0) _exit(0);
  if (c > 0) waitpid((pid_t)c, NULL, 0);
  report("clone_newuser", c);
  report("unshare_mnt", syscall(SYS_unshare, CLONE_NEWNS));
  report("unshare_user", syscall(SYS_unshare, CLONE_NEWUSER));
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  while (f && fgets(line, sizeof line, f)) {
    if (strncmp(line, "Seccomp:", 8) == 0 || strncmp(line, "NoNewPrivs:", 11) == 0) fputs(line, stdout);
  }
  return 0;
}
