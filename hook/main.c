/* SPDX-License-Identifier: Apache-2.0 */
/* nvhook: argv, config, dispatch through the command table. The only place that exits. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "doctor.h"
#include "kfeatures.h"
#include "log.h"
#include "macros.h"
#include "nvh_commit.h"
#include "nvhook.h"
#include "setup.h"

static int
cmd_nothing(struct nvh_cli *cli)
{
        (void)cli;
        return 0; /* nothing to undo: every change lives in the container's namespaces */
}

static int
cmd_nvcli(struct nvh_cli *cli)
{
        return nvh_cmd_nvcli(cli, cli->argc, cli->argv);
}

static int
cmd_wrong_stage(struct nvh_cli *cli)
{
        /* Those stages run in the container's namespaces, after pivot_root: the host's driver
         * is not reachable there, and the image's environment may be. */
        fprintf(stderr,
                "nvhook: stage '%s' is not supported: run nvhook as a prestart or createRuntime "
                "hook\n",
                cli->stage);
        return 2;
}

/* One row per subcommand. An OCI hook stage row gets its name in cli->stage; the first row is
 * what runs without a command (a hook entry that passes no argument). */
static const struct command {
        const char *name;
        int (*run)(struct nvh_cli *cli);
        bool stage;      /* an OCI hook stage: its name goes into cli->stage */
        size_t max_args; /* operands after the name, into cli->args */
        bool rest;       /* the rest of argv is the command's own (cli->argc, cli->argv) */
        const char *help;
} commands[] = {
    {"prestart", nvh_cmd_hook, true, 0, false,
     "OCI hook (the default): reads the container state on stdin"},
    {"createRuntime", nvh_cmd_hook, true, 0, false,
     "OCI hook, the same at the createRuntime stage [--cdi-device NAME]"},
    {"poststart", cmd_nothing, true, 0, false, "OCI hook: nothing to do"},
    {"poststop", cmd_nothing, true, 0, false, "OCI hook: nothing to do"},
    {"createContainer", cmd_wrong_stage, true, 0, false,
     "OCI hook: refused (runs in the container)"},
    {"startContainer", cmd_wrong_stage, true, 0, false,
     "OCI hook: refused (runs in the container)"},
    {"info", nvh_cmd_info, false, 0, false, "[--json]: driver and GPUs of this host"},
    {"list", nvh_cmd_list, false, 0, false,
     "[--json] [--capabilities LIST] [--devices LIST]: files and devices a container gets"},
    {"explain", nvh_cmd_explain, false, 0, false,
     "--bundle DIR [--pid PID]: the plan for a bundle"},
    {"cdi", nvh_cmd_cdi, false, 3, false,
     "generate [--output FILE] [--kind KIND] | list [--kind KIND] | check FILE: CDI specs"},
    {"cli", cmd_nvcli, false, 0, true,
     "ARGS...: nvidia-container-cli's command line (also run as nvidia-container-cli)"},
    {"doctor", nvh_cmd_doctor, false, 0, false, "[--json]: check this node, say what to fix"},
    {"setup", nvh_cmd_setup, false, 0, false,
     "[--engine docker|podman|crio|containerd|all] [--dry-run] [--undo] [--root DIR]: register "
     "nvhook with the container engines"},
};

static const struct command *find_command(const char *name);

static void
usage(FILE *f)
{
        fputs("usage: nvhook [OPTIONS] [COMMAND]\n", f);
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].help);
        fputs("options: --config FILE, --root DIR (driver root), --proc DIR, --dev DIR,\n"
              "         --debug, --version, --help\n"
              "also: nvhook-runtime RUNC-ARGS... (runtime shim), nvidia-container-cli ARGS...\n"
              "      (the same binary under those names; see nvhook(1))\n",
              f);
}

static const struct command *
find_command(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                if (streq(commands[i].name, name))
                        return &commands[i];
        return NULL;
}

/* One option into cli: 0, or the exit code of a bad one. */
static int
handle_opt(int c, const char *arg, struct nvh_cli *cli)
{
        struct nvh_err err = {0};

        switch (c) {
        case 'c':
                cli->config_path = arg;
                return 0;
        case 'D':
                cli->debug = true;
                return 0;
        case 'j':
                cli->json = true;
                return 0;
        case 'C':
                cli->caps = arg;
                return 0;
        case 'd':
                cli->devices = arg;
                return 0;
        case 'r':
                cli->root_arg = arg;
                return 0;
        case 'p':
                cli->proc_arg = arg;
                return 0;
        case 'v':
                cli->dev_arg = arg;
                return 0;
        case 'b':
                cli->bundle = arg;
                return 0;
        case 'X':
                if (!cli->cdi_device)
                        cli->cdi_device = arg;
                return 0;
        case 'o':
                cli->output = arg;
                return 0;
        case 'K':
                cli->kind = arg;
                return 0;
        case 'e':
                cli->engine = arg;
                return 0;
        case 'n':
                cli->dry_run = true;
                return 0;
        case 'u':
                cli->undo = true;
                return 0;
        case 'P':
                if (nvh_cli_parse_pid(arg, &cli->pid, &err) < 0) {
                        nvh_cli_fail(NULL, &err);
                        return 2;
                }
                return 0;
        default:
                usage(stderr);
                return 2;
        }
}

/* Options may stand before or after the subcommand ("nvhook list --json"). -1 to go on, or
 * the exit code (--help, --version, a bad argument). */
static int
parse_argv(int argc, char **argv, struct nvh_cli *cli, const struct command **ret_cmd)
{
        static const struct option opts[] = {
            {"config", required_argument, NULL, 'c'},
            {"debug", no_argument, NULL, 'D'},
            {"json", no_argument, NULL, 'j'},
            {"capabilities", required_argument, NULL, 'C'},
            {"devices", required_argument, NULL, 'd'},
            {"root", required_argument, NULL, 'r'},
            {"proc", required_argument, NULL, 'p'},
            {"dev", required_argument, NULL, 'v'},
            {"bundle", required_argument, NULL, 'b'},
            {"pid", required_argument, NULL, 'P'},
            {"cdi-device", required_argument, NULL, 'X'},
            {"output", required_argument, NULL, 'o'},
            {"kind", required_argument, NULL, 'K'},
            {"engine", required_argument, NULL, 'e'},
            {"dry-run", no_argument, NULL, 'n'},
            {"undo", no_argument, NULL, 'u'},
            {"version", no_argument, NULL, 'V'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        int c, r;

        for (;;) {
                c = getopt_long(argc, argv, "+c:DjC:d:r:p:v:b:P:X:o:K:e:nuVh", opts, NULL);
                if (c == -1) {
                        if (optind >= argc)
                                return -1;
                        if (!*ret_cmd) {
                                *ret_cmd = find_command(argv[optind]);
                                if (!*ret_cmd) {
                                        fprintf(stderr, "nvhook: unknown command '%s'\n",
                                                argv[optind]);
                                        usage(stderr);
                                        return 2;
                                }
                                optind++;
                                if ((*ret_cmd)->rest) { /* the rest of argv is its own */
                                        cli->argv = &argv[optind - 1];
                                        cli->argc = argc - optind + 1;
                                        return -1;
                                }
                                continue;
                        }
                        if (cli->n_args >= (*ret_cmd)->max_args) {
                                fprintf(stderr, "nvhook: unexpected argument '%s'\n", argv[optind]);
                                return 2;
                        }
                        cli->args[cli->n_args++] = argv[optind++];
                        continue;
                }
                if (c == 'V') {
                        struct nvh_doctor_feature feat[NVH_DOCTOR_N_FEATURES];
                        char buf[256];

                        nvh_doctor_probe_features(feat);
                        nvh_doctor_format_features(feat, buf, sizeof(buf));
                        printf("nvhook %s\ncommit: %s\nkernel features: %s\n", NVH_VERSION,
                               NVH_COMMIT, buf);
                        return 0;
                }
                if (c == 'h') {
                        usage(stdout);
                        return 0;
                }
                r = handle_opt(c, optarg, cli);
                if (r != 0)
                        return r;
        }
}

/* The config file, then argv over it. 0 or the exit code. */
static int
configure(struct nvh_cli *cli, const struct command *cmd)
{
        struct nvh_err err = {0};
        int r;

        r = nvh_cli_load_config(cli, &err);
        if (r < 0 && cmd->stage && r != -ENOMEM) {
                /* A hook goes on with the defaults: whether the container asks for a GPU at
                 * all is decided first, and only a GPU container fails on the config. */
                cli->conf_err = err; /* cli->conf holds the defaults */
                r = 0;
        }
        if (r < 0) {
                nvh_cli_fail(NULL, &err);
                return 1;
        }
        r = nvh_cli_apply_paths(cli, &err);
        if (r < 0) {
                nvh_cli_fail(NULL, &err);
                return r == -ENOMEM ? 1 : 2;
        }
        nvh_log_set_level(cli->debug ? NVH_LOG_DEBUG : (enum nvh_log_level)cli->conf.log_level);
        nvh_kfeatures_force_fallbacks(cli->conf.force_fallbacks);
        return 0;
}

/* The program's name (argv[0]'s last component). */
static const char *
program_name(int argc, char **argv)
{
        const char *base;

        if (argc < 1 || !argv[0])
                return "";
        base = strrchr(argv[0], '/');
        return base ? base + 1 : argv[0];
}

int
main(int argc, char **argv)
{
        struct nvh_cli cli = {0};
        const struct command *cmd = NULL;
        const char *prog = program_name(argc, argv);
        int r;

        /* The runtime shim keeps its environment for the runtime it execs. */
        if (streq(prog, "nvhook-runtime"))
                return nvh_runtime_main(argc, argv);

        /* The hook ignores its environment: some runtimes pass the image's environment to
         * hooks, which is how LD_PRELOAD reached NVIDIA's hook (CVE-2025-23266). Only argv
         * and the config file configure nvhook. */
        if (clearenv() != 0)
                return 1;

        if (streq(prog, "nvidia-container-cli")) { /* that command line, whole */
                cmd = find_command("cli");
                cli.argc = argc;
                cli.argv = argv;
        } else {
                r = parse_argv(argc, argv, &cli, &cmd);
                if (r >= 0)
                        return r;
        }
        if (!cmd)
                cmd = &commands[0];
        r = configure(&cli, cmd);
        if (r == 0) {
                cli.stage = cmd->stage ? cmd->name : NULL;
                r = cmd->run(&cli);
        }
        nvh_conf_free_contents(&cli.conf);
        exit(r);
}
