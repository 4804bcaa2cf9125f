/* SPDX-License-Identifier: Apache-2.0 */
/* nvidia-container-cli's command line (hook/nvcli_args.c): what argv asked for. The commands
 * that act on it are in hook/nvcli.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define NVH_NVCLI_PROG "nvidia-container-cli"
#define NVH_NVCLI_MAX_REQS 64

enum nvh_nvcli_cmd {
        NVH_NVCLI_CMD_NONE,
        NVH_NVCLI_CMD_INFO,
        NVH_NVCLI_CMD_LIST,
        NVH_NVCLI_CMD_CONFIGURE,
};

struct nvh_nvcli_opts {
        enum nvh_nvcli_cmd cmd;
        /* global options */
        const char *debug, *root, *ldcache;
        bool load_kmods, no_pivot, quiet, user;
        long uid, gid; /* --user=UID[:GID], -1 when not given */
        /* info */
        bool csv;
        /* list */
        bool list_libs, list_bins, list_ipcs, list_firmwares;
        /* list and configure; repeated options are joined with ',' */
        char *devices, *mig_config, *mig_monitor, *imex;
        bool compat32;
        /* configure */
        unsigned caps; /* enum nvh_cap bits */
        bool no_cgroups, no_devbind;
        const char *ldconfig, *rootfs, *compat_mode;
        int pid;
        char *reqs[NVH_NVCLI_MAX_REQS];
        size_t n_reqs;
};

/* Parse argv (argv[0] is replaced by "nvidia-container-cli"). Errors, --help, --usage and
 * --version print and exit as the incumbent does (status 1 for errors, 0 for help). */
int nvh_nvcli_args_parse(int argc, char **argv, struct nvh_nvcli_opts *o);
void nvh_nvcli_args_free(struct nvh_nvcli_opts *o);

#define _cleanup_nvcli_args_ __attribute__((cleanup(nvh_nvcli_args_free)))
