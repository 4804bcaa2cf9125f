/* SPDX-License-Identifier: Apache-2.0 */
/* nvhook doctor: check a node as an SRE would, and say what to do about each failure.
 * Reads only; writes nothing (the discovery cache is read, never updated). */
#include "doctor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "caps.h"
#include "cgroup.h"
#include "driver.h"
#include "drvcache.h"
#include "fileio.h"
#include "gpus.h"
#include "kfeatures.h"
#include "macros.h"

/* ---- kernel features ------------------------------------------------------------------------
 * lib/kfeatures.c asks the kernel (one harmless call each); this names them for people. */
void
nvh_doctor_probe_features(struct nvh_doctor_feature *out)
{
        static const struct {
                enum nvh_kfeature f;
                const char *name, *use;
        } rows[NVH_DOCTOR_N_FEATURES] = {
            {NVH_KFEATURE_OPENAT2, "openat2", "in-root resolution (else the fallback walker)"},
            {NVH_KFEATURE_MOUNT_API, "mount-api", "mounts by fd, tmpfs mounts filled detached"},
            {NVH_KFEATURE_MOUNT_SETATTR, "mount_setattr",
             "read-only, nosuid, nodev in one call per mount"},
            {NVH_KFEATURE_BPF_REPLACE, "bpf-replace",
             "cgroup v2 device program replaced atomically (BPF_F_REPLACE)"},
            {NVH_KFEATURE_PIDFD, "pidfd", "the container's process pinned while entering it"},
        };

        for (size_t i = 0; i < NVH_DOCTOR_N_FEATURES; i++)
                out[i] = (struct nvh_doctor_feature){rows[i].name, nvh_kfeatures_probe(rows[i].f),
                                                     rows[i].use};
}

void
nvh_doctor_format_features(const struct nvh_doctor_feature *f, char *buf, size_t size)
{
        size_t off = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < NVH_DOCTOR_N_FEATURES && off < size; i++) {
                int n = snprintf(buf + off, size - off, "%s%s%s", i ? " " : "",
                                 f[i].state > 0    ? ""
                                 : f[i].state == 0 ? "-"
                                                   : "?",
                                 f[i].name);
                if (n < 0)
                        break;
                off += (size_t)n;
        }
}

char *
nvh_doctor_self_dir(void)
{
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        char *slash;

        if (n <= 0)
                return NULL;
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (!slash) {
                errno = ENOENT;
                return NULL;
        }
        *slash = '\0';
        return strdup(self[0] ? self : "/");
}

/* ---- the report --------------------------------------------------------------------------- */

enum status { ST_OK, ST_WARN, ST_FAIL, ST_INFO };

static const char *const status_names[] = {
    [ST_OK] = "ok", [ST_WARN] = "warn", [ST_FAIL] = "FAIL", [ST_INFO] = "info"};

struct report {
        json_t *checks; /* array of {check, status, detail, why?, fix?} */
        unsigned n_fail, n_warn;
};

static void __attribute__((format(printf, 6, 7)))
add(struct report *rep, enum status st, const char *check, const char *why, const char *fix,
    const char *fmt, ...)
{
        char detail[1024];
        va_list ap;
        json_t *o;

        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
        o = json_pack("{s:s,s:s,s:s}", "check", check, "status",
                      st == ST_FAIL   ? "fail"
                      : st == ST_WARN ? "warn"
                      : st == ST_INFO ? "info"
                                      : "ok",
                      "detail", detail);
        if (!o)
                return;
        if (why)
                json_object_set_new(o, "why", json_string(why));
        if (fix)
                json_object_set_new(o, "fix", json_string(fix));
        json_object_set_new(o, "_st", json_integer(st));
        json_array_append_new(rep->checks, o);
        if (st == ST_FAIL)
                rep->n_fail++;
        if (st == ST_WARN)
                rep->n_warn++;
}

/* A character device node host_dev/name with major:minor. 0 ok, -ENOENT missing, -EINVAL
 * something else is there (detail in buf). */
static int
check_node(const char *host_dev, const char *name, int major, int minor, char *buf, size_t size)
{
        _cleanup_free_ char *path = nvh_fileio_path_join(host_dev, name);
        struct stat st;

        if (!path)
                return -ENOMEM;
        if (lstat(path, &st) < 0) {
                snprintf(buf, size, "'%s' is missing", path);
                return -ENOENT;
        }
        if (!S_ISCHR(st.st_mode)) {
                snprintf(buf, size, "'%s' is not a character device", path);
                return -EINVAL;
        }
        if ((int)major(st.st_rdev) != major || (int)minor(st.st_rdev) != minor) {
                snprintf(buf, size, "'%s' is %u:%u, the driver's is %d:%d", path, major(st.st_rdev),
                         minor(st.st_rdev), major, minor);
                return -EINVAL;
        }
        snprintf(buf, size, "'%s' %d:%d", path, major, minor);
        return 0;
}

static void
check_driver_nodes(const struct nvh_conf *conf, const struct nvh_system *sys, struct report *rep)
{
        const char *dev = conf->dev_root;
        char d[512], fix[512];
        unsigned bad = 0;
        int r;

        if (sys->majors.nvidia < 0) {
                add(rep, ST_FAIL, "nodes", NULL,
                    "reload the driver: modprobe -r nvidia; modprobe nvidia",
                    "no 'nvidia' major in '%s/devices'", conf->proc_root);
                return;
        }
        r = check_node(dev, "nvidiactl", sys->majors.nvidia, NVH_GPUS_MINOR_CTL, d, sizeof(d));
        if (r < 0) {
                snprintf(fix, sizeof(fix),
                         "nvidia-modprobe -c 0 (or mknod -m 666 %s/nvidiactl c %d 255)", dev,
                         sys->majors.nvidia);
                add(rep, ST_FAIL, "nodes", "every CUDA and NVML call opens nvidiactl first", fix,
                    "%s", d);
                bad++;
        }
        for (size_t i = 0; i < sys->n_gpus; i++) {
                char name[32];

                snprintf(name, sizeof(name), "nvidia%u", sys->gpus[i].minor);
                r = check_node(dev, name, sys->majors.nvidia, (int)sys->gpus[i].minor, d,
                               sizeof(d));
                if (r < 0) {
                        snprintf(fix, sizeof(fix),
                                 "nvidia-modprobe -c %u (or mknod -m 666 %s/%s c %d %u)",
                                 sys->gpus[i].minor, dev, name, sys->majors.nvidia,
                                 sys->gpus[i].minor);
                        add(rep, ST_FAIL, "nodes",
                            "a GPU without its node cannot be given to a container", fix,
                            "%s (GPU %zu, %s)", d, i, sys->gpus[i].bus_id);
                        bad++;
                }
        }
        if (!bad)
                add(rep, ST_OK, "nodes", NULL, NULL,
                    "nvidiactl and %zu GPU node(s) under '%s', major %d", sys->n_gpus, dev,
                    sys->majors.nvidia);

        /* The classic: nvidia-uvm is loaded on demand by the first CUDA call on the host, which
         * also creates its nodes; a container started before that (or on a host that never ran
         * CUDA) has no /dev/nvidia-uvm, and cuInit fails with "no CUDA-capable device". */
        static const char uvm_why[] =
            "CUDA works on the host, not in the container: the host's first CUDA call loads "
            "nvidia-uvm and creates /dev/nvidia-uvm, but containers started before that (or on "
            "a node where nothing ran CUDA) get no uvm node and cuInit fails with 'no "
            "CUDA-capable device is detected'";
        if (sys->majors.nvidia_uvm < 0) {
                add(rep, ST_FAIL, "uvm", uvm_why,
                    "load the module at boot: echo nvidia-uvm > "
                    "/etc/modules-load.d/nvidia-uvm.conf; "
                    "modprobe nvidia-uvm; nvidia-modprobe -u -c 0",
                    "nvidia-uvm is not loaded (no 'nvidia-uvm' major in '%s/devices')",
                    conf->proc_root);
        } else {
                bad = 0;
                for (int m = NVH_GPUS_MINOR_UVM; m <= NVH_GPUS_MINOR_UVM_TOOLS; m++) {
                        const char *name = m ? "nvidia-uvm-tools" : "nvidia-uvm";
                        r = check_node(dev, name, sys->majors.nvidia_uvm, m, d, sizeof(d));
                        if (r < 0) {
                                snprintf(fix, sizeof(fix),
                                         "create the nodes at boot: nvidia-modprobe -u -c 0 (or "
                                         "mknod -m 666 %s/%s c %d %d); then restart the "
                                         "containers",
                                         dev, name, sys->majors.nvidia_uvm, m);
                                add(rep, ST_FAIL, "uvm", uvm_why, fix, "%s", d);
                                bad++;
                        }
                }
                if (!bad)
                        add(rep, ST_OK, "uvm", NULL, NULL,
                            "nvidia-uvm and nvidia-uvm-tools, major %d", sys->majors.nvidia_uvm);
        }

        if (sys->majors.nvidia_caps < 0) {
                add(rep, ST_INFO, "caps", NULL, NULL,
                    "no 'nvidia-caps' major: MIG and IMEX devices unavailable");
        } else {
                _cleanup_free_ char *p = nvh_fileio_path_join(dev, "nvidia-caps");
                struct stat st;
                bool need = sys->mig_config.minor >= 0 || sys->mig_monitor.minor >= 0;

                for (size_t i = 0; i < sys->n_gpus; i++)
                        need |= sys->gpus[i].n_migs > 0;
                if (p && stat(p, &st) == 0 && S_ISDIR(st.st_mode))
                        add(rep, ST_OK, "caps", NULL, NULL, "'%s' present, major %d", p,
                            sys->majors.nvidia_caps);
                else
                        add(rep, need ? ST_FAIL : ST_INFO, "caps",
                            need ? "MIG devices are opened through their capability nodes" : NULL,
                            need ? "nvidia-modprobe -f /proc/driver/nvidia/capabilities/mig/config"
                                 : NULL,
                            "'%s' missing (major %d)%s", p ? p : "nvidia-caps",
                            sys->majors.nvidia_caps,
                            need ? "" : "; created on demand by MIG tools");
        }
}

static void
check_persistence(struct report *rep)
{
        struct stat st;

        /* nvidia-persistenced keeps the driver initialised; procfs has no flag for it, its
         * socket is the sign it runs. */
        if (stat("/var/run/nvidia-persistenced/socket", &st) == 0)
                add(rep, ST_OK, "persistence", NULL, NULL, "nvidia-persistenced is running");
        else
                add(rep, ST_WARN, "persistence",
                    "without persistence the driver tears the GPUs down when the last client "
                    "exits: every container's first CUDA call pays seconds of initialisation",
                    "systemctl enable --now nvidia-persistenced (or nvidia-smi -pm 1)",
                    "nvidia-persistenced is not running (no /var/run/nvidia-persistenced/socket)");
}

static void
check_cgroup(const struct nvh_conf *conf, const struct nvh_doctor_feature *feat, struct report *rep)
{
        struct nvh_err err = {0};
        struct nvh_cgroup *cg = NULL;
        int r;

        r = nvh_cgroup_find(getpid(), (enum nvh_cgroup_mode)conf->cgroup_mode, &cg, &err);
        if (r < 0) {
                add(rep, ST_FAIL, "cgroup",
                    "device rules are how a container is kept off the GPUs it did not ask for",
                    "mount the cgroup hierarchy (cgroup2 on /sys/fs/cgroup, or v1 with the devices "
                    "controller)",
                    "%s", err.msg);
                return;
        }
        switch (cg->mode) {
        case NVH_CGROUP_V1:
                add(rep, ST_OK, "cgroup", NULL, NULL,
                    "v1 devices controller at '%s': rules written to devices.allow", cg->host_path);
                break;
        case NVH_CGROUP_V2:
                if (feat[3].state == 0)
                        add(rep, ST_WARN, "cgroup",
                            "without BPF_F_REPLACE the runtime's program and ours are both "
                            "attached",
                            "use a kernel >= 5.6",
                            "v2 at '%s', eBPF device programs (no BPF_F_REPLACE)", cg->host_path);
                else
                        add(rep, ST_OK, "cgroup", NULL, NULL, "v2 at '%s': eBPF device programs",
                            cg->host_path);
                break;
        default:
                add(rep, ST_WARN, "cgroup",
                    "the runtime's rules alone decide which devices a container opens",
                    "set \"cgroup\": \"auto\" in the config",
                    "\"cgroup\": \"none\": nvhook writes no device rules");
                break;
        }
        nvh_cgroup_free(cg);
}

/* Trusted: a root-owned regular file, not writable by group or others, in a directory of the
 * same kind: the probe runs with the hook's privileges until it drops them. */
static void
check_probe(const char *self_dir, struct report *rep)
{
        _cleanup_free_ char *p = self_dir ? nvh_fileio_path_join(self_dir, "nvhook-probe") : NULL;
        struct stat st, dst;

        if (!p) {
                add(rep, ST_FAIL, "probe", NULL, NULL, "cannot find our own executable");
                return;
        }
        if (stat(p, &st) < 0) {
                add(rep, ST_FAIL, "probe",
                    "every image with NVIDIA_REQUIRE_CUDA (all official CUDA images) needs it: the "
                    "CUDA version comes from the host's libcuda through nvhook-probe",
                    "install nvhook-probe beside nvhook (same directory, root:root, mode 0755)",
                    "'%s' is missing", p);
                return;
        }
        if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) ||
            stat(self_dir, &dst) < 0 || dst.st_uid != 0 || (dst.st_mode & 022)) {
                add(rep, ST_FAIL, "probe",
                    "the probe runs with the hook's privileges until it drops them",
                    "chown root:root the file and its directory; chmod go-w both",
                    "'%s' is not trusted (must be root-owned, not writable by group or others, "
                    "in such a directory)",
                    p);
                return;
        }
        add(rep, ST_OK, "probe", NULL, NULL, "'%s' root-owned, mode %04o", p, st.st_mode & 07777);
}

static void
check_cache(const struct nvh_conf *conf, const struct nvh_system *sys, struct report *rep)
{
        struct nvh_driver_opts opts = {.host_root = conf->driver_root,
                                       .rel_ldcache = conf->ldcache,
                                       .version = sys->driver_version,
                                       .caps = NVH_CAP_ALL};
        struct nvh_driver *drv = NULL;
        struct nvh_err err = {0};
        struct stat st;
        int r;

        r = nvh_drvcache_discover(conf->cache_dir, &opts, false, &drv, &err);
        if (r < 0) {
                add(rep, ST_FAIL, "driver-files", "containers would get no driver libraries",
                    "check driver_root and ldcache in the config; run ldconfig in the driver root",
                    "%s", err.msg);
                return;
        }
        add(rep, drv->n_files ? ST_OK : ST_FAIL, "driver-files", NULL,
            drv->n_files ? NULL : "install the driver's user-space libraries",
            "%zu driver files for %s under '%s'%s", drv->n_files, sys->driver_version,
            conf->driver_root, drv->n_skipped ? " (some candidates skipped)" : "");
        nvh_driver_free(drv);

        if (stat(conf->cache_dir, &st) < 0)
                add(rep, ST_OK, "cache", NULL, NULL,
                    "'%s' not created yet (the first GPU container writes it)", conf->cache_dir);
        else if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
                add(rep, ST_WARN, "cache", "an untrusted cache is ignored: every start rediscovers",
                    "rm -rf the directory; nvhook recreates it 0700",
                    "'%s' is not a directory owned by uid %u and unwritable by others",
                    conf->cache_dir, (unsigned)geteuid());
        else
                add(rep, ST_OK, "cache", NULL, NULL, "'%s' trusted (validated per start)",
                    conf->cache_dir);
}

/* ---- engines ------------------------------------------------------------------------------ */

char *
nvh_doctor_which(const char *name)
{
        static const char *const bin_dirs[] = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                                               "/usr/bin",        "/sbin",          "/bin"};

        for (size_t i = 0; i < ARRAY_SIZE(bin_dirs); i++) {
                char *p = nvh_fileio_path_join(bin_dirs[i], name);
                if (p && access(p, X_OK) == 0)
                        return p;
                free(p);
        }
        return NULL;
}

/* True when host_path resolves to our own executable. */
static bool
is_self(const char *host_path)
{
        _cleanup_free_ char *a = realpath(host_path, NULL);
        _cleanup_free_ char *b = realpath("/proc/self/exe", NULL);

        return a && b && streq(a, b);
}

static bool
file_has(const char *host_path, const char *needle)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        struct nvh_err err = {0};

        if (nvh_fileio_read_at(AT_FDCWD, host_path, 4u << 20, 0, &buf, &len, &err) < 0)
                return false;
        return strstr(buf, needle) != NULL;
}

/* hooks.d directories of Podman and CRI-O; a file in /etc hides one of the same name in
 * /usr/share. Counts GPU hooks: ours, and the incumbent's (nvidia-container-runtime-hook or
 * nvidia-ctk, from nvidia-container-toolkit's oci-nvidia-hook.json). */
static void
scan_hooksd(const char *const *dirs, size_t n_dirs, json_t *ours, json_t *theirs)
{
        for (size_t i = 0; i < n_dirs; i++) {
                _cleanup_closedir_ DIR *d = opendir(dirs[i]);
                struct dirent *de;

                if (!d)
                        continue;
                while ((de = readdir(d))) {
                        _cleanup_free_ char *p = NULL;
                        json_t *j, *path;
                        const char *s;
                        bool hidden = false;

                        if (!strstr(de->d_name, ".json"))
                                continue;
                        for (size_t k = 0; k < i; k++) {
                                _cleanup_free_ char *q = nvh_fileio_path_join(dirs[k], de->d_name);
                                hidden |= q && access(q, F_OK) == 0;
                        }
                        p = nvh_fileio_path_join(dirs[i], de->d_name);
                        if (hidden || !p)
                                continue;
                        j = json_load_file(p, 0, NULL);
                        path = json_object_get(json_object_get(j, "hook"), "path");
                        s = json_string_value(path);
                        if (s && (is_self(s) || strstr(s, "/nvhook")))
                                json_array_append_new(ours, json_string(p));
                        else if (s && (strstr(s, "nvidia-container-runtime-hook") ||
                                       strstr(s, "nvidia-ctk")))
                                json_array_append_new(theirs, json_string(p));
                        json_decref(j);
                }
        }
}

static void
report_engine(struct report *rep, const char *engine, const char *bin, json_t *ours, json_t *theirs,
              const char *fix)
{
        char check[32];
        size_t n = json_array_size(ours) + json_array_size(theirs);
        _cleanup_free_ char *list = json_dumps(ours, JSON_COMPACT);
        _cleanup_free_ char *tlist = json_dumps(theirs, JSON_COMPACT);

        snprintf(check, sizeof(check), "engine-%s", engine);
        if (json_array_size(ours) == 0)
                add(rep, ST_WARN, check, "containers of this engine get no GPU from nvhook", fix,
                    "%s found, nvhook not registered%s%s", bin,
                    json_array_size(theirs) ? "; NVIDIA's hook is: " : "",
                    json_array_size(theirs) ? tlist : "");
        else if (n > 1)
                add(rep, ST_FAIL, check,
                    "two GPU hooks run for every container: the second fails or mounts over the "
                    "first",
                    "keep one: remove all but one of the registrations listed",
                    "%s: registered %zu times: nvhook %s, NVIDIA's %s", bin, n, list, tlist);
        else
                add(rep, ST_OK, check, NULL, NULL, "%s: nvhook registered (%s)", bin, list);
}

/* An engine that reads hooks.d (Podman, CRI-O): true when it is installed. */
static bool
check_hooksd_engine(struct report *rep, const char *engine, const char *const *dirs, size_t n_dirs)
{
        _cleanup_free_ char *bin = nvh_doctor_which(engine);
        _cleanup_free_ char *fix = NULL;
        json_t *ours, *theirs;

        if (!bin)
                return false;
        ours = json_array();
        theirs = json_array();
        scan_hooksd(dirs, n_dirs, ours, theirs);
        if (asprintf(&fix, "nvhook setup --engine %s", engine) >= 0)
                report_engine(rep, engine, bin, ours, theirs, fix);
        json_decref(ours);
        json_decref(theirs);
        return true;
}

static void
check_engines(struct report *rep)
{
        static const char *const hooks_dirs[] = {"/etc/containers/oci/hooks.d",
                                                 "/usr/share/containers/oci/hooks.d"};
        bool any = false;

        {
                _cleanup_free_ char *bin = nvh_doctor_which("dockerd");
                _cleanup_free_ char *hook = nvh_doctor_which("nvidia-container-runtime-hook");
                json_t *ours = json_array(), *theirs = json_array();

                if (bin) {
                        any = true;
                        if (hook && is_self(hook))
                                json_array_append_new(ours, json_string(hook));
                        else if (hook)
                                json_array_append_new(theirs, json_string(hook));
                        if (file_has("/etc/docker/daemon.json", "nvhook-runtime"))
                                json_array_append_new(ours, json_string("/etc/docker/daemon.json"));
                        /* --gpus (the PATH hook) and a runtime entry are two ways in, not
                         * two hooks on one container. */
                        if (json_array_size(ours) == 2)
                                json_array_remove(ours, 1);
                        report_engine(rep, "docker", bin, ours, theirs,
                                      "nvhook setup --engine docker (and for --gpus: ln -s "
                                      "nvhook /usr/bin/nvidia-container-runtime-hook); restart "
                                      "dockerd");
                }
                json_decref(ours);
                json_decref(theirs);
        }
        any |= check_hooksd_engine(rep, "podman", hooks_dirs, ARRAY_SIZE(hooks_dirs));
        /* CRI-O reads only /usr/share/containers/oci/hooks.d by default. */
        any |= check_hooksd_engine(rep, "crio", hooks_dirs + 1, 1);
        {
                _cleanup_free_ char *bin = nvh_doctor_which("containerd");
                json_t *ours = json_array(), *theirs = json_array();

                if (bin) {
                        any = true;
                        /* setup's handler, or one written by hand around the shim. */
                        if (file_has("/etc/containerd/config.toml", "runtimes.nvhook]") ||
                            file_has("/etc/containerd/config.toml", "nvhook-runtime"))
                                json_array_append_new(ours,
                                                      json_string("/etc/containerd/config.toml"));
                        report_engine(rep, "containerd", bin, ours, theirs,
                                      "nvhook setup --engine containerd; restart containerd");
                }
                json_decref(ours);
                json_decref(theirs);
        }
        if (!any)
                add(rep, ST_WARN, "engines", NULL,
                    "install one: podman, docker.io, containerd or cri-o",
                    "no container engine found in %s", "/usr/{local/,}{s,}bin, /{s,}bin");
}

static void
check_features(const struct nvh_doctor_feature *f, struct report *rep)
{
        for (size_t i = 0; i < NVH_DOCTOR_N_FEATURES; i++) {
                char check[48];

                snprintf(check, sizeof(check), "kernel-%s", f[i].name);
                if (f[i].state > 0)
                        add(rep, ST_OK, check, NULL, NULL, "present: %s", f[i].use);
                else
                        add(rep, ST_WARN, check, NULL,
                            f[i].state < 0
                                ? "allow the syscall in the seccomp profile that runs nvhook"
                                : "a newer kernel (>= 5.12) has it",
                            "%s: %s (nvhook uses its fallback)",
                            f[i].state < 0 ? "unknown (EPERM)" : "absent", f[i].use);
        }
}

static void
print_text(const struct report *rep)
{
        size_t i;
        json_t *o;

        json_array_foreach(rep->checks, i, o)
        {
                enum status st = (enum status)json_integer_value(json_object_get(o, "_st"));
                const char *why = json_string_value(json_object_get(o, "why"));
                const char *fix = json_string_value(json_object_get(o, "fix"));

                printf("%-4s  %-22s %s\n", status_names[st],
                       json_string_value(json_object_get(o, "check")),
                       json_string_value(json_object_get(o, "detail")));
                if (st != ST_WARN && st != ST_FAIL)
                        continue;
                if (why)
                        printf("      %-22s why: %s\n", "", why);
                if (fix)
                        printf("      %-22s fix: %s\n", "", fix);
        }
        printf("%zu checks: %u failed, %u warnings\n", json_array_size(rep->checks), rep->n_fail,
               rep->n_warn);
}

int
nvh_cmd_doctor(struct nvh_cli *cli)
{
        struct nvh_doctor_feature feat[NVH_DOCTOR_N_FEATURES];
        struct report rep = {.checks = json_array()};
        _cleanup_free_ char *self_dir = nvh_doctor_self_dir();
        struct nvh_system *sys = NULL;
        struct nvh_err err = {0};
        size_t i;
        json_t *o;
        int r;

        if (!rep.checks)
                return 1;
        nvh_doctor_probe_features(feat);
        r = nvh_gpus_discover(cli->conf.proc_root, &sys, &err);
        if (r < 0) {
                add(&rep, ST_FAIL, "driver", "no GPU container can start on this node",
                    r == -ENOENT ? "install or load the NVIDIA driver: modprobe nvidia" : NULL,
                    "%s", err.msg);
        } else {
                add(&rep, ST_OK, "driver", NULL, NULL, "NVIDIA %s (%s kernel module)",
                    sys->driver_version, sys->open_module ? "open" : "proprietary");
                if (sys->n_gpus == 0)
                        add(&rep, ST_FAIL, "gpus", "containers asking for GPUs get none",
                            "check dmesg for NVRM errors and 'lspci -d 10de:'",
                            "no GPU in '%s/driver/nvidia/gpus'%s", cli->conf.proc_root,
                            sys->n_excluded ? " (all excluded by the driver)" : "");
                else
                        add(&rep, ST_OK, "gpus", NULL, NULL, "%zu GPU(s): %s %s%s", sys->n_gpus,
                            sys->gpus[0].bus_id, sys->gpus[0].model,
                            sys->n_gpus > 1 ? ", ..." : "");
                check_driver_nodes(&cli->conf, sys, &rep);
                check_persistence(&rep);
        }
        check_cgroup(&cli->conf, feat, &rep);
        check_probe(self_dir, &rep);
        if (sys)
                check_cache(&cli->conf, sys, &rep);
        check_engines(&rep);
        check_features(feat, &rep);

        if (cli->json) {
                json_array_foreach(rep.checks, i, o) json_object_del(o, "_st");
                o = json_pack("{s:b,s:i,s:i,s:O}", "ok", rep.n_fail == 0, "failed", rep.n_fail,
                              "warnings", rep.n_warn, "checks", rep.checks);
                json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                fputc('\n', stdout);
                json_decref(o);
        } else {
                print_text(&rep);
        }
        r = rep.n_fail ? 1 : 0;
        json_decref(rep.checks);
        nvh_gpus_free(sys);
        return r;
}
