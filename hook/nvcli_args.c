/* SPDX-License-Identifier: Apache-2.0 */
/* nvidia-container-cli's command line, parsed by glibc's argp as the incumbent's is, so --help,
 * --usage and the errors for unknown options read and exit the same. One row per command in
 * the command table; the commands themselves are in hook/nvcli.c.
 *
 * Trusts: argv (the caller is the runtime or the administrator). */
#include <argp.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "macros.h"
#include "nvcli_args.h"
#include "nvhook.h"

#define NVCLI_COMPAT_VERSION "1.17.0" /* the incumbent's version whose formats are matched */

static int
opt_join(char **dst, const char *arg)
{
        char *s = NULL;

        if (asprintf(&s, "%s%s%s", *dst ? *dst : "", *dst ? "," : "", arg) < 0)
                return -ENOMEM;
        free(*dst);
        *dst = s;
        return 0;
}

static error_t
info_parser(int key, char *arg, struct argp_state *state)
{
        struct nvh_nvcli_opts *o = state->input;

        (void)arg;
        switch (key) {
        case 'c':
                o->csv = true;
                return 0;
        case ARGP_KEY_ARG:
                argp_error(state, "unexpected argument '%s'", arg);
                return 0;
        default:
                return ARGP_ERR_UNKNOWN;
        }
}

enum {
        K_COMPAT32 = 0x80,
        K_MIG_CONFIG,
        K_MIG_MONITOR,
        K_IMEX,
        K_NO_CGROUPS,
        K_NO_DEVBIND,
        K_FIRMWARES,
        K_NGX,
        K_NO_PIVOT,
        K_NO_IMEX,
        K_COMPAT_MODE,
};

/* A boolean option: its key and its field. */
struct flag {
        int key;
        size_t off;
};

static bool
set_flag(const struct flag *flags, size_t n, int key, struct nvh_nvcli_opts *o)
{
        for (size_t i = 0; i < n; i++) {
                if (flags[i].key == key) {
                        *(bool *)(void *)((char *)o + flags[i].off) = true;
                        return true;
                }
        }
        return false;
}

/* An option of list or configure handled: argv's memory error is reported as the incumbent's. */
static error_t
opt_done(struct argp_state *state, int r)
{
        if (r < 0)
                argp_failure(state, 1, ENOMEM, "input error");
        return 0;
}

/* Options list and configure share; repeated ones are joined with ','. 1: not one of them. */
static int
selection_opt(int key, const char *arg, struct nvh_nvcli_opts *o)
{
        switch (key) {
        case 'd':
                return opt_join(&o->devices, arg);
        case K_MIG_CONFIG:
                return opt_join(&o->mig_config, arg);
        case K_MIG_MONITOR:
                return opt_join(&o->mig_monitor, arg);
        case K_IMEX:
                return opt_join(&o->imex, arg);
        default:
                return 1;
        }
}

static error_t
list_parser(int key, char *arg, struct argp_state *state)
{
        static const struct flag flags[] = {
            {'l', offsetof(struct nvh_nvcli_opts, list_libs)},
            {'b', offsetof(struct nvh_nvcli_opts, list_bins)},
            {'i', offsetof(struct nvh_nvcli_opts, list_ipcs)},
            {K_FIRMWARES, offsetof(struct nvh_nvcli_opts, list_firmwares)},
            {K_COMPAT32, offsetof(struct nvh_nvcli_opts, compat32)},
        };
        struct nvh_nvcli_opts *o = state->input;
        int r = selection_opt(key, arg, o);

        if (r <= 0 || set_flag(flags, ARRAY_SIZE(flags), key, o))
                return opt_done(state, r);
        switch (key) {
        case ARGP_KEY_ARG:
                argp_error(state, "unexpected argument '%s'", arg);
                return 0;
        case ARGP_KEY_END:
                /* No selection at all: everything, every device. */
                if (!o->list_libs && !o->list_bins && !o->list_ipcs && !o->list_firmwares &&
                    !o->devices) {
                        o->list_libs = o->list_bins = o->list_ipcs = o->list_firmwares = true;
                        o->compat32 = true;
                        return opt_done(state, opt_join(&o->devices, "all"));
                }
                return 0;
        default:
                return ARGP_ERR_UNKNOWN;
        }
}

static error_t
configure_parser(int key, char *arg, struct argp_state *state)
{
        struct nvh_nvcli_opts *o = state->input;
        static const struct {
                int key;
                unsigned cap;
        } caps[] = {
            {'c', NVH_CAP_COMPUTE},  {'u', NVH_CAP_UTILITY},         {'v', NVH_CAP_VIDEO},
            {'g', NVH_CAP_GRAPHICS}, {'D', NVH_CAP_DISPLAY},         {K_NGX, NVH_CAP_NGX},
            {'n', NVH_CAP_NGX},      {K_COMPAT32, NVH_CAP_COMPAT32},
        };
        char *end = NULL;
        long v;
        static const struct flag flags[] = {
            {K_NO_CGROUPS, offsetof(struct nvh_nvcli_opts, no_cgroups)},
            {K_NO_DEVBIND, offsetof(struct nvh_nvcli_opts, no_devbind)},
        };
        int r = selection_opt(key, arg, o);

        if (r <= 0 || set_flag(flags, ARRAY_SIZE(flags), key, o))
                return opt_done(state, r);
        for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
                if (key == caps[i].key) {
                        o->caps |= caps[i].cap;
                        return 0;
                }
        }
        switch (key) {
        case 'p':
                errno = 0;
                v = strtol(arg, &end, 10);
                if (!*arg || *end || errno || v <= 0 || v > 0x7fffffff) {
                        argp_failure(state, 1, 0, "input error: invalid pid '%s'", arg);
                        return EINVAL;
                }
                o->pid = (int)v;
                break;
        case 'r':
                if (o->n_reqs >= NVH_NVCLI_MAX_REQS) {
                        argp_failure(state, 1, 0, "input error: too many requirements");
                        return EINVAL;
                }
                o->reqs[o->n_reqs++] = arg;
                break;
        case 'l':
                o->ldconfig = arg;
                break;
        case K_COMPAT_MODE:
                o->compat_mode = arg;
                break;
        case ARGP_KEY_ARG:
                if (state->arg_num > 0)
                        argp_error(state, "unexpected argument '%s'", arg);
                else
                        o->rootfs = arg;
                break;
        case ARGP_KEY_END:
                if (!o->rootfs)
                        argp_usage(state);
                break;
        default:
                return ARGP_ERR_UNKNOWN;
        }
        return 0;
}

/* One row per command: its name, its options and their parser, and its --help text. */
static const struct command {
        const char *name;
        enum nvh_nvcli_cmd cmd;
        const struct argp_option *options;
        argp_parser_t parser;
        const char *args_doc, *doc;
} commands[] = {
    {
        "info",
        NVH_NVCLI_CMD_INFO,
        (const struct argp_option[]){
            {NULL, 0, NULL, 0, "Options:", -1},
            {"csv", 'c', NULL, 0, "Output in CSV format", -1},
            {0},
        },
        info_parser,
        NULL,
        "Query the driver and report information about the driver and devices.",
    },
    {
        "list",
        NVH_NVCLI_CMD_LIST,
        (const struct argp_option[]){
            {NULL, 0, NULL, 0, "Options:", -1},
            {"device", 'd', "ID", 0, "Device UUID(s) or index(es) to list", -1},
            {"libraries", 'l', NULL, 0, "List driver libraries", -1},
            {"binaries", 'b', NULL, 0, "List driver binaries", -1},
            {"ipcs", 'i', NULL, 0, "List driver ipcs", -1},
            {"firmwares", K_FIRMWARES, NULL, 0, "List driver firmwares", -1},
            {"compat32", K_COMPAT32, NULL, 0, "Enable 32bits compatibility", -1},
            {"mig-config", K_MIG_CONFIG, "ID", 0,
             "MIG devices to list config capabilities files for", -1},
            {"mig-monitor", K_MIG_MONITOR, "ID", 0,
             "MIG devices to list monitor capabilities files for", -1},
            {"imex-channel", K_IMEX, "CHANNEL", 0, "IMEX channel ID(s) to list", -1},
            {0},
        },
        list_parser,
        NULL,
        "Query the driver and list the components required in order to configure a container with "
        "GPU support.",
    },
    {
        "configure",
        NVH_NVCLI_CMD_CONFIGURE,
        (const struct argp_option[]){
            {NULL, 0, NULL, 0, "Options:", -1},
            {"pid", 'p', "PID", 0, "Container PID", -1},
            {"device", 'd', "ID", 0, "Device UUID(s) or index(es) to isolate", -1},
            {"require", 'r', "EXPR", 0, "Check container requirements", -1},
            {"ldconfig", 'l', "PATH", 0,
             "Path to the ldconfig binary: only '@HOST_PATH' is accepted, and nothing is run "
             "(nvhook writes the linker cache itself)",
             -1},
            {"compute", 'c', NULL, 0, "Enable compute capability", -1},
            {"utility", 'u', NULL, 0, "Enable utility capability", -1},
            {"video", 'v', NULL, 0, "Enable video capability", -1},
            {"graphics", 'g', NULL, 0, "Enable graphics capability", -1},
            {"display", 'D', NULL, 0, "Enable display capability", -1},
            {"ngx", 'n', NULL, 0, "Enable ngx capability", -1},
            {"compat32", K_COMPAT32, NULL, 0, "Enable 32bits compatibility", -1},
            {"mig-config", K_MIG_CONFIG, "ID", 0, "Enable configuration of MIG devices", -1},
            {"mig-monitor", K_MIG_MONITOR, "ID", 0, "Enable monitoring of MIG devices", -1},
            {"imex-channel", K_IMEX, "CHANNEL", 0, "IMEX channel ID(s) to inject", -1},
            {"no-cgroups", K_NO_CGROUPS, NULL, 0, "Don't use cgroup enforcement", -1},
            {"no-devbind", K_NO_DEVBIND, NULL, 0, "Don't bind mount devices", -1},
            {"cuda-compat-mode", K_COMPAT_MODE, "MODE", 0, "Accepted; see nvhook(1)", -1},
            {0},
        },
        configure_parser,
        "ROOTFS",
        "Configure a container with GPU support by exposing device drivers to it.\v"
        "With --pid, nvhook enters the mount namespace of that process; without it, it works in "
        "its own (LXC's mount hook). See nvhook(1).",
    },
};

static int
parse_ugid(const char *arg, struct nvh_nvcli_opts *o)
{
        char *end = NULL;
        unsigned long u, g;

        errno = 0;
        u = strtoul(arg, &end, 10);
        if (end == arg || errno || u >= 0xffffffffUL || (*end && *end != ':'))
                return -EINVAL;
        g = u;
        if (*end == ':') {
                const char *gs = end + 1;
                g = strtoul(gs, &end, 10);
                if (end == gs || errno || g >= 0xffffffffUL || *end)
                        return -EINVAL;
        }
        o->uid = (long)u;
        o->gid = (long)g;
        return 0;
}

static error_t
global_parser(int key, char *arg, struct argp_state *state)
{
        struct nvh_nvcli_opts *o = state->input;

        switch (key) {
        case 'd':
                o->debug = arg;
                return 0;
        case 'k':
                o->load_kmods = true;
                return 0;
        case K_NO_PIVOT:
                o->no_pivot = true;
                return 0;
        case 'q':
                o->quiet = true;
                return 0;
        case 'u':
                o->user = true;
                if (arg && parse_ugid(arg, o) < 0) {
                        argp_failure(state, 1, 0, "input error: invalid user '%s'", arg);
                        return EINVAL;
                }
                return 0;
        case 'r':
                o->root = arg;
                return 0;
        case 'l':
                o->ldcache = arg;
                return 0;
        case K_NO_IMEX:
                return 0;
        case ARGP_KEY_ARGS: {
                char **sub = state->argv + state->next;
                int subc = state->argc - state->next;
                char name[64];

                for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
                        const struct command *c = &commands[i];
                        const struct argp argp = {
                            .options = c->options,
                            .parser = c->parser,
                            .args_doc = c->args_doc,
                            .doc = c->doc,
                        };

                        if (!streq(sub[0], c->name))
                                continue;
                        o->cmd = c->cmd;
                        snprintf(name, sizeof(name), "%s %s", state->name, c->name);
                        sub[0] = name;
                        argp_parse(&argp, subc, sub, 0, NULL, o);
                        sub[0] = (char *)c->name;
                        return 0;
                }
                argp_error(state, "unknown command '%s'", sub[0]);
                return EINVAL;
        }
        case ARGP_KEY_END:
                if (o->cmd == NVH_NVCLI_CMD_NONE)
                        argp_usage(state);
                return 0;
        default:
                return ARGP_ERR_UNKNOWN;
        }
}

static void
print_version(FILE *f, struct argp_state *state)
{
        (void)state;
        fprintf(f, "cli-version: %s\nlib-version: nvhook %s\n", NVCLI_COMPAT_VERSION, NVH_VERSION);
}

static const struct argp global_argp = {
    (const struct argp_option[]){
        {NULL, 0, NULL, 0, "Options:", -1},
        {"debug", 'd', "FILE", 0, "Log debug information", -1},
        {"load-kmods", 'k', NULL, 0, "Load kernel modules", -1},
        {"no-pivot", K_NO_PIVOT, NULL, 0, "Do not use pivot_root (accepted: nvhook never does)",
         -1},
        {"quiet", 'q', NULL, 0, "Log errors only", -1},
        {"user", 'u', "UID[:GID]", OPTION_ARG_OPTIONAL,
         "Unprivileged mode: no device nodes made, no cgroup writes, files owned by UID:GID", -1},
        {"root", 'r', "PATH", 0, "Path to the driver root directory", -1},
        {"ldcache", 'l', "FILE", 0, "Path to the system's DSO cache", -1},
        {"no-create-imex-channels", K_NO_IMEX, NULL, 0, "Accepted; nvhook creates none", -1},
        {NULL, 0, NULL, 0, "Commands:", 0},
        {"info", 0, NULL, OPTION_DOC | OPTION_NO_USAGE,
         "Report information about the driver and devices", 0},
        {"list", 0, NULL, OPTION_DOC | OPTION_NO_USAGE, "List driver components", 0},
        {"configure", 0, NULL, OPTION_DOC | OPTION_NO_USAGE,
         "Configure a container with GPU support", 0},
        {0},
    },
    global_parser,
    "COMMAND [ARG...]",
    "nvidia-container-cli's command line on nvhook's engine.",
    NULL,
    NULL,
    NULL,
};

int
nvh_nvcli_args_parse(int argc, char **argv, struct nvh_nvcli_opts *o)
{
        *o = (struct nvh_nvcli_opts){.cmd = NVH_NVCLI_CMD_NONE, .uid = -1, .gid = -1};
        argp_err_exit_status = 1;
        argp_program_version_hook = print_version;
        argv[0] = (char *)NVH_NVCLI_PROG;
        return -argp_parse(&global_argp, argc, argv, ARGP_IN_ORDER, NULL, o);
}

void
nvh_nvcli_args_free(struct nvh_nvcli_opts *o)
{
        free(o->devices);
        free(o->mig_config);
        free(o->mig_monitor);
        free(o->imex);
        o->devices = o->mig_config = o->mig_monitor = o->imex = NULL;
}
