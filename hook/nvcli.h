/* SPDX-License-Identifier: Apache-2.0 */
/* nvidia-container-cli's command line (hook/nvcli.c): what argv asked for. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct nvh_nvcli_opts {
        int cmd_index; /* into the command table; -1: none */
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
        char *reqs[64];
        size_t n_reqs;
};

/* Parse argv (argv[0] is replaced by "nvidia-container-cli"). Errors, --help, --usage and
 * --version print and exit as the incumbent does (status 1 for errors, 0 for help). */
int nvh_nvcli_parse(int argc, char **argv, struct nvh_nvcli_opts *o);
void nvh_nvcli_opts_free(struct nvh_nvcli_opts *o);
