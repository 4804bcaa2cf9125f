/* SPDX-License-Identifier: Apache-2.0 */
/* Hook mode and explain: state -> spec -> request -> discovery -> requirements -> plan ->
 * execution. Phases are timed for the JSON-lines log. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "cdi.h"
#include "cgroup.h"
#include "compat.h"
#include "driver.h"
#include "drvcache.h"
#include "facts.h"
#include "fileio.h"
#include "gpus.h"
#include "host.h"
#include "inject.h"
#include "layout.h"
#include "log.h"
#include "macros.h"
#include "nsenter.h"
#include "nvhook.h"
#include "oci.h"
#include "plan.h"
#include "request.h"
#include "require.h"
#include "select.h"

#define STATE_MAX NVH_OCI_STATE_MAX
#define SPEC_MAX NVH_OCI_SPEC_MAX

enum phase {
        PH_STATE,
        PH_SPEC,
        PH_REQUEST,
        PH_DISCOVER,
        PH_REQUIRE,
        PH_LAYOUT,
        PH_PLAN,
        PH_INJECT,
        PH_TOTAL,
        PH_MAX
};

static const char *const phase_names[PH_MAX] = {
    "state", "spec", "request", "discover", "require", "layout", "plan", "inject", "total",
};

struct run {
        struct nvh_cli *cli;
        struct nvh_oci_state *state;
        struct nvh_oci_spec *spec;
        struct nvh_request *req;
        struct nvh_system *sys;
        struct nvh_host *host;
        struct nvh_selection *sel;
        struct nvh_driver *drv;
        struct nvh_plan *plan;
        struct nvh_layout layout;
        struct nvh_inject_stats stats;
        unsigned long long t[PH_MAX];
        unsigned long long t0, tlast;
        const char *decision;
        const char *fact_bus_id; /* the GPU a requirement is being checked for, NULL: none */
};

static void
phase_done(struct run *run, enum phase ph)
{
        unsigned long long now = nvh_log_now_ns();
        run->t[ph] = now - run->tlast;
        run->tlast = now;
}

static void
run_free(struct run *run)
{
        nvh_plan_free(run->plan);
        nvh_driver_free(run->drv);
        nvh_select_free(run->sel); /* points into sys */
        nvh_host_free(run->host);
        nvh_gpus_free(run->sys);
        nvh_request_free(run->req);
        nvh_oci_spec_free(run->spec);
        nvh_oci_state_free(run->state);
        nvh_layout_done(&run->layout);
}

/* Facts for NVIDIA_REQUIRE_*: the driver version is free (procfs); the others come from the
 * driver libraries through a sandboxed, cached probe, and only when asked for. */
static int
fact_cb(void *userdata, const char *key, char *ret_value, size_t size, struct nvh_err *err)
{
        struct run *run = userdata;

        if (streq(key, "driver")) {
                snprintf(ret_value, size, "%s", run->sys->driver_version);
                return 0;
        }
        return nvh_facts_get(run->cli->conf.cache_dir, run->drv, run->sys, key, run->fact_bus_id,
                             ret_value, size, err);
}

static int
eval_requirement(struct run *run, const char *expr, struct nvh_err *err)
{
        char msg[NVH_ERR_MSG_MAX];
        int r = nvh_require_eval(expr, fact_cb, run, err);

        if (r != 0)
                return r < 0 ? r : 0;
        /* err says which term failed and the value found for it; add the GPU and the driver
         * so the user sees what this host has. */
        snprintf(msg, sizeof(msg), "%s", err->msg);
        if (run->fact_bus_id)
                return nvh_err_set(err, -EPERM, "%.380s (gpu %s, driver %s)", msg, run->fact_bus_id,
                                   run->sys->driver_version);
        return nvh_err_set(err, -EPERM, "%.400s (driver %s)", msg, run->sys->driver_version);
}

/* Every NVIDIA_REQUIRE_* must hold; one naming arch or brand must hold for every selected GPU
 * (GPUs of one node may differ), the others once. */
static int
check_requirements(struct run *run, struct nvh_err *err)
{
        const struct nvh_selection *sel = run->sel;
        int r;

        if (run->req->disable_require || run->cli->conf.disable_require || !run->req->requires[0])
                return 0;
        for (char **e = run->req->requires; e && *e; e++) {
                bool per_gpu = sel->n_gpus > 0 && (strstr(*e, "arch") || strstr(*e, "brand"));

                for (size_t i = 0; i < (per_gpu ? sel->n_gpus : 1); i++) {
                        run->fact_bus_id = per_gpu ? sel->gpus[i]->bus_id : NULL;
                        r = eval_requirement(run, *e, err);
                        run->fact_bus_id = NULL;
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* CUDA forward compatibility (lib/compat.h): cache entries for the image's newer compat
 * libraries, read in-root. */
static int
add_cuda_compat(struct run *run, const char *host_rootfs, int pid, struct nvh_err *err)
{
        _cleanup_close_ int root_fd = -1;
        struct nvh_compat c = {0};
        int r;

        r = nvh_layout_open_root(host_rootfs, pid, &root_fd, err);
        if (r >= 0)
                r = nvh_compat_probe_fd(root_fd, run->sys->driver_version, &c, err);
        if (r >= 0 && c.version[0])
                r = nvh_compat_plan(run->plan, &c, run->sel->gpus, run->sel->n_gpus,
                                    run->sys->driver_version, err);
        nvh_compat_free(&c);
        return r < 0 ? r : 0;
}

static int prepare_request(struct run *run, const char *host_rootfs, int pid, struct nvh_err *err);

/* Everything up to the plan; shared by the hook and explain. */
static int
prepare(struct run *run, const char *bundle, int pid, struct nvh_err *err)
{
        _cleanup_free_ char *spec_path = NULL, *spec_buf = NULL;
        _cleanup_strv_ char **cdi_devices = NULL;
        struct nvh_request_policy policy = {0};
        size_t spec_len = 0;
        int r;

        spec_path = nvh_fileio_path_join(bundle, "config.json");
        if (!spec_path)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        r = nvh_fileio_read_at(AT_FDCWD, spec_path, SPEC_MAX, 0, &spec_buf, &spec_len, err);
        if (r < 0)
                return r;
        r = nvh_oci_spec_parse(spec_buf, spec_len, bundle, &run->spec, err);
        if (r < 0)
                return nvh_err_prefix(err, "'%s'", spec_path);
        phase_done(run, PH_SPEC);

        policy.accept_env_unprivileged = run->cli->conf.accept_env_unprivileged;
        policy.accept_device_mounts = run->cli->conf.accept_device_mounts;
        policy.allowed_caps = run->cli->conf.allowed_caps;
        r = nvh_cdi_hook_devices(spec_buf, spec_len, &cdi_devices, err);
        if (r < 0)
                return r;
        policy.cdi_devices = cdi_devices;
        policy.cdi_self =
            run->cli->stage ? (run->cli->cdi_device ? run->cli->cdi_device : "") : NULL;
        r = nvh_request_parse(run->spec, &policy, &run->req, err);
        if (r < 0)
                return r;
        phase_done(run, PH_REQUEST);
        if (run->req->note[0])
                nvh_log_debug("request: %s", run->req->note);
        if (run->req->warning[0])
                nvh_log_warn("%s", run->req->warning);
        if (run->cli->conf_err.code) {
                /* The config file is broken: a GPU container fails on it, any other is not
                 * nvhook's business (its request was judged with the default policy). */
                if (run->req->gpu_container) {
                        *err = run->cli->conf_err;
                        return err->code;
                }
                nvh_log_warn("%s (ignored: the container asks for no GPU)", run->cli->conf_err.msg);
        }
        return prepare_request(run, run->spec->host_rootfs, pid, err);
}

/* From the request to the plan: discovery, requirements, the image's layout (pid > 0: seen
 * through that process's mount namespace, else the caller's), the plan. */
static int
prepare_request(struct run *run, const char *host_rootfs, int pid, struct nvh_err *err)
{
        int r;

        if (!run->req->gpu_container) {
                run->decision = "not a GPU container";
                return 0;
        }

        r = nvh_gpus_open(run->cli->conf.proc_root, &run->sys, err);
        if (r < 0)
                return r;
        r = nvh_host_scan(run->cli->conf.dev_root, &run->host, err);
        if (r < 0)
                return r;
        r = nvh_select_resolve(run->req, run->sys, run->host, &run->sel, err);
        if (r < 0)
                return r;
        {
                struct nvh_driver_opts dopts = {0};
                dopts.host_root = run->cli->conf.driver_root;
                dopts.rel_ldcache = run->cli->conf.ldcache;
                dopts.version = run->sys->driver_version;
                /* Requirements need libcuda (and NVML for brand) even when the container
                 * did not ask for them; the plan still filters by the request's caps. */
                dopts.caps = run->req->caps |
                             (run->req->requires[0] ? NVH_CAP_COMPUTE | NVH_CAP_UTILITY : 0);
                r = nvh_drvcache_discover(run->cli->conf.cache_dir, &dopts, run->cli->stage != NULL,
                                          &run->drv, err);
                if (r < 0)
                        return r;
        }
        phase_done(run, PH_DISCOVER);

        r = check_requirements(run, err);
        if (r < 0)
                return r;
        phase_done(run, PH_REQUIRE);

        /* The parsed image cache is kept for the injection (checked to be the same file). */
        r = nvh_layout_probe_keep(host_rootfs, pid, &run->layout, err);
        if (r < 0)
                return r;
        phase_done(run, PH_LAYOUT);

        struct nvh_plan_input in = {.req = run->req,
                                    .sys = run->sys,
                                    .host = run->host,
                                    .sel = run->sel,
                                    .drv = run->drv,
                                    .layout = &run->layout,
                                    .create_missing_nodes = true};
        r = nvh_plan_build(&in, &run->plan, err);
        if (r < 0)
                return r;
        if (run->cli->conf.cuda_compat) {
                r = add_cuda_compat(run, host_rootfs, pid, err);
                if (r < 0)
                        return r;
        }
        phase_done(run, PH_PLAN);
        run->decision = "inject";
        return 0;
}

static void
write_log(const struct run *run, int rc, const struct nvh_err *err)
{
        const char *path = run->cli->conf.log_file;
        json_t *o, *ph;
        char *line;
        int fd;

        if (!path)
                return;
        ph = json_object();
        for (int i = 0; i < PH_MAX; i++)
                json_object_set_new(ph, phase_names[i], json_real((double)run->t[i] / 1e6));
        json_object_set_new(ph, "mounts", json_real((double)run->stats.ns_mounts / 1e6));
        json_object_set_new(ph, "nodes", json_real((double)run->stats.ns_nodes / 1e6));
        json_object_set_new(ph, "ldcache", json_real((double)run->stats.ns_ldcache / 1e6));
        json_object_set_new(ph, "cgroup", json_real((double)run->stats.ns_cgroup / 1e6));
        json_object_set_new(ph, "sources", json_real((double)run->stats.ns_sources / 1e6));
        o = json_pack("{s:I,s:s?,s:s?,s:s,s:i,s:o}", "time", (json_int_t)time(NULL), "id",
                      run->state ? run->state->id : NULL, "stage", run->cli->stage, "decision",
                      run->decision ? run->decision : "error", "exit", rc, "phases_ms", ph);
        if (!o)
                return;
        if (rc != 0 && err)
                json_object_set_new(o, "error", json_string(err->msg));
        {
                const char *const *w = NULL;
                size_t n = nvh_log_warnings(&w);
                if (n) {
                        json_t *a = json_array();
                        for (size_t i = 0; i < n; i++)
                                json_array_append_new(a, json_string(w[i]));
                        json_object_set_new(o, "warnings", a);
                }
        }
        if (run->plan) {
                char cbuf[128];
                json_object_set_new(
                    o, "capabilities",
                    json_string(nvh_caps_format(run->plan->caps, cbuf, sizeof(cbuf))));
                json_object_set_new(o, "gpus", json_integer((json_int_t)run->plan->n_gpus));
                json_object_set_new(o, "libraries", json_integer((json_int_t)run->plan->n_libs));
                json_object_set_new(o, "binaries", json_integer((json_int_t)run->plan->n_bins));
                json_object_set_new(o, "nodes", json_integer((json_int_t)run->plan->n_nodes));
        }
        line = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (!line)
                return;
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fd >= 0) {
                size_t len = strlen(line);
                line[len] = '\n';
                /* One write with O_APPEND: lines of concurrent hooks never interleave. */
                (void)!write(fd, line, len + 1);
                close(fd);
        }
        free(line);
}

int
nvh_cmd_hook(struct nvh_cli *cli)
{
        struct run run = {.cli = cli};
        struct nvh_err err = {0};
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        run.t0 = run.tlast = nvh_log_now_ns();
        nvh_log_syslog_open(cli->conf.syslog, NULL);
        r = nvh_fileio_read_fd(STDIN_FILENO, "container state on stdin", STATE_MAX, &buf, &len,
                               &err);
        if (r >= 0 && nvh_oci_state_parse(buf, len, &run.state, &err) < 0)
                r = nvh_err_prefix(&err, "container state on stdin");
        if (r >= 0) {
                char ctx[128];
                snprintf(ctx, sizeof(ctx), "container %.100s", run.state->id);
                nvh_log_syslog_open(cli->conf.syslog, ctx);
        }
        phase_done(&run, PH_STATE);
        if (r >= 0 && run.state->pid <= 0)
                r = nvh_err_set(&err, -EINVAL, "container state has no process id");
        if (r >= 0)
                r = prepare(&run, run.state->bundle, run.state->pid, &err);
        if (r >= 0 && run.plan) {
                struct nvh_inject_target t = {0};
                t.pid = run.state->pid;
                t.host_rootfs = run.spec->host_rootfs;
                t.cgroup_mode = cli->conf.cgroup_mode;
                t.user_ns = run.spec->user_ns;
                t.mounts = run.spec->mounts;
                t.n_mounts = run.spec->n_mounts;
                t.root_uid = t.root_gid = -1;
                for (size_t i = 0; i < run.spec->n_uid_mappings; i++)
                        if (run.spec->uid_mappings[i].container_id == 0)
                                t.root_uid = (int)run.spec->uid_mappings[i].host_id;
                for (size_t i = 0; i < run.spec->n_gid_mappings; i++)
                        if (run.spec->gid_mappings[i].container_id == 0)
                                t.root_gid = (int)run.spec->gid_mappings[i].host_id;
                if (t.root_gid < 0)
                        t.root_gid = t.root_uid;
                /* A runtime that itself runs in a user namespace (rootless): no mknod, no
                 * cgroup writes there; the host's nodes are bound, as in `--user` mode. */
                if (nvh_nsenter_in_user_ns()) {
                        t.user_ns = true;
                        t.cgroup_mode = NVH_CGROUP_NONE;
                }
                t.layout = &run.layout;
                r = nvh_inject_run(run.plan, &t, &run.stats, &err);
                phase_done(&run, PH_INJECT);
        }
        run.t[PH_TOTAL] = nvh_log_now_ns() - run.t0;
        if (r < 0)
                nvh_cli_fail(NULL, &err);
        else
                nvh_log_debug("%s: %s in %.3f ms", run.state->id, run.decision,
                              (double)run.t[PH_TOTAL] / 1e6);
        write_log(&run, r < 0 ? 1 : 0, &err);
        run_free(&run);
        return r < 0 ? 1 : 0;
}

int
nvh_cmd_explain(struct nvh_cli *cli)
{
        struct run run = {.cli = cli};
        struct nvh_err err = {0};
        _cleanup_free_ char *abs = NULL;
        int r;

        if (!cli->bundle) {
                fprintf(stderr, "nvhook: explain needs --bundle DIR\n");
                return 2;
        }
        abs = realpath(cli->bundle, NULL);
        if (!abs) {
                nvh_err_errno(&err, "bundle '%s'", cli->bundle);
                nvh_cli_fail(NULL, &err);
                return 1;
        }
        run.t0 = run.tlast = nvh_log_now_ns();
        r = prepare(&run, abs, cli->pid, &err);
        if (r < 0) {
                nvh_cli_fail(NULL, &err);
                run_free(&run);
                return 1;
        }
        if (!run.plan) {
                printf("{\n  \"decision\": \"%s\",\n  \"operations\": []\n}\n", run.decision);
        } else {
                char *s = nvh_plan_to_json(run.plan, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                if (s)
                        puts(s);
                free(s);
        }
        run_free(&run);
        return 0;
}

/* Front ends that build the request themselves (nvidia-container-cli) run the hook's
 * pipeline from discovery on. req is taken (freed here). */
int
nvh_engine_run(struct nvh_cli *cli, struct nvh_request *req, const struct nvh_inject_target *t,
               nvh_engine_edit_fn edit, void *userdata, struct nvh_err *err)
{
        struct run run = {.cli = cli, .req = req};
        int r;

        run.t0 = run.tlast = nvh_log_now_ns();
        r = prepare_request(&run, t->host_rootfs, t->same_ns ? 0 : t->pid, err);
        if (r >= 0 && run.plan && edit)
                r = edit(run.plan, userdata, err);
        if (r >= 0 && run.plan) {
                struct nvh_inject_target t2 = *t;
                t2.layout = &run.layout;
                r = nvh_inject_run(run.plan, &t2, &run.stats, err);
                phase_done(&run, PH_INJECT);
        }
        run.t[PH_TOTAL] = nvh_log_now_ns() - run.t0;
        write_log(&run, r < 0 ? 1 : 0, err);
        run_free(&run);
        return r;
}
