/* SPDX-License-Identifier: Apache-2.0 */
/* The executable's internal interface: options shared by the subcommands. */
#pragma once

#include <stdbool.h>

#include "conf.h"

struct nvh_cli {
        const char *config_path; /* --config */
        struct nvh_conf conf;    /* config file merged with argv overrides */
        bool json;               /* --json */
        const char *caps;        /* list: --capabilities */
        const char *devices;     /* list: --devices */
        const char *bundle;      /* explain: --bundle */
        int pid;                 /* explain: --pid (0: host view of the rootfs) */
        const char *stage;       /* hook: prestart | createRuntime | ... */
        const char *root;        /* --root as given (setup: the root its config files live in) */
        const char *engine;      /* setup: --engine */
        bool dry_run;            /* setup: --dry-run */
        bool undo;               /* setup: --undo */
};

int nvh_cmd_info(struct nvh_cli *cli);
int nvh_cmd_list(struct nvh_cli *cli);
int nvh_cmd_explain(struct nvh_cli *cli);
int nvh_cmd_hook(struct nvh_cli *cli);

/* Print the one-line error of a failed command to stderr. */
void nvh_cli_fail(const char *what, const struct nvh_err *err);
