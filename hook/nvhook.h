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
        const char *cdi_device;  /* hook: the first --cdi-device (hook/cdi.c) */
        const char *output;      /* cdi generate: --output */
        const char *kind;        /* cdi generate, list: --kind */
        char **args;             /* operands after the subcommand ("cdi check FILE") */
};

int nvh_cmd_info(struct nvh_cli *cli);
int nvh_cmd_list(struct nvh_cli *cli);
int nvh_cmd_explain(struct nvh_cli *cli);
int nvh_cmd_hook(struct nvh_cli *cli);
int nvh_cmd_cdi(struct nvh_cli *cli);

/* nvhook-runtime (hook/runtime.c): argv[0]'s last component is "nvhook-runtime". */
bool nvh_runtime_invoked(const char *argv0);
/* The runc command line: adds nvhook's hook to GPU containers, then execs the real runtime.
 * Returns only on failure (exit status). */
int nvh_runtime_main(int argc, char **argv);

/* Print the one-line error of a failed command to stderr. */
void nvh_cli_fail(const char *what, const struct nvh_err *err);
