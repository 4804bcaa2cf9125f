/* SPDX-License-Identifier: Apache-2.0 */
/* The subcommands: each takes the shared command line (cli.h) and returns the exit code. main.c
 * lists them in its command table; they never call back into main.c. */
#pragma once

#include "cli.h"

struct nvh_inject_target;
struct nvh_plan;
struct nvh_request;

int nvh_cmd_info(struct nvh_cli *cli);
int nvh_cmd_list(struct nvh_cli *cli);
int nvh_cmd_explain(struct nvh_cli *cli);
int nvh_cmd_hook(struct nvh_cli *cli);
int nvh_cmd_cdi(struct nvh_cli *cli);

/* The runc command line: adds nvhook's hook to GPU containers, then execs the real runtime.
 * Returns only on failure (exit status). */
int nvh_runtime_main(int argc, char **argv);

/* nvidia-container-cli's command line (hook/nvcli.c); argv[0] is the program name. */
int nvh_cmd_nvcli(struct nvh_cli *cli, int argc, char **argv);

/* The hook's pipeline for front ends that build the request themselves: discovery,
 * requirements, layout, plan, then edit(plan) when given, then injection. req is taken. */
typedef int (*nvh_engine_edit_fn)(struct nvh_plan *plan, void *userdata, struct nvh_err *err);
int nvh_engine_run(struct nvh_cli *cli, struct nvh_request *req, const struct nvh_inject_target *t,
                   nvh_engine_edit_fn edit, void *userdata, struct nvh_err *err);
