/* SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macros.h"

void
nvh_cli_fail(const char *what, const struct nvh_err *err)
{
        fprintf(stderr, "nvhook: %s%s%s\n", what ? what : "", what ? ": " : "",
                err->msg[0] ? err->msg : strerror(-err->code));
}

int
nvh_cli_parse_pid(const char *arg, int *ret_pid, struct nvh_err *err)
{
        char *end = NULL;
        long v;

        v = strtol(arg, &end, 10);
        if (!*arg || *end || v <= 0 || v > 0x7fffffff)
                return nvh_err_set(err, -EINVAL, "bad pid '%s'", arg);
        *ret_pid = (int)v;
        return 0;
}

int
nvh_cli_load_config(struct nvh_cli *cli, struct nvh_err *err)
{
        const char *path = cli->config_path;
        struct nvh_conf *loaded = NULL;
        int r;

        r = nvh_conf_defaults(&cli->conf);
        if (r < 0)
                return nvh_err_set(err, r, "out of memory");
        if (!path && access(NVH_CONF_DEFAULT_PATH, F_OK) == 0)
                path = NVH_CONF_DEFAULT_PATH;
        if (!path)
                return 0;
        r = nvh_conf_load(path, &loaded, err);
        if (r < 0)
                return cli->config_path ? r : nvh_err_prefix(err, "config");
        nvh_conf_free_contents(&cli->conf);
        cli->conf = *loaded;
        free(loaded);
        return 0;
}

int
nvh_cli_apply_paths(struct nvh_cli *cli, struct nvh_err *err)
{
        const char *names[] = {"--root", "--proc", "--dev"};
        const char *vals[] = {cli->root_arg, cli->proc_arg, cli->dev_arg};
        char **fields[] = {&cli->conf.driver_root, &cli->conf.proc_root, &cli->conf.dev_root};

        for (size_t i = 0; i < ARRAY_SIZE(vals); i++) {
                _cleanup_free_ char *abs = NULL;
                if (!vals[i])
                        continue;
                abs = realpath(vals[i], NULL);
                if (!abs)
                        return nvh_err_errno(err, "%s '%s'", names[i], vals[i]);
                if (nvh_conf_set_str(fields[i], abs) < 0)
                        return nvh_err_set(err, -ENOMEM, "out of memory");
        }
        return 0;
}
