/*
 * Logs the cache sizes oneMKL (linked into libtorch_cpu.so) asks for, and scales them with FAKE_CACHE_SCALE=X, to see
 * whether a result depends on the cache sizes oneMKL reads from this CPU.
 *
 *   gcc -shared -fPIC -O2 -o /tmp/mkl-cache-size.so mkl-cache-size.c -ldl
 *   LD_PRELOAD=/tmp/mkl-cache-size.so FAKE_CACHE_SCALE=0.5 dotnet .../experiments.dll run ... 2>&1 | grep cache
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
static long (*real)(int);
static int logged[16];
long mkl_serv_get_cache_size(int level) {
  if (!real) { void *h = dlopen("libtorch_cpu.so", RTLD_NOLOAD | RTLD_LAZY); real = (long (*)(int))dlsym(h, "mkl_serv_get_cache_size"); }
  long v = real(level);
  const char *scale = getenv("FAKE_CACHE_SCALE");
  long out = scale ? (long)(v * atof(scale)) : v;
  if (level >= 0 && level < 16 && !logged[level]) { logged[level] = 1; fprintf(stderr, "[cache] level %d -> %ld (returned %ld)\n", level, v, out); }
  return out;
}
