// Poisoned allocations: every block from posix_memalign (LibTorch's CPU allocator, oneDNN's and oneMKL's buffers)
// starts filled with 0x7fedbeef, a float NaN (the pattern of c10's own junk-fill flag). A kernel that reads memory it
// never wrote then produces NaN on every run and every CPU, instead of only when the heap happens to hold NaN bytes.
// LibTorch's allocator zero-fills after this (the runtime's default), so under this shim a run shows whether anything
// *else* reads memory nobody wrote.
// Build: cc -shared -fPIC -O2 -o poison-alloc.so tests/tools/poison-alloc.c -ldl   (tests/tools/build-poison.sh)
// Use:   LD_PRELOAD=$PWD/poison-alloc.so <command>      (-DZERO_FILL builds the zero-filling variant)
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>

#ifdef ZERO_FILL
#define PATTERN 0u
#else
#define PATTERN 0x7fedbeefu
#endif

static int (*real_posix_memalign)(void **, size_t, size_t);

int posix_memalign(void **block, size_t alignment, size_t size) {
  if (!real_posix_memalign) real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
  int result = real_posix_memalign(block, alignment, size);
  if (result == 0) {
    uint32_t *words = *block;
    for (size_t i = 0; i < size / 4; i++) words[i] = PATTERN;
  }
  return result;
}
