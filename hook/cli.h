/* SPDX-License-Identifier: Apache-2.0 */
/* What every subcommand shares: the parsed command line with the merged configuration, the
 * argv helpers that fill it, and one way to report a failure. main.c fills it; each command
 * (hook.c, commands.c) reads it. Depends on nothing in hook/, so no command reaches back up
 * into main.c. */
#pragma once

#include <stdbool.h>

#include "conf.h"
#include "err.h"

struct nvh_cli {
        const char *config_path; /* --config */
        struct nvh_conf conf;    /* config file merged with argv overrides */
        const char *root_arg;    /* --root: driver root, made absolute into conf */
        const char *proc_arg;    /* --proc */
        const char *dev_arg;     /* --dev */
        bool debug;              /* --debug */
        bool json;               /* --json */
        const char *caps;        /* list: --capabilities */
        const char *devices;     /* list: --devices */
        const char *bundle;      /* explain: --bundle */
        int pid;                 /* explain: --pid (0: host view of the rootfs) */
        const char *stage;       /* hook: prestart | createRuntime | ...; NULL for the others */
        const char *engine;      /* setup: --engine */
        bool dry_run;            /* setup: --dry-run */
        bool undo;               /* setup: --undo */
        const char *cdi_device;  /* hook: the first --cdi-device (hook/cdi_cmd.c) */
        const char *output;      /* cdi generate: --output */
        const char *kind;        /* cdi generate, list: --kind */
        char *args[4];           /* operands after the subcommand ("cdi check FILE"), NULL-ended */
        size_t n_args;
        struct nvh_err conf_err; /* hook stages: the config file's error, decided after the
                                    request (a container that asks for no GPU never fails) */
        int argc;                /* a command that takes the rest of argv (cli): its argv, */
        char **argv;             /* argv[0] being the command's own name */
};

/* Print the one-line error of a failed command to stderr: "nvhook: [what: ]<message>". */
void nvh_cli_fail(const char *what, const struct nvh_err *err);

/* A --pid value: a decimal in 1..INT_MAX. 0, or -EINVAL naming it. */
int nvh_cli_parse_pid(const char *arg, int *ret_pid, struct nvh_err *err);

/* Fill cli->conf: the defaults, then --config (errors as they are) or, without it, the default
 * path when it exists (errors prefixed "config"). 0, or negative errno with err set. */
int nvh_cli_load_config(struct nvh_cli *cli, struct nvh_err *err);

/* Apply --root, --proc and --dev over cli->conf, each made absolute (realpath). 0, -ENOMEM, or
 * the negative errno of the path that does not resolve, naming the option and the path. */
int nvh_cli_apply_paths(struct nvh_cli *cli, struct nvh_err *err);
