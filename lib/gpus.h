/* SPDX-License-Identifier: Apache-2.0 */
/* Host GPU discovery from procfs alone (no NVML): driver version, GPUs, device majors, MIG caps.
 *
 * Everything is read below one proc root (normally "/proc"; tests pass a fake tree):
 *   driver/nvidia/version                        "NVRM version: ..." + "GCC version: ..."
 *   driver/nvidia/gpus/<bus id>/information      Model, GPU UUID, Bus Location, Device Minor, ...
 *   devices                                      character majors (nvidia, nvidia-uvm, ...)
 *   driver/nvidia/capabilities/mig/{config,monitor}, fabric-imex-mgmt
 *   driver/nvidia/capabilities/gpu<minor>/mig/gi<G>/access, .../gi<G>/ci<C>/access
 * driver/nvidia-caps/mig-minors is not read: it is the driver's static table of every possible
 * cap name and minor (4322 lines, ~0.4 ms to read and parse), which tools that learn GI/CI ids
 * from NVML need to map ids to minors. Here the capability files of the instances that exist
 * are enumerated, and each carries its own DeviceFileMinor.
 *
 * GPU order and index: GPUs are sorted by PCI address (domain, bus, device, function); the
 * index is the position in that order, which is how NVML and nvidia-smi number them. GPUs the
 * driver reports as excluded ("GPU Excluded: Yes", older "Blacklisted: Yes") are not usable and
 * NVML does not enumerate them: they are left out and only counted.
 *
 * MIG: procfs shows which GPU instances (GI) and compute instances (CI) exist, through the
 * capability files the driver creates for them, keyed by the parent GPU's device minor (not
 * its index). A MIG device is one CI; it is opened through /dev/nvidia<minor> plus the GI and
 * CI access caps (/dev/nvidia-caps/nvidia-cap<minor>). MIG device UUIDs ("MIG-...") are not
 * in procfs: they need NVML. The "<gpu index>:<mig index>" form nvidia-container-toolkit
 * accepts uses NVML's MIG device index (nvmlDeviceGetMigDeviceHandleByIndex); here the MIG
 * index is the position in (GI id, CI id) order, which is what NVML shows on current drivers
 * but is not a documented guarantee of NVML. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Upper bounds for hostile input. */
#define NVH_GPUS_MAX 1024          /* GPU directories under driver/nvidia/gpus */
#define NVH_GPUS_MAX_MIGS 256      /* MIG devices (CIs) per GPU; the driver allows 15 GIs x 8 CIs */
#define NVH_GPUS_MAX_ID 255        /* largest GI or CI id accepted */
#define NVH_GPUS_MAX_MAJOR 4095    /* 12-bit major (MAJORBITS) */
#define NVH_GPUS_MAX_MINOR 1048575 /* 20-bit minor (MINORBITS) */

/* Fixed minors under the main nvidia major and the nvidia-uvm major. */
#define NVH_GPUS_MINOR_CTL 255
#define NVH_GPUS_MINOR_MODESET 254
#define NVH_GPUS_MINOR_UVM 0
#define NVH_GPUS_MINOR_UVM_TOOLS 1

/* A capability device (/dev/nvidia-caps/nvidia-cap<minor>, major nvidia-caps). */
struct nvh_capdev {
        int minor; /* -1 when the capability does not exist */
        int mode;  /* DeviceFileMode (permission bits), -1 when not given */
};

/* One MIG device: a compute instance inside a GPU instance. */
struct nvh_mig {
        unsigned index; /* position in (gi, ci) order on the parent GPU */
        unsigned gi, ci;
        struct nvh_capdev gi_access; /* capabilities/gpu<minor>/mig/gi<gi>/access */
        struct nvh_capdev ci_access; /* capabilities/gpu<minor>/mig/gi<gi>/ci<ci>/access */
};

struct nvh_gpu {
        unsigned index;       /* position in PCI address order (NVML's index) */
        unsigned minor;       /* /dev/nvidia<minor> */
        char uuid[80];        /* "GPU-xxxxxxxx-...", "" when the driver did not report one */
        char bus_id[32];      /* lower case "dddd:bb:dd.f" */
        char model[128];      /* "NVIDIA H200" */
        char firmware[64];    /* GSP firmware version, "" when not reported */
        char vbios[32];       /* Video BIOS, "" when not reported */
        char proc_name[32];   /* directory name under driver/nvidia/gpus/ */
        bool loaded;          /* information read: minor, uuid, model, firmware, vbios, MIG valid */
        bool mig_capable;     /* capabilities/gpu<minor>/mig exists */
        struct nvh_mig *migs; /* sorted by (gi, ci) */
        size_t n_migs;
        char *info; /* the information file as read when loaded (the container's masked copy
                       serves these bytes: read once, not again at injection) */
};

/* Character device majors from <proc>/devices, -1 when absent. nvidiactl (255) and
 * nvidia-modeset (254) are minors of the main major; nvidia-uvm-tools is minor 1 of nvidia-uvm;
 * IMEX channel N is minor N of nvidia-caps-imex-channels. */
struct nvh_majors {
        int nvidia; /* "nvidia" (current drivers) or "nvidia-frontend" (older), usually 195 */
        int nvidia_uvm;
        int nvidia_caps;
        int nvidia_caps_imex; /* "nvidia-caps-imex-channels" */
        int nvidia_nvswitch;
        int nvidia_nvlink;
};

struct nvh_system {
        char driver_version[64]; /* "580.159.04" */
        char gcc_version[160];   /* rest of the "GCC version:" line, "" when absent */
        bool open_module;        /* "Open Kernel Module" build */
        struct nvh_gpu *gpus;    /* sorted by PCI address; gpus[i].index == i */
        size_t n_gpus;
        size_t n_excluded; /* GPUs the driver excluded, not in gpus */
        struct nvh_majors majors;
        struct nvh_capdev mig_config;  /* capabilities/mig/config */
        struct nvh_capdev mig_monitor; /* capabilities/mig/monitor */
        struct nvh_capdev imex_mgmt;   /* capabilities/fabric-imex-mgmt */

        char *params; /* driver/nvidia/params as read ("" when missing), for the plan */

        /* Private, for nvh_gpus_load: the proc root, held open (O_CLOEXEC). */
        char *host_proc;
        int proc_fd;
        int gpus_fd; /* driver/nvidia/gpus */
        int caps_fd; /* driver/nvidia/capabilities */
};

/* Discover the host's driver and GPUs below host_proc ("/proc" when NULL), every GPU loaded.
 * Reads only; never writes. Errors: -ENOENT when no NVIDIA driver is loaded (version file
 * missing), -EBADMSG naming the file when a file is malformed, -E2BIG when a limit is passed.
 *
 * Cost: reading one information file takes the driver ~0.2 ms (measured on an H200, 580.159.04,
 * persistence mode on), against ~3 us for any other file here, so with 64 GPUs discover spends
 * ~13 ms in the driver. nvh_gpus_open avoids that when the request names only some GPUs. */
int nvh_gpus_discover(const char *host_proc, struct nvh_system **ret_sys, struct nvh_err *err);

/* Like nvh_gpus_discover, but GPUs are listed from their directory names only (bus_id,
 * proc_name, index; loaded false) and each information file is read on demand by
 * nvh_gpus_load / nvh_gpus_load_all. Indexes are final because the driver's parameters show
 * that it excludes no GPU; when they do not (ExcludedGpus or GpuBlacklist set, or params
 * unreadable), every GPU is loaded here as in nvh_gpus_discover. */
int nvh_gpus_open(const char *host_proc, struct nvh_system **ret_sys, struct nvh_err *err);

/* Load gpus[i] (information file and MIG capabilities); no-op when loaded. */
int nvh_gpus_load(struct nvh_system *sys, size_t i, struct nvh_err *err);

/* Load every GPU; excluded ones are dropped (counted in n_excluded) and indexes closed up. */
int nvh_gpus_load_all(struct nvh_system *sys, struct nvh_err *err);

void nvh_gpus_free(struct nvh_system *sys);

/* A number as the driver's files and device names write it: decimal digits only (no sign,
 * no spaces), at most max. */
bool nvh_gpus_parse_uint(const char *s, unsigned long max, unsigned long *ret);

static inline void
nvh_gpus_freep(struct nvh_system **sys)
{
        nvh_gpus_free(*sys);
}
#define _cleanup_gpus_ __attribute__((cleanup(nvh_gpus_freep)))
