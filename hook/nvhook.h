/* SPDX-License-Identifier: Apache-2.0 */
/* The subcommands: each takes the shared command line (cli.h) and returns the exit code. main.c
 * lists them in its command table; they never call back into main.c. */
#pragma once

#include "cli.h"

int nvh_cmd_info(struct nvh_cli *cli);
int nvh_cmd_list(struct nvh_cli *cli);
int nvh_cmd_explain(struct nvh_cli *cli);
int nvh_cmd_hook(struct nvh_cli *cli);
int nvh_cmd_cdi(struct nvh_cli *cli);

/* The runc command line: adds nvhook's hook to GPU containers, then execs the real runtime.
 * Returns only on failure (exit status). */
int nvh_runtime_main(int argc, char **argv);
