/* SPDX-License-Identifier: Apache-2.0 */
/* The executable's internal interface: options shared by the subcommands. */
#pragma once

#include <stdbool.h>

#include "conf.h"

struct nvh_inject_target;
struct nvh_plan;
struct nvh_request;

struct nvh_cli {
        const char *config_path; /* --config */
        struct nvh_conf conf;    /* config file merged with argv overrides */
        bool json;               /* --json */
        const char *caps;        /* list: --capabilities */
        const char *devices;     /* list: --devices */
        const char *bundle;      /* explain: --bundle */
        int pid;                 /* explain: --pid (0: host view of the rootfs) */
        const char *stage;       /* hook: prestart | createRuntime | ... */
};

int nvh_cmd_info(struct nvh_cli *cli);
int nvh_cmd_list(struct nvh_cli *cli);
int nvh_cmd_explain(struct nvh_cli *cli);
int nvh_cmd_hook(struct nvh_cli *cli);

/* nvidia-container-cli's command line (hook/nvcli.c); argv[0] is the program name. */
int nvh_cmd_nvcli(struct nvh_cli *cli, int argc, char **argv);

/* The hook's pipeline for front ends that build the request themselves: discovery,
 * requirements, layout, plan, then edit(plan) when given, then injection. req is taken. */
typedef int (*nvh_engine_edit_fn)(struct nvh_plan *plan, void *userdata, struct nvh_err *err);
int nvh_engine_run(struct nvh_cli *cli, struct nvh_request *req, const struct nvh_inject_target *t,
                   nvh_engine_edit_fn edit, void *userdata, struct nvh_err *err);

/* Print the one-line error of a failed command to stderr. */
void nvh_cli_fail(const char *what, const struct nvh_err *err);
