/* SPDX-License-Identifier: Apache-2.0 */
/* nvidia-container-cli's commands on nvhook's engine (argv[0] "nvidia-container-cli", or
 * "nvhook cli ..."). Tools that exec NVIDIA's CLI instead of running an OCI hook (containerd's
 * `ctr run --gpus`, LXC's hooks/nvidia, enroot, Apptainer) get the same discovery, selection,
 * plan and injection as the hook. The command line is parsed in hook/nvcli_args.c.
 *
 * Trusts: argv (the caller is the runtime or the administrator), never the image. Never runs
 * a program: --ldconfig=@PATH is accepted and nvhook writes the linker cache itself; a
 * container path (no '@') is refused (CVE-2024-0136/0137: the image's ldconfig would run). */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "cgroup.h"
#include "driver.h"
#include "drvcache.h"
#include "facts.h"
#include "gpus.h"
#include "host.h"
#include "inject.h"
#include "log.h"
#include "macros.h"
#include "nsenter.h"
#include "nvcli_args.h"
#include "nvhook.h"
#include "plan.h"
#include "request.h"
#include "select.h"

#define PROG NVH_NVCLI_PROG

static void
fail(const char *what, const struct nvh_err *err)
{
        char line[NVH_ERR_MSG_MAX + 64];

        snprintf(line, sizeof(line), "%s error: %s", what,
                 err->msg[0] ? err->msg : strerror(-err->code));
        fprintf(stderr, "%s: %s\n", PROG, line);
        nvh_log_syslog_error(line);
}

/* The request's devices resolved by the one selector (lib/select.h). The incumbent's device
 * errors: "<token>: unknown device" (the first token that resolves to nothing). */
static int
select_gpus(struct nvh_system *sys, const struct nvh_host *host, const char *devices,
            struct nvh_request *req, struct nvh_selection **ret_sel)
{
        struct nvh_err err = {0};
        _cleanup_strv_ char **toks = NULL;
        enum nvh_devsel sel = NVH_DEVSEL_NONE;

        req->sel = NVH_DEVSEL_NONE;
        if (!devices)
                return 0;
        if (nvh_request_parse_devices(devices, &sel, &toks, &err) < 0 || sel == NVH_DEVSEL_NONE) {
                fprintf(stderr, "%s: device error: %s: unknown device\n", PROG, devices);
                return -EINVAL;
        }
        req->sel = sel;
        req->devices = toks;
        if (nvh_select_resolve(req, sys, host, ret_sel, &err) >= 0) {
                TAKE_PTR(toks);
                return 0;
        }
        req->devices = NULL;
        for (char **t = toks; *t; t++) {
                struct nvh_request one = {.sel = NVH_DEVSEL_LIST, .devices = (char *[]){*t, NULL}};
                _cleanup_selection_ struct nvh_selection *s1 = NULL;

                if (nvh_select_resolve(&one, sys, host, &s1, &err) < 0) {
                        fprintf(stderr, "%s: device error: %s: unknown device\n", PROG, *t);
                        return -EINVAL;
                }
        }
        return fail("device", &err), -EINVAL;
}

/* NVML's bus id form: 8-digit domain, upper-case hex. */
static void
format_bus_id(const char *bus_id, char *buf, size_t size)
{
        unsigned dom = 0, bus = 0, dev = 0, fn = 0;

        if (sscanf(bus_id, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) == 4)
                snprintf(buf, size, "%08X:%02X:%02X.%X", dom, bus, dev, fn);
        else
                snprintf(buf, size, "%s", bus_id);
}

static void
fact(struct nvh_cli *cli, const struct nvh_driver *drv, const struct nvh_system *sys,
     const char *key, const char *bus_id, char *buf, size_t size)
{
        struct nvh_err err = {0};

        if (nvh_facts_get(cli->conf.cache_dir, drv, sys, key, bus_id, buf, size, &err) < 0) {
                nvh_log_debug("%s: %s", key, err.msg);
                snprintf(buf, size, "N/A");
        }
}

static int
discover(struct nvh_cli *cli, unsigned caps, struct nvh_system **ret_sys,
         struct nvh_driver **ret_drv)
{
        struct nvh_driver_opts dopts = {0};
        struct nvh_err err = {0};

        if (nvh_gpus_open(cli->conf.proc_root, ret_sys, &err) < 0)
                return fail("initialization", &err), -EIO;
        dopts.host_root = cli->conf.driver_root;
        dopts.rel_ldcache = cli->conf.ldcache;
        dopts.version = (*ret_sys)->driver_version;
        dopts.caps = caps;
        if (nvh_drvcache_discover(cli->conf.cache_dir, &dopts, false, ret_drv, &err) < 0)
                return fail("initialization", &err), -EIO;
        return 0;
}

static int
cmd_info(struct nvh_cli *cli, const struct nvh_nvcli_opts *o)
{
        _cleanup_gpus_ struct nvh_system *sys = NULL;
        _cleanup_driver_ struct nvh_driver *drv = NULL;
        struct nvh_err err = {0};
        char cuda[32];

        if (discover(cli, NVH_CAP_UTILITY | NVH_CAP_COMPUTE, &sys, &drv) < 0)
                return 1;
        if (nvh_gpus_load_all(sys, &err) < 0)
                return fail("detection", &err), 1;
        fact(cli, drv, sys, "cuda", NULL, cuda, sizeof(cuda));
        if (o->csv)
                printf("NVRM version,CUDA version\n%s,%s\n\nDevice Index,Device Minor,Model,Brand,"
                       "GPU UUID,Bus Location,Architecture\n",
                       sys->driver_version, cuda);
        else
                printf("%-16s%s\n%-16s%s\n", "NVRM version:", sys->driver_version,
                       "CUDA version:", cuda);
        for (size_t i = 0; i < sys->n_gpus; i++) {
                const struct nvh_gpu *g = &sys->gpus[i];
                char brand[64], arch[32], bus[32];

                fact(cli, drv, sys, "brand", g->bus_id, brand, sizeof(brand));
                fact(cli, drv, sys, "arch", g->bus_id, arch, sizeof(arch));
                /* NVML's brand names start with a capital ("Nvidia", "Tesla"). */
                if (brand[0] >= 'a' && brand[0] <= 'z')
                        brand[0] = (char)(brand[0] - 'a' + 'A');
                format_bus_id(g->bus_id, bus, sizeof(bus));
                if (o->csv)
                        printf("%u,%u,%s,%s,%s,%s,%s\n", g->index, g->minor, g->model, brand,
                               g->uuid, bus, arch);
                else
                        printf("\n%-16s%u\n%-16s%u\n%-16s%s\n%-16s%s\n%-16s%s\n%-16s%s\n%-16s%s\n",
                               "Device Index:", g->index, "Device Minor:", g->minor,
                               "Model:", g->model, "Brand:", brand, "GPU UUID:", g->uuid,
                               "Bus Location:", bus, "Architecture:", arch);
        }
        return 0;
}

/* The incumbent lists components in its own table order; nvhook's discovery keeps the host
 * cache's. Known names sort first, in that order; the rest follow in discovery order. */
static const char *const component_order[] = {
    "nvidia-smi",
    "nvidia-debugdump",
    "nvidia-persistenced",
    "nv-fabricmanager",
    "nvidia-cuda-mps-control",
    "nvidia-cuda-mps-server",
    "nvidia-imex",
    "nvidia-imex-ctl",
    "libnvidia-ml.so",
    "libnvidia-cfg.so",
    "libnvidia-nscq.so",
    "libcuda.so",
    "libcudadebugger.so",
    "libnvidia-opencl.so",
    "libnvidia-gpucomp.so",
    "libnvidia-ptxjitcompiler.so",
    "libnvidia-fatbinaryloader.so",
    "libnvidia-allocator.so",
    "libnvidia-compiler.so",
    "libnvidia-pkcs11.so",
    "libnvidia-pkcs11-openssl3.so",
    "libnvidia-nvvm.so",
    "libvdpau_nvidia.so",
    "libnvidia-encode.so",
    "libnvidia-opticalflow.so",
    "libnvcuvid.so",
    "libnvidia-eglcore.so",
    "libnvidia-glcore.so",
    "libnvidia-tls.so",
    "libnvidia-glsi.so",
    "libnvidia-fbc.so",
    "libnvidia-ifr.so",
    "libnvidia-rtcore.so",
    "libnvoptix.so",
    "libGLX_nvidia.so",
    "libEGL_nvidia.so",
    "libGLESv2_nvidia.so",
    "libGLESv1_CM_nvidia.so",
    "libnvidia-glvkspirv.so",
    "libnvidia-cbl.so",
    "libnvidia-ngx.so",
};

static size_t
component_rank(const char *host_path)
{
        const char *base = strrchr(host_path, '/');

        base = base ? base + 1 : host_path;
        for (size_t i = 0; i < ARRAY_SIZE(component_order); i++) {
                size_t n = strlen(component_order[i]);
                if (strncmp(base, component_order[i], n) == 0 && (!base[n] || base[n] == '.'))
                        return i;
        }
        return ARRAY_SIZE(component_order);
}

static void
print_files(const struct nvh_driver *drv, enum nvh_file_kind kind, int elf_class)
{
        for (size_t rank = 0; rank <= ARRAY_SIZE(component_order); rank++) {
                for (size_t i = 0; i < drv->n_files; i++) {
                        const struct nvh_driver_file *f = &drv->files[i];
                        bool ipc = kind == NVH_FILE_SOCKET &&
                                   (f->kind == NVH_FILE_SOCKET || f->kind == NVH_FILE_DIR);

                        if ((f->kind != kind && !ipc) || (elf_class && f->elf_class != elf_class))
                                continue;
                        if (component_rank(f->host_path) == rank)
                                printf("%s\n", f->host_path);
                }
        }
}

/* The devices select_gpus hands to a request on the stack. */
static void
request_devices_clear(struct nvh_request *req)
{
        strv_free(req->devices);
        req->devices = NULL;
}

static int
cmd_list(struct nvh_cli *cli, const struct nvh_nvcli_opts *o)
{
        static const char *const ctl[] = {"nvidiactl", "nvidia-uvm", "nvidia-uvm-tools",
                                          "nvidia-modeset"};
        _cleanup_gpus_ struct nvh_system *sys = NULL;
        _cleanup_driver_ struct nvh_driver *drv = NULL;
        _cleanup_(request_devices_clear) struct nvh_request req = {0};
        struct nvh_err err = {0};
        _cleanup_host_ struct nvh_host *host = NULL;
        _cleanup_selection_ struct nvh_selection *sel = NULL;

        if (discover(cli, NVH_CAP_ALL, &sys, &drv) < 0)
                return 1;
        if (nvh_host_scan(cli->conf.dev_root, &host, &err) < 0)
                return fail("detection", &err), 1;
        if (select_gpus(sys, host, o->devices, &req, &sel) < 0)
                return 1;
        if (sel) {
                for (size_t i = 0; i < ARRAY_SIZE(ctl); i++) {
                        const struct nvh_host_node *n = nvh_host_find(host, ctl[i]);
                        if (n && n->error == 0 && S_ISCHR(n->mode))
                                printf("/dev/%s\n", ctl[i]);
                }
                for (size_t i = 0; i < sel->n_gpus; i++)
                        printf("/dev/nvidia%u\n", sel->gpus[i]->minor);
        }
        if (o->list_bins)
                print_files(drv, NVH_FILE_BIN, 0);
        if (o->list_libs) {
                print_files(drv, NVH_FILE_LIB, 64);
                if (o->compat32)
                        print_files(drv, NVH_FILE_LIB, 32);
        }
        if (o->list_firmwares)
                print_files(drv, NVH_FILE_FIRMWARE, 0);
        if (o->list_ipcs)
                print_files(drv, NVH_FILE_SOCKET, 0);
        return 0;
}

/* --no-devbind: the caller makes the nodes; their cgroup access is still granted. */
static int
drop_nodes(struct nvh_plan *plan, void *userdata, struct nvh_err *err)
{
        size_t k = 0;

        (void)err;
        if (!*(bool *)userdata)
                return 0;
        for (size_t i = 0; i < plan->n_ops; i++) {
                struct nvh_op *op = &plan->ops[i];
                if (op->kind == NVH_OP_MKNOD) {
                        free(op->host_path);
                        free(op->ctr_path);
                        free(op->target);
                        continue;
                }
                plan->ops[k++] = *op;
        }
        plan->n_ops = k;
        plan->n_nodes = 0;
        return 0;
}

static int
strv_from(const char *const *v, size_t n, char ***ret)
{
        char **out = calloc(n + 1, sizeof(*out));

        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                out[i] = strdup(v[i]);
                if (!out[i]) {
                        strv_free(out);
                        return -ENOMEM;
                }
        }
        *ret = out;
        return 0;
}

/* "all" or a comma list of decimal channel numbers. */
static int
parse_imex(const char *list, struct nvh_request *req)
{
        _cleanup_free_ char *copy = strdup(list);
        char *save = NULL;
        size_t n = 0;

        if (!copy)
                return -ENOMEM;
        if (streq(list, "all")) {
                req->imex_all = true;
                return 0;
        }
        for (const char *c = list; *c; c++)
                n += *c == ',';
        req->imex_channels = calloc(n + 2, sizeof(char *));
        if (!req->imex_channels)
                return -ENOMEM;
        n = 0;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                char *end = NULL;
                unsigned long v;

                errno = 0;
                v = strtoul(t, &end, 10);
                if (!*t || *end || errno || v > NVH_GPUS_MAX_MINOR || t[0] == '-')
                        return -EINVAL;
                if (asprintf(&req->imex_channels[n++], "%lu", v) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int
mig_list(const char *list, enum nvh_devsel *sel, char ***toks)
{
        struct nvh_err err = {0};

        if (!list)
                return 0;
        strv_free(*toks);
        *toks = NULL;
        return nvh_request_parse_devices(list, sel, toks, &err);
}

static int
out_of_memory(void)
{
        fprintf(stderr, "%s: out of memory\n", PROG);
        return 1;
}

static int
cmd_configure(struct nvh_cli *cli, const struct nvh_nvcli_opts *o)
{
        _cleanup_request_ struct nvh_request *req = NULL;
        struct nvh_inject_target t = {0};
        struct nvh_err err = {0};
        bool no_devbind = o->no_devbind;
        int r;

        if (o->rootfs[0] != '/' || streq(o->rootfs, "/")) {
                fprintf(stderr, "%s: input error: invalid rootfs directory '%s'\n", PROG,
                        o->rootfs);
                return 1;
        }
        if (o->ldconfig && o->ldconfig[0] != '@') {
                fprintf(stderr,
                        "%s: input error: --ldconfig='%s' names a program inside the container: "
                        "refused (nvhook never runs the image's programs; give '@HOST_PATH', "
                        "nvhook then writes the linker cache itself)\n",
                        PROG, o->ldconfig);
                return 1;
        }
        if (o->compat_mode && !streq(o->compat_mode, "ldconfig") &&
            !streq(o->compat_mode, "disabled")) {
                fprintf(stderr,
                        "%s: input error: --cuda-compat-mode='%s' is not supported (nvhook "
                        "never mounts the image's compat libraries): use ldconfig or disabled\n",
                        PROG, o->compat_mode);
                return 1;
        }
        t.user_ns = o->user || nvh_nsenter_in_user_ns();
        if (t.user_ns && !o->no_cgroups) {
                fprintf(stderr,
                        "%s: input error: an unprivileged (--user or user-namespaced) configure "
                        "cannot write device cgroups: add --no-cgroups (the caller grants the "
                        "devices)\n",
                        PROG);
                return 1;
        }
        req = calloc(1, sizeof(*req));
        if (!req)
                return 1;
        req->gpu_container = true;
        req->source = "cli";
        req->caps = o->caps & cli->conf.allowed_caps;
        req->disable_require = cli->conf.disable_require;
        if (strv_from((const char *const *)o->reqs, o->n_reqs, &req->requires) < 0 ||
            strv_from((const char *const *)o->reqs, o->n_reqs, &req->require_names) < 0)
                return out_of_memory();
        req->devices = calloc(1, sizeof(char *));
        req->mig_config = calloc(1, sizeof(char *));
        req->mig_monitor = calloc(1, sizeof(char *));
        if (!req->imex_channels)
                req->imex_channels = calloc(1, sizeof(char *));
        if (!req->devices || !req->mig_config || !req->mig_monitor || !req->imex_channels)
                return out_of_memory();
        if (o->devices) {
                strv_free(req->devices);
                req->devices = NULL;
                r = nvh_request_parse_devices(o->devices, &req->sel, &req->devices, &err);
                if (r < 0) {
                        fprintf(stderr, "%s: device error: %s: unknown device\n", PROG, o->devices);
                        return 1;
                }
        }
        if (mig_list(o->mig_config, &req->mig_config_sel, &req->mig_config) < 0 ||
            mig_list(o->mig_monitor, &req->mig_monitor_sel, &req->mig_monitor) < 0) {
                fprintf(stderr, "%s: input error: bad MIG device list\n", PROG);
                return 1;
        }
        if (o->imex) {
                strv_free(req->imex_channels);
                req->imex_channels = NULL;
                if (parse_imex(o->imex, req) < 0 || (!req->imex_all && !req->imex_channels)) {
                        fprintf(stderr, "%s: input error: bad IMEX channel list '%s'\n", PROG,
                                o->imex);
                        return 1;
                }
        }

        t.host_rootfs = o->rootfs;
        t.cgroup_mode = o->no_cgroups ? NVH_CGROUP_NONE : (int)cli->conf.cgroup_mode;
        t.root_uid = t.root_gid = -1;
        if (o->pid > 0) {
                t.pid = o->pid;
        } else {
                /* Standalone: the caller (LXC's mount hook) already is in the container's
                 * namespaces; the cgroup is the parent's, as the incumbent does. */
                t.pid = (int)getppid();
                t.same_ns = true;
        }
        if (o->user && o->uid >= 0 && geteuid() == 0 && !nvh_nsenter_in_user_ns()) {
                t.root_uid = (int)o->uid;
                t.root_gid = (int)o->gid;
        }
        if (o->compat_mode && streq(o->compat_mode, "disabled"))
                cli->conf.cuda_compat = false;
        cli->stage = "configure";
        r = nvh_engine_run(cli, TAKE_PTR(req), &t, drop_nodes, &no_devbind, &err);
        if (r < 0) {
                fail(r == -EPERM && strstr(err.msg, "unsatisfied") ? "requirement" : "mount", &err);
                return 1;
        }
        return 0;
}

static bool
module_loaded(const char *name)
{
        _cleanup_free_ char *line = NULL;
        size_t cap = 0, n = strlen(name);
        bool found = false;
        _cleanup_fclose_ FILE *f = fopen("/proc/modules", "re");

        if (!f)
                return false;
        while (!found && getline(&line, &cap, f) > 0)
                found = strncmp(line, name, n) == 0 && line[n] == ' ';
        return found;
}

/* --load-kmods: load the driver's modules that are not loaded yet with the host's modprobe,
 * by absolute path, with an empty environment and fixed arguments. The only program nvhook
 * ever runs, and only under this flag. */
static void
load_kmods(void)
{
        static const char *const mods[] = {"nvidia", "nvidia_uvm", "nvidia_modeset"};
        static const char modprobe[] = "/sbin/modprobe";

        for (size_t i = 0; i < ARRAY_SIZE(mods); i++) {
                char *const argv[] = {(char *)"modprobe", (char *)"-q", (char *)"--",
                                      (char *)mods[i], NULL};
                char *const envp[] = {NULL};
                int status = 0;
                pid_t pid;

                if (module_loaded(mods[i]))
                        continue;
                pid = fork();
                if (pid < 0) {
                        struct nvh_err err = {0};

                        nvh_err_errno(&err, "--load-kmods: fork");
                        nvh_log_warn("%s", err.msg);
                        return;
                }
                if (pid == 0) {
                        execve(modprobe, argv, envp);
                        _exit(127);
                }
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        nvh_log_warn("--load-kmods: %s %s failed (status %d)", modprobe, mods[i],
                                     status);
        }
}

int
nvh_cmd_nvcli(struct nvh_cli *cli, int argc, char **argv)
{
        _cleanup_nvcli_args_ struct nvh_nvcli_opts o = {0};
        _cleanup_close_ int debug_fd = -1;

        if (nvh_nvcli_args_parse(argc, argv, &o) < 0 || o.cmd == NVH_NVCLI_CMD_NONE)
                return 1;
        if (o.root || o.ldcache) {
                _cleanup_free_ char *abs = o.root ? realpath(o.root, NULL) : NULL;
                if (o.root && !abs) {
                        struct nvh_err err = {0};

                        nvh_err_errno(&err, "--root '%s'", o.root);
                        return fail("input", &err), 1;
                }
                if ((abs && nvh_conf_set_str(&cli->conf.driver_root, abs) < 0) ||
                    (o.ldcache && nvh_conf_set_str(&cli->conf.ldcache, o.ldcache) < 0))
                        return 1;
        }
        nvh_log_syslog_open(cli->conf.syslog, PROG);
        if (o.debug) {
                /* The incumbent's --debug=FILE: debug lines go to FILE (the caller's host
                 * path), stderr keeps its level. */
                debug_fd =
                    open(o.debug, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (debug_fd < 0) {
                        struct nvh_err err = {0};

                        nvh_err_errno(&err, "--debug '%s'", o.debug);
                        return fail("input", &err), 1;
                }
                nvh_log_set_file(debug_fd);
                nvh_log_debug("%s: debug log opened", PROG);
        }
        if (o.quiet)
                nvh_log_set_level(NVH_LOG_ERROR);
        if (o.load_kmods && !o.user && !nvh_nsenter_in_user_ns())
                load_kmods();
        switch (o.cmd) {
        case NVH_NVCLI_CMD_INFO:
                return cmd_info(cli, &o);
        case NVH_NVCLI_CMD_LIST:
                return cmd_list(cli, &o);
        default:
                return cmd_configure(cli, &o);
        }
}
