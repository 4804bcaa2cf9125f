/* SPDX-License-Identifier: Apache-2.0 */
/* nvhook info / list / explain: read-only views of discovery and the plan. */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "driver.h"
#include "drvcache.h"
#include "fileio.h"
#include "gpus.h"
#include "host.h"
#include "layout.h"
#include "log.h"
#include "macros.h"
#include "cli.h"
#include "nvhook.h"
#include "oci.h"
#include "plan.h"
#include "request.h"
#include "select.h"

static void
json_print(json_t *j)
{
        json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(j);
}

static json_t *
majors_json(const struct nvh_majors *m)
{
        return json_pack("{s:i,s:i,s:i,s:i}", "nvidia", m->nvidia, "nvidia-uvm", m->nvidia_uvm,
                         "nvidia-caps", m->nvidia_caps, "nvidia-caps-imex-channels",
                         m->nvidia_caps_imex);
}

int
nvh_cmd_info(struct nvh_cli *cli)
{
        struct nvh_err err = {0};
        struct nvh_system *sys = NULL;
        int r;

        r = nvh_gpus_discover(cli->conf.proc_root, &sys, &err);
        if (r < 0) {
                nvh_cli_fail(NULL, &err);
                return 1;
        }
        if (cli->json) {
                json_t *gpus = json_array();
                for (size_t i = 0; i < sys->n_gpus; i++) {
                        const struct nvh_gpu *g = &sys->gpus[i];
                        json_array_append_new(gpus, json_pack("{s:i,s:i,s:s,s:s,s:s}", "index",
                                                              (int)g->index, "minor", (int)g->minor,
                                                              "uuid", g->uuid, "bus_id", g->bus_id,
                                                              "model", g->model));
                }
                json_print(json_pack("{s:s,s:b,s:o,s:o}", "driver_version", sys->driver_version,
                                     "open_module", sys->open_module, "gpus", gpus, "majors",
                                     majors_json(&sys->majors)));
        } else {
                printf("driver version: %s (%s kernel module)\n", sys->driver_version,
                       sys->open_module ? "open" : "proprietary");
                printf("gpus: %zu\n", sys->n_gpus);
                for (size_t i = 0; i < sys->n_gpus; i++) {
                        const struct nvh_gpu *g = &sys->gpus[i];
                        printf("  %u  /dev/nvidia%u  %s  %s  %s\n", g->index, g->minor, g->uuid,
                               g->bus_id, g->model);
                }
                printf("device majors: nvidia %d, nvidia-uvm %d, nvidia-caps %d, "
                       "nvidia-caps-imex-channels %d\n",
                       sys->majors.nvidia, sys->majors.nvidia_uvm, sys->majors.nvidia_caps,
                       sys->majors.nvidia_caps_imex);
        }
        nvh_gpus_free(sys);
        return 0;
}

/* Discovery shared by list, explain and the hook: GPUs from procfs, then the driver files of
 * the requested capabilities under the driver root. */
static int
discover(const struct nvh_conf *conf, unsigned caps, struct nvh_system **ret_sys,
         struct nvh_driver **ret_drv, struct nvh_err *err)
{
        struct nvh_driver_opts dopts = {0};
        int r;

        r = nvh_gpus_discover(conf->proc_root, ret_sys, err);
        if (r < 0)
                return r;
        dopts.host_root = conf->driver_root;
        dopts.rel_ldcache = conf->ldcache;
        dopts.version = (*ret_sys)->driver_version;
        dopts.caps = caps;
        r = nvh_drvcache_discover(conf->cache_dir, &dopts, false, ret_drv, err);
        if (r < 0) {
                nvh_gpus_free(*ret_sys);
                *ret_sys = NULL;
        }
        return r;
}

static void
list_json(const struct nvh_cli *cli, const struct nvh_system *sys, const struct nvh_driver *drv,
          const struct nvh_plan *plan, unsigned long long dt)
{
        json_t *files = json_array(), *nodes = json_array();

        for (size_t i = 0; i < drv->n_files; i++) {
                const struct nvh_driver_file *f = &drv->files[i];
                char cbuf[128];
                if (!nvh_driver_file_selected(f, plan->caps))
                        continue;
                json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "path", f->host_path, "kind",
                                      nvh_driver_file_kind_name(f->kind), "capabilities",
                                      nvh_caps_format(f->caps, cbuf, sizeof(cbuf)), "why", f->why);
                if (f->soname)
                        json_object_set_new(o, "soname", json_string(f->soname));
                if (f->kind == NVH_FILE_LIB)
                        json_object_set_new(o, "class", json_integer(f->elf_class));
                if (f->ctr_path)
                        json_object_set_new(o, "target", json_string(f->ctr_path));
                json_array_append_new(files, o);
        }
        for (size_t i = 0; i < plan->n_ops; i++) {
                const struct nvh_op *op = &plan->ops[i];
                char dev[32];
                if (op->kind != NVH_OP_MKNOD)
                        continue;
                snprintf(dev, sizeof(dev), "%u:%u", op->major, op->minor);
                json_array_append_new(nodes, json_pack("{s:s,s:s,s:s}", "path", op->ctr_path,
                                                       "device", dev, "why", op->why));
        }
        json_print(json_pack("{s:s,s:s,s:o,s:o,s:f}", "driver_version", sys->driver_version,
                             "driver_root", cli->conf.driver_root, "files", files, "devices", nodes,
                             "elapsed_ms", (double)dt / 1e6));
}

static void
list_text(const struct nvh_driver *drv, const struct nvh_plan *plan)
{
        for (size_t i = 0; i < drv->n_files; i++) {
                const struct nvh_driver_file *f = &drv->files[i];
                if (!nvh_driver_file_selected(f, plan->caps))
                        continue;
                printf("%-9s %s  (%s)\n", nvh_driver_file_kind_name(f->kind), f->host_path, f->why);
        }
        for (size_t i = 0; i < plan->n_ops; i++) {
                const struct nvh_op *op = &plan->ops[i];
                if (op->kind == NVH_OP_MKNOD)
                        printf("%-9s %s %u:%u  (%s)\n", "device", op->ctr_path, op->major,
                               op->minor, op->why);
        }
}

/* The request list shows: --capabilities (default set) and --devices (default all). 0 or the
 * exit code, the error printed. */
static int
list_request(const struct nvh_cli *cli, struct nvh_request *req, char ***ret_devices)
{
        struct nvh_err err = {0};
        unsigned caps = NVH_CAP_DEFAULT;

        if (cli->caps && nvh_caps_parse(cli->caps, &caps, &err) < 0) {
                nvh_cli_fail("--capabilities", &err);
                return 2;
        }
        req->gpu_container = true;
        req->caps = caps;
        req->sel = NVH_DEVSEL_ALL;
        if (cli->devices &&
            nvh_request_parse_devices(cli->devices, &req->sel, ret_devices, &err) < 0) {
                nvh_cli_fail("--devices", &err);
                return 2;
        }
        req->devices = *ret_devices;
        return 0;
}

int
nvh_cmd_list(struct nvh_cli *cli)
{
        struct nvh_err err = {0};
        _cleanup_gpus_ struct nvh_system *sys = NULL;
        _cleanup_driver_ struct nvh_driver *drv = NULL;
        _cleanup_plan_ struct nvh_plan *plan = NULL;
        _cleanup_host_ struct nvh_host *host = NULL;
        _cleanup_selection_ struct nvh_selection *sel = NULL;
        _cleanup_strv_ char **devices = NULL;
        struct nvh_request req = {0};
        struct nvh_layout layout = {0};
        unsigned long long t0 = nvh_log_now_ns();
        int r;

        r = list_request(cli, &req, &devices);
        if (r != 0)
                return r;
        r = discover(&cli->conf, NVH_CAP_ALL, &sys, &drv, &err);
        if (r < 0) {
                nvh_cli_fail(NULL, &err);
                return 1;
        }
        /* list shows the host side: libraries keep their host directory. */
        snprintf(layout.libdir, sizeof(layout.libdir), "/usr/lib64");
        snprintf(layout.libdir32, sizeof(layout.libdir32), "/usr/lib");
        struct nvh_plan_input in = {.req = &req, .sys = sys, .drv = drv, .layout = &layout};
        r = nvh_host_scan(cli->conf.dev_root, &host, &err);
        if (r >= 0)
                r = nvh_select_resolve(&req, sys, host, &sel, &err);
        in.host = host;
        in.sel = sel;
        if (r >= 0)
                r = nvh_plan_build(&in, &plan, &err);
        if (r < 0) {
                nvh_cli_fail(NULL, &err);
                return 1;
        }
        if (cli->json)
                list_json(cli, sys, drv, plan, nvh_log_now_ns() - t0);
        else
                list_text(drv, plan);
        return 0;
}
