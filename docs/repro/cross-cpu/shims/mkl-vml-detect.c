/*
 * Logs which code path oneMKL's vector maths (exp, log, sqrt, tanh in LibTorch's CPU kernels) detects, and forces one with
 * FAKE_VML_CPU=N (0 is the generic path).
 *
 *   gcc -shared -fPIC -O2 -o /tmp/mkl-vml-detect.so mkl-vml-detect.c -ldl
 *   LD_PRELOAD=/tmp/mkl-vml-detect.so dotnet .../Experiments.Benchmarks.dll kernel-bits 2>&1 | grep vml
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
static int (*real)(void);
static int logged;
int mkl_vml_serv_cpu_detect(void) {
  if (!real) { void *h = dlopen("libtorch_cpu.so", RTLD_NOLOAD | RTLD_LAZY); real = (int (*)(void))dlsym(h, "mkl_vml_serv_cpu_detect"); }
  int v = real();
  const char *force = getenv("FAKE_VML_CPU");
  int out = force ? atoi(force) : v;
  if (logged < 3) { logged++; fprintf(stderr, "[vml] cpu_detect -> %d (returned %d)\n", v, out); }
  return out;
}
