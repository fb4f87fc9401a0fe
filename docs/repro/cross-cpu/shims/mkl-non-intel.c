/*
 * Makes the oneMKL linked into libtorch_cpu.so believe it runs on a CPU that is not Intel's, so that an Intel machine
 * takes the code paths oneMKL takes on an AMD one (where oneMKL's vendor check is the difference). libtorch_cpu.so
 * exports these two functions and calls them through its PLT, so a preloaded definition replaces them.
 *
 *   gcc -shared -fPIC -O2 -o /tmp/mkl-non-intel.so mkl-non-intel.c
 *   LD_PRELOAD=/tmp/mkl-non-intel.so dotnet experiments/Experiments.Catalog/bin/Debug/net10.0/experiments.dll run ...
 */
int mkl_serv_intel_cpu_true(void) { return 0; }
int mkl_serv_intel_cpu(void) { return 0; }
