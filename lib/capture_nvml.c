/* GPU metrics through NVML, loaded at run time with dlopen() so that
 * librunlog has no build or link dependency on the NVIDIA driver: with no
 * driver (or no GPU) rl_nvml_open() returns NULL and the capture records no
 * GPU keys. The few NVML declarations below are those of the public NVML API
 * (nvml.h); every function used returns 0 (NVML_SUCCESS) on success. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "capture_internal.h"

typedef struct nvml_device *nvml_device; /* nvmlDevice_t */
typedef struct { unsigned gpu, memory; } nvml_utilization;
typedef struct { unsigned long long total, free, used; } nvml_memory;
#define NVML_TEMPERATURE_GPU 0

struct rl_nvml {
    void *dl;
    unsigned count;
    int (*shutdown)(void);
    int (*handle)(unsigned, nvml_device *);
    int (*name)(nvml_device, char *, unsigned);
    int (*util)(nvml_device, nvml_utilization *);
    int (*memory)(nvml_device, nvml_memory *);
    int (*temp)(nvml_device, int, unsigned *);
    int (*power)(nvml_device, unsigned *);
    int (*limit)(nvml_device, unsigned *);
};

/* dlsym() into a function pointer: ISO C has no cast between object and
 * function pointers, so the bytes are copied (POSIX guarantees they match). */
static void load(void *dl, const char *sym, void *fnptr)
{
    void *p = dlsym(dl, sym);
    memcpy(fnptr, &p, sizeof p);
}
#define LOAD(field, sym) load(n->dl, sym, &n->field)

static int load_symbols(rl_nvml *n, int (**init)(void), int (**count)(unsigned *))
{
    load(n->dl, "nvmlInit_v2", init);
    load(n->dl, "nvmlDeviceGetCount_v2", count);
    LOAD(shutdown, "nvmlShutdown");
    LOAD(handle, "nvmlDeviceGetHandleByIndex_v2");
    LOAD(name, "nvmlDeviceGetName");
    LOAD(util, "nvmlDeviceGetUtilizationRates");
    LOAD(memory, "nvmlDeviceGetMemoryInfo");
    LOAD(temp, "nvmlDeviceGetTemperature");
    LOAD(power, "nvmlDeviceGetPowerUsage");
    LOAD(limit, "nvmlDeviceGetEnforcedPowerLimit");
    return *init && *count && n->shutdown && n->handle ? 0 : -1;
}

rl_nvml *rl_nvml_open(const char *library)
{
    int (*init)(void), (*count)(unsigned *);
    rl_nvml *n;

    if (library && !library[0])
        return NULL;
    if (!(n = calloc(1, sizeof *n)))
        return NULL;
    n->dl = dlopen(library ? library : "libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!n->dl || load_symbols(n, &init, &count) < 0 || init() != 0) {
        if (n->dl)
            dlclose(n->dl);
        free(n);
        return NULL;
    }
    if (count(&n->count) != 0)
        n->count = 0;
    return n;
}

void rl_nvml_close(rl_nvml *n)
{
    if (!n)
        return;
    n->shutdown();
    dlclose(n->dl);
    free(n);
}

unsigned rl_nvml_count(const rl_nvml *n)
{
    return n ? n->count : 0;
}

int rl_nvml_info(rl_nvml *n, unsigned i, char *name, size_t name_size, uint64_t *mem_total)
{
    nvml_device d;
    nvml_memory m;

    if (!n->name || n->handle(i, &d) != 0 || n->name(d, name, (unsigned)name_size) != 0)
        return -1;
    name[name_size - 1] = '\0';
    *mem_total = n->memory && n->memory(d, &m) == 0 ? m.total : 0;
    return 0;
}

void rl_nvml_sample(rl_nvml *n, unsigned i, rl_gpu_sample *s)
{
    nvml_device d;
    nvml_utilization u;
    nvml_memory m;
    unsigned v;

    memset(s, 0, sizeof *s);
    if (n->handle(i, &d) != 0)
        return;
    if (n->util && n->util(d, &u) == 0) {
        s->has_util = 1;
        s->util = u.gpu;
        s->mem_util = u.memory;
    }
    if (n->memory && n->memory(d, &m) == 0) {
        s->has_mem = 1;
        s->mem_used = (double)m.used;
        s->mem_total = (double)m.total;
    }
    if (n->temp && n->temp(d, NVML_TEMPERATURE_GPU, &v) == 0) {
        s->has_temp = 1;
        s->temp = v;
    }
    if (n->power && n->power(d, &v) == 0) { /* milliwatts */
        s->has_power = 1;
        s->power_w = v / 1000.0;
    }
    if (n->limit && n->limit(d, &v) == 0 && v > 0) {
        s->has_limit = 1;
        s->limit_w = v / 1000.0;
    }
}
