/* SPDX-License-Identifier: Apache-2.0 */
/* nvhook-runtime: a runc command line in front of the real runtime, for engines that run no
 * hooks.d (containerd's CRI plugin, Docker): for "create" and "run" of a container that asks
 * for GPUs, nvhook's createRuntime hook is added to the bundle's config.json; then the real
 * runtime is exec'ed with the same arguments. It decides with nvhook's own request parser and
 * the config file's policy, so it adds the hook exactly when the hook would act; the hook
 * still decides everything. The environment is the engine's (not the image's): it is passed
 * on untouched, and only NVHOOK_CONFIG (the config file) is read from it. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdi.h"
#include "conf.h"
#include "fileio.h"
#include "log.h"
#include "macros.h"
#include "cli.h"
#include "nvhook.h"
#include "oci.h"
#include "request.h"

#define SHIM_NAME "nvhook-runtime"
#define CDI_ANNOTATION_PREFIX "cdi.k8s.io/"

/* runc's global options that take a value (runc 1.1: --log, --log-format, --root, --criu,
 * --rootless). */
static bool
global_takes_value(const char *a)
{
        static const char *const opts[] = {"log", "log-format", "root", "criu", "rootless"};
        const char *name = a + (a[1] == '-' ? 2 : 1);

        if (strchr(a, '='))
                return false;
        for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
                if (streq(name, opts[i]))
                        return true;
        return false;
}

/* The bundle of "create"/"run": --bundle X, --bundle=X, -b X, -b=X (Go flag spellings with one
 * or two dashes). NULL: the current directory. */
static const char *
bundle_arg(int argc, char **argv, int from)
{
        for (int i = from; i < argc; i++) {
                const char *a = argv[i];

                if (a[0] != '-')
                        continue;
                a += a[1] == '-' ? 2 : 1;
                if ((streq(a, "bundle") || streq(a, "b")) && i + 1 < argc)
                        return argv[i + 1];
                if (strncmp(a, "bundle=", 7) == 0)
                        return a + 7;
                if (strncmp(a, "b=", 2) == 0)
                        return a + 2;
        }
        return NULL;
}

/* Whether config.json already runs nvhook as a hook (hooks.d-less engines never add one, but a
 * CDI spec of ours or a hand-written spec may have). */
static bool
has_nvhook_hook(json_t *root)
{
        static const char *const stages[] = {"prestart", "createRuntime"};
        json_t *hooks = json_object_get(root, "hooks"), *h;
        size_t i;

        for (size_t s = 0; s < ARRAY_SIZE(stages); s++)
                json_array_foreach(json_object_get(hooks, stages[s]), i, h)
                {
                        if (nvh_cdi_is_nvhook(json_string_value(json_object_get(h, "path"))))
                                return true;
                }
        return false;
}

/* Devices of our kind named by cdi.k8s.io/ annotations ("nvidia.com/gpu=0,nvidia.com/gpu=1"),
 * appended to args as --cdi-device pairs. Containerd's CRI plugin passes a device plugin's
 * annotations to the runtime; a pod's own annotations only where pod_annotations allows. */
static int
cdi_annotation_args(const struct nvh_oci_spec *spec, json_t *args)
{
        static const char kind[] = NVH_CDI_KIND "=";
        int n = 0;

        for (char **a = spec->annotations; a[0] && a[1]; a += 2) {
                const char *p = a[1];

                if (strncmp(a[0], CDI_ANNOTATION_PREFIX, sizeof(CDI_ANNOTATION_PREFIX) - 1) != 0)
                        continue;
                while (*p) {
                        size_t len = strcspn(p, ",");

                        if (len > sizeof(kind) - 1 && strncmp(p, kind, sizeof(kind) - 1) == 0) {
                                json_array_append_new(args, json_string(NVH_CDI_ARG));
                                json_array_append_new(args, json_stringn(p + sizeof(kind) - 1,
                                                                         len - (sizeof(kind) - 1)));
                                n++;
                        }
                        p += len + (p[len] == ',');
                }
        }
        return n;
}

/* Add the hook to a GPU container's config.json. 0: added or not needed; <0: err set. */
static int
add_hook(const char *bundle, const struct nvh_conf *conf, const char *conf_path,
         struct nvh_err *err)
{
        _cleanup_free_ char *abs = NULL, *path = NULL, *buf = NULL, *exe = NULL, *out = NULL;
        struct nvh_oci_spec *spec = NULL;
        struct nvh_request *req = NULL;
        struct nvh_request_policy policy = {0};
        struct nvh_err ignored = {0};
        json_t *root = NULL, *args = NULL, *hooks, *list;
        bool gpu;
        struct stat st;
        size_t len = 0;
        int r;

        abs = realpath(bundle, NULL);
        if (!abs)
                return 0; /* the runtime reports a bad bundle */
        path = nvh_fileio_path_join(abs, "config.json");
        if (!path)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        if (nvh_fileio_read_at(AT_FDCWD, path, NVH_OCI_SPEC_MAX, 1, &buf, &len, &ignored) < 0)
                return 0;
        root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(root) || has_nvhook_hook(root) ||
            nvh_oci_spec_parse(buf, len, abs, &spec, &ignored) < 0) {
                json_decref(root); /* unparsable (the runtime rejects it) or hooked already */
                return 0;
        }
        args = json_array();
        json_array_append_new(args, json_string("nvhook"));
        if (conf_path) {
                json_array_append_new(args, json_string("--config"));
                json_array_append_new(args, json_string(conf_path));
        }
        json_array_append_new(args, json_string("createRuntime"));
        policy.accept_env_unprivileged = conf->accept_env_unprivileged;
        policy.accept_device_mounts = conf->accept_device_mounts;
        policy.allowed_caps = conf->allowed_caps;
        /* A request the hook would refuse still gets the hook: it fails the container with
         * the reason, instead of starting it silently without GPUs. */
        r = nvh_request_parse(spec, &policy, &req, &ignored);
        gpu = r < 0 || req->gpu_container;
        gpu |= cdi_annotation_args(spec, args) > 0;
        nvh_request_free(req);
        nvh_oci_spec_free(spec);
        if (!gpu) {
                json_decref(args);
                json_decref(root);
                return 0;
        }
        exe = realpath("/proc/self/exe", NULL);
        if (!exe) {
                json_decref(args);
                json_decref(root);
                return nvh_err_errno(err, "resolve '/proc/self/exe'");
        }
        hooks = json_object_get(root, "hooks");
        if (!json_is_object(hooks)) {
                hooks = json_object();
                json_object_set_new(root, "hooks", hooks);
        }
        list = json_object_get(hooks, "createRuntime");
        if (!json_is_array(list)) {
                list = json_array();
                json_object_set_new(hooks, "createRuntime", list);
        }
        json_array_append_new(list, json_pack("{s:s,s:o}", "path", exe, "args", args));
        out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(root);
        if (!out)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        r = lstat(path, &st) < 0 ? 0644 : (int)(st.st_mode & 07777);
        return nvh_cdi_replace_file(path, out, strlen(out), (unsigned)r, err);
}

int
nvh_runtime_main(int argc, char **argv)
{
        _cleanup_free_ char *self = realpath("/proc/self/exe", NULL), *real = NULL;
        struct nvh_cli cli = {.config_path = getenv("NVHOOK_CONFIG")};
        const char *runtime, *cmd = NULL;
        struct nvh_err err = {0};
        int i, r;

        r = nvh_cli_load_config(&cli, &err);
        if (r == -ENOMEM) {
                nvh_cli_fail(SHIM_NAME, &err);
                nvh_conf_free_contents(&cli.conf);
                return 1;
        }
        nvh_log_syslog_open(cli.conf.syslog, SHIM_NAME);
        if (r < 0)
                /* The shim runs for every container and every runtime command (delete too):
                 * a broken config must not break them. It goes on with the defaults; a GPU
                 * container still fails, in the hook, on the same error. */
                nvh_log_warn("%s: %s (going on with the defaults)", SHIM_NAME, err.msg);
        for (i = 1; i < argc; i++) {
                if (argv[i][0] != '-') {
                        cmd = argv[i];
                        break;
                }
                if (global_takes_value(argv[i]))
                        i++;
        }
        if (cmd && (streq(cmd, "create") || streq(cmd, "run"))) {
                const char *bundle = bundle_arg(argc, argv, i + 1);

                r = add_hook(bundle ? bundle : ".", &cli.conf, cli.config_path, &err);
                if (r < 0) {
                        nvh_cli_fail(SHIM_NAME, &err);
                        nvh_conf_free_contents(&cli.conf);
                        return 1;
                }
        }
        runtime = cli.conf.runtime ? cli.conf.runtime : "runc";
        /* Never exec ourselves again (a "runtime" naming this binary loops). */
        real = strchr(runtime, '/') ? realpath(runtime, NULL) : NULL;
        if (real && self && streq(real, self)) {
                fprintf(stderr, "nvhook-runtime: runtime '%s' is nvhook-runtime itself\n", runtime);
                nvh_conf_free_contents(&cli.conf);
                return 1;
        }
        argv[0] = (char *)runtime;
        execvp(runtime, argv);
        nvh_err_errno(&err, "exec '%s'", runtime);
        nvh_cli_fail(SHIM_NAME, &err);
        nvh_conf_free_contents(&cli.conf);
        return 127;
}
