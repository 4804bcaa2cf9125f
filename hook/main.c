/* SPDX-License-Identifier: Apache-2.0 */
/* nvhook: argv, config, dispatch. The only place that exits. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doctor.h"
#include "log.h"
#include "macros.h"
#include "nvh_commit.h"
#include "nvhook.h"
#include "setup.h"

#define NVH_DEFAULT_CONFIG "/etc/nvhook/config.json"

static void
usage(FILE *f)
{
        fputs("usage: nvhook [--config FILE] [--debug] [prestart|createRuntime]\n"
              "           OCI hook: reads the container state on stdin\n"
              "       nvhook info [--json]\n"
              "       nvhook list [--json] [--capabilities LIST] [--devices LIST] [--root DIR]\n"
              "       nvhook explain --bundle DIR [--pid PID]\n"
              "       nvhook doctor [--json]\n"
              "       nvhook setup [--engine docker|podman|crio|containerd|all] [--dry-run] "
              "[--undo] [--root DIR]\n"
              "common options: --config FILE, --root DIR (driver root), --proc DIR, --dev DIR,\n"
              "                --debug, --version, --help\n",
              f);
}

void
nvh_cli_fail(const char *what, const struct nvh_err *err)
{
        fprintf(stderr, "nvhook: %s%s%s\n", what ? what : "", what ? ": " : "",
                err->msg[0] ? err->msg : strerror(-err->code));
}

struct overrides {
        const char *root, *proc, *dev;
        bool debug;
};

static int
handle_opt(int c, const char *arg, struct nvh_cli *cli, struct overrides *ov)
{
        char *end = NULL;
        long v;

        switch (c) {
        case 'c':
                cli->config_path = arg;
                return 0;
        case 'D':
                ov->debug = true;
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
                ov->root = arg;
                cli->root = arg;
                return 0;
        case 'p':
                ov->proc = arg;
                return 0;
        case 'v':
                ov->dev = arg;
                return 0;
        case 'b':
                cli->bundle = arg;
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
                v = strtol(arg, &end, 10);
                if (!*arg || *end || v <= 0 || v > 0x7fffffff) {
                        fprintf(stderr, "nvhook: bad pid '%s'\n", arg);
                        return 2;
                }
                cli->pid = (int)v;
                return 0;
        default:
                usage(stderr);
                return 2;
        }
}

int
main(int argc, char **argv)
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
            {"engine", required_argument, NULL, 'e'},
            {"dry-run", no_argument, NULL, 'n'},
            {"undo", no_argument, NULL, 'u'},
            {"version", no_argument, NULL, 'V'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        struct nvh_cli cli = {0};
        struct nvh_err err = {0};
        struct overrides ov = {0};
        const char *cmd = NULL;
        int c, r;

        /* The hook ignores its environment: some runtimes pass the image's environment to
         * hooks, which is how LD_PRELOAD reached NVIDIA's hook (CVE-2025-23266). Only argv
         * and the config file configure nvhook. */
        if (clearenv() != 0)
                return 1;

        /* Options may stand before or after the subcommand ("nvhook list --json"). */
        for (;;) {
                c = getopt_long(argc, argv, "+c:DjC:d:r:p:v:b:P:e:nuVh", opts, NULL);
                if (c == -1) {
                        if (optind >= argc)
                                break;
                        if (cmd) {
                                fprintf(stderr, "nvhook: unexpected argument '%s'\n", argv[optind]);
                                return 2;
                        }
                        cmd = argv[optind++];
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
                r = handle_opt(c, optarg, &cli, &ov);
                if (r != 0)
                        return r;
        }

        nvh_conf_defaults(&cli.conf);
        {
                const char *path = cli.config_path;
                bool explicit_path = path != NULL;

                if (!path && access(NVH_DEFAULT_CONFIG, F_OK) == 0)
                        path = NVH_DEFAULT_CONFIG;
                if (path) {
                        struct nvh_conf *loaded = NULL;
                        r = nvh_conf_load(path, &loaded, &err);
                        if (r < 0) {
                                nvh_cli_fail(explicit_path ? NULL : "config", &err);
                                return 1;
                        }
                        nvh_conf_free_contents(&cli.conf);
                        cli.conf = *loaded;
                        free(loaded);
                }
        }
        {
                const char *names[] = {"--root", "--proc", "--dev"};
                const char *vals[] = {ov.root, ov.proc, ov.dev};
                char **fields[] = {&cli.conf.driver_root, &cli.conf.proc_root, &cli.conf.dev_root};

                for (size_t i = 0; i < ARRAY_SIZE(vals); i++) {
                        _cleanup_free_ char *abs = NULL;
                        if (!vals[i])
                                continue;
                        abs = realpath(vals[i], NULL);
                        if (!abs) {
                                fprintf(stderr, "nvhook: %s '%s': %s\n", names[i], vals[i],
                                        strerror(errno));
                                return 2;
                        }
                        if (nvh_conf_set_str(fields[i], abs) < 0)
                                return 1;
                }
        }
        nvh_log_set_level(ov.debug ? NVH_LOG_DEBUG : (enum nvh_log_level)cli.conf.log_level);

        if (cmd && (streq(cmd, "createContainer") || streq(cmd, "startContainer"))) {
                /* Those stages run in the container's namespaces, after pivot_root: the host's
                 * driver is not reachable there, and the image's environment may be. */
                fprintf(stderr,
                        "nvhook: stage '%s' is not supported: run nvhook as a prestart or "
                        "createRuntime hook\n",
                        cmd);
                r = 2;
        } else if (!cmd || streq(cmd, "prestart") || streq(cmd, "createRuntime")) {
                cli.stage = cmd ? cmd : "prestart";
                r = nvh_cmd_hook(&cli);
        } else if (streq(cmd, "info")) {
                r = nvh_cmd_info(&cli);
        } else if (streq(cmd, "list")) {
                r = nvh_cmd_list(&cli);
        } else if (streq(cmd, "explain")) {
                r = nvh_cmd_explain(&cli);
        } else if (streq(cmd, "doctor")) {
                r = nvh_cmd_doctor(&cli);
        } else if (streq(cmd, "setup")) {
                r = nvh_cmd_setup(&cli);
        } else if (streq(cmd, "poststart") || streq(cmd, "poststop")) {
                r = 0; /* nothing to undo: every change lives in the container's namespaces */
        } else {
                fprintf(stderr, "nvhook: unknown command '%s'\n", cmd);
                usage(stderr);
                r = 2;
        }
        nvh_conf_free_contents(&cli.conf);
        exit(r);
}
