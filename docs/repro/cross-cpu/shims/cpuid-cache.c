// Another CPU's cache sizes, on this CPU: an LD_PRELOAD shim that makes the CPUID instruction trap (Linux's
// ARCH_SET_CPUID, where /proc/cpuinfo lists cpuid_fault) and answers it as the CPU would, except that the level-2
// cache reports CPUID_L2_KB kilobytes (the level-1 data cache CPUID_L1_KB and level 3 CPUID_L3_KB, if set). Libraries that size their blocking by the
// caches (oneDNN's im2col convolutions read the per-core L2) then run as they would on a CPU with those caches, so
// a test can show, on one machine, whether a result's bits depend on the cache size.
// Leaves rewritten: 4 (Intel's deterministic cache parameters), 0x8000001D (AMD's), 0x80000006 (AMD's legacy L2/L3
// sizes). CPUID_HIDE=avx,fma,avx2,avx512 also clears those feature bits (leaf 1 ECX 28 and 12, leaf 7 EBX 5, and
// every AVX-512 bit of leaf 7), so that a library that dispatches on them takes its older path. CPUID_LOG=1 writes each distinct leaf/subleaf asked to stderr.
// Build: cc -shared -fPIC -O2 -o /tmp/cpuid-cache.so docs/repro/cross-cpu/shims/cpuid-cache.c -ldl
// Use:   CPUID_L2_KB=1024 LD_PRELOAD=/tmp/cpuid-cache.so <command>
// Where the kernel or CPU cannot fault CPUID, the shim says so on stderr and exits with status 3 before the program
// starts, so that no run is mistaken for one with the emulated caches.
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <cpuid.h>
#include <dlfcn.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static long l1_kb, l2_kb, l3_kb;
static int log_leaves, hide_avx, hide_fma, hide_avx2, hide_avx512;
static struct sigaction previous;
static int installed;
static uint32_t logged[64][2];
static int logged_count;

static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);

// The shim's handler stays first: a runtime that installs its own SIGSEGV handler later (.NET does, and executes
// CPUID inside it) gets it recorded as the one to pass real faults to, and is told what it asked to replace.
int sigaction(int signal, const struct sigaction *action, struct sigaction *old) {
  if (!real_sigaction) real_sigaction = dlsym(RTLD_NEXT, "sigaction");
  if (signal != SIGSEGV || !installed) return real_sigaction(signal, action, old);
  if (old) *old = previous;
  if (action) previous = *action;
  return 0;
}

static int set_faulting(int on) { return (int)syscall(SYS_arch_prctl, ARCH_SET_CPUID, on ? 0 : 1); }

// Sets in a deterministic-cache-parameters answer (leaf 4 / 0x8000001D) so that the cache holds `kb` kilobytes.
static void resize(uint32_t ebx, uint32_t *ecx, long kb) {
  uint64_t ways = ((ebx >> 22) & 0x3ff) + 1, partitions = ((ebx >> 12) & 0x3ff) + 1, line = (ebx & 0xfff) + 1;
  uint64_t sets = (uint64_t)kb * 1024 / (ways * partitions * line);
  if (sets >= 1) *ecx = (uint32_t)(sets - 1);
}

static void answer(uint32_t leaf, uint32_t subleaf, uint32_t r[4]) {
  __cpuid_count(leaf, subleaf, r[0], r[1], r[2], r[3]);
  if ((leaf == 4 || leaf == 0x8000001d) && (r[0] & 0x1f) != 0 && (r[0] & 0x1f) != 2) {
    uint32_t level = (r[0] >> 5) & 7;
    if (level == 1 && (r[0] & 0x1f) == 1 && l1_kb > 0) resize(r[1], &r[2], l1_kb);
    if (level == 2 && l2_kb > 0) resize(r[1], &r[2], l2_kb);
    if (level == 3 && l3_kb > 0) resize(r[1], &r[2], l3_kb);
  }
  if (leaf == 1) {
    if (hide_avx) r[2] &= ~(1u << 28);
    if (hide_fma) r[2] &= ~(1u << 12);
  }
  if (leaf == 7 && subleaf == 0 && hide_avx2) r[1] &= ~(1u << 5);
  if (leaf == 7 && subleaf == 0 && hide_avx512) {
    r[1] &= ~((1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | (1u << 28) | (1u << 30) | (1u << 31));
    r[2] &= ~((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14));
    r[3] &= ~((1u << 2) | (1u << 3) | (1u << 8) | (1u << 23));
  }
  if (leaf == 7 && subleaf == 1 && hide_avx512) r[0] &= ~(1u << 5);
  if (leaf == 0x80000006) {
    if (l2_kb > 0) r[2] = (r[2] & 0xffff) | ((uint32_t)l2_kb << 16);
    if (l3_kb > 0) r[3] = (r[3] & 0x3ffff) | ((uint32_t)(l3_kb / 512) << 18);
  }
}

static void note(uint32_t leaf, uint32_t subleaf, const uint32_t r[4]) {
  for (int i = 0; i < logged_count; i++)
    if (logged[i][0] == leaf && logged[i][1] == subleaf) return;
  if (logged_count < 64) {
    logged[logged_count][0] = leaf;
    logged[logged_count][1] = subleaf;
    logged_count++;
  }
  char text[128];
  int n = snprintf(text, sizeof text, "cpuid-cache: leaf %#x.%u -> %08x %08x %08x %08x\n", leaf, subleaf, r[0], r[1], r[2], r[3]);
  if (n > 0) (void)!write(2, text, (size_t)n);
}

static void on_segv(int signal, siginfo_t *info, void *context) {
  ucontext_t *uc = context;
  greg_t *g = uc->uc_mcontext.gregs;
  const unsigned char *ip = (const unsigned char *)g[REG_RIP];
  if (ip[0] == 0x0f && ip[1] == 0xa2) {
    uint32_t leaf = (uint32_t)g[REG_RAX], subleaf = (uint32_t)g[REG_RCX], r[4];
    set_faulting(0);
    answer(leaf, subleaf, r);
    set_faulting(1);
    if (log_leaves) note(leaf, subleaf, r);
    g[REG_RAX] = r[0];
    g[REG_RBX] = r[1];
    g[REG_RCX] = r[2];
    g[REG_RDX] = r[3];
    g[REG_RIP] += 2;
    return;
  }
  // Not a CPUID: a real fault, for whoever handled it before.
  if (previous.sa_flags & SA_SIGINFO) {
    previous.sa_sigaction(signal, info, context);
  } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(signal);
  } else {
    real_sigaction(SIGSEGV, &previous, NULL);
  }
}

__attribute__((constructor)) static void start(void) {
  l1_kb = getenv("CPUID_L1_KB") ? atol(getenv("CPUID_L1_KB")) : 0;
  l2_kb = getenv("CPUID_L2_KB") ? atol(getenv("CPUID_L2_KB")) : 0;
  l3_kb = getenv("CPUID_L3_KB") ? atol(getenv("CPUID_L3_KB")) : 0;
  char hide[64] = "";
  if (getenv("CPUID_HIDE")) snprintf(hide, sizeof hide, "%s", getenv("CPUID_HIDE"));
  for (char *name = strtok(hide, ","); name; name = strtok(NULL, ",")) {
    hide_avx |= strcmp(name, "avx") == 0;
    hide_fma |= strcmp(name, "fma") == 0;
    hide_avx2 |= strcmp(name, "avx2") == 0;
    hide_avx512 |= strcmp(name, "avx512") == 0;
  }
  log_leaves = getenv("CPUID_LOG") != NULL && strcmp(getenv("CPUID_LOG"), "1") == 0;
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_sigaction = on_segv;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&action.sa_mask);
  if (!real_sigaction) real_sigaction = dlsym(RTLD_NEXT, "sigaction");
  real_sigaction(SIGSEGV, &action, &previous);
  installed = 1;
  // Threads inherit the setting from the thread that creates them, so every later thread faults too.
  if (set_faulting(1) != 0) {
    static const char message[] = "cpuid-cache: this CPU or kernel cannot make CPUID fault (no cpuid_fault in /proc/cpuinfo); no cache sizes can be emulated here\n";
    (void)!write(2, message, sizeof message - 1);
    _exit(3);
  }
}
