/* SPDX-License-Identifier: Apache-2.0 */
/* The request: device selection (env, volume mounts, legacy images), capabilities,
 * requirements, MIG, IMEX, policy. Specs go through the real config.json parser. */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "caps.h"
#include "macros.h"
#include "oci.h"
#include "request.h"

struct mnt {
        const char *src, *dst;
};

static void
assert_contains(const char *haystack, const char *needle)
{
        if (!strstr(haystack, needle))
                fail_msg("'%s' does not contain '%s'", haystack, needle);
}

/* A config.json with env, mounts and privilege, parsed by nvh_oci_spec_parse. */
static struct nvh_oci_spec *
make_spec(const char *const *env, const struct mnt *mounts, bool privileged)
{
        json_t *root = json_object(), *proc = json_object(), *jenv = json_array();
        json_t *jm = json_array(), *bounding = json_array(), *caps = json_object();
        struct nvh_oci_spec *spec = NULL;
        struct nvh_err err = {0};
        char *text;

        for (; env && *env; env++)
                json_array_append_new(jenv, json_string(*env));
        for (; mounts && mounts->dst; mounts++) {
                json_t *m = json_object();

                json_object_set_new(m, "destination", json_string(mounts->dst));
                json_object_set_new(m, "source", json_string(mounts->src));
                json_object_set_new(m, "type", json_string("bind"));
                json_object_set_new(m, "options", json_pack("[ss]", "ro", "rbind"));
                json_array_append_new(jm, m);
        }
        json_array_append_new(bounding, json_string("CAP_CHOWN"));
        if (privileged)
                json_array_append_new(bounding, json_string("CAP_SYS_ADMIN"));
        json_object_set_new(caps, "bounding", bounding);
        json_object_set_new(proc, "env", jenv);
        json_object_set_new(proc, "capabilities", caps);
        json_object_set_new(root, "process", proc);
        json_object_set_new(root, "mounts", jm);
        json_object_set_new(root, "root", json_pack("{ss}", "path", "rootfs"));
        text = json_dumps(root, 0);
        json_decref(root);
        assert_non_null(text);
        if (nvh_oci_spec_parse(text, strlen(text), "/bundle", &spec, &err) < 0)
                fail_msg("spec: %s", err.msg);
        free(text);
        return spec;
}

static const struct nvh_request_policy default_policy = {
    .accept_env_unprivileged = true,
    .accept_device_mounts = true,
    .allowed_caps = NVH_CAP_ALL,
};

static struct nvh_request *
req_ok_policy(const char *const *env, const struct mnt *mounts, bool privileged,
              const struct nvh_request_policy *policy)
{
        struct nvh_oci_spec *spec = make_spec(env, mounts, privileged);
        struct nvh_request *req = NULL;
        struct nvh_err err = {0};
        int r = nvh_request_parse(spec, policy, &req, &err);

        nvh_oci_spec_free(spec);
        if (r != 0)
                fail_msg("request: %d %s", r, err.msg);
        /* Every vector is usable whatever was asked. */
        assert_non_null(req->devices);
        assert_non_null(req->requires);
        assert_non_null(req->require_names);
        assert_non_null(req->mig_config);
        assert_non_null(req->mig_monitor);
        assert_non_null(req->imex_channels);
        return req;
}

static struct nvh_request *
req_ok(const char *const *env)
{
        return req_ok_policy(env, NULL, false, &default_policy);
}

static void
req_err_policy(const char *const *env, const struct mnt *mounts, bool privileged,
               const struct nvh_request_policy *policy, int code, const char *needle)
{
        struct nvh_oci_spec *spec = make_spec(env, mounts, privileged);
        struct nvh_request *req = NULL;
        struct nvh_err err = {0};
        int r = nvh_request_parse(spec, policy, &req, &err);

        nvh_oci_spec_free(spec);
        if (r != code)
                fail_msg("expected %d, got %d (%s)", code, r, err.msg);
        assert_null(req);
        assert_contains(err.msg, needle);
}

static void
req_err(const char *const *env, int code, const char *needle)
{
        req_err_policy(env, NULL, false, &default_policy, code, needle);
}

static void
assert_strv(char **v, const char *const *expected)
{
        size_t i = 0;

        for (; expected[i]; i++) {
                if (!v[i])
                        fail_msg("missing element %zu '%s'", i, expected[i]);
                assert_string_equal(v[i], expected[i]);
        }
        if (v[i])
                fail_msg("extra element %zu '%s'", i, v[i]);
}

static void
not_gpu(const char *const *env, const char *note)
{
        struct nvh_request *req = req_ok(env);

        assert_false(req->gpu_container);
        assert_string_equal(req->source, "none");
        assert_null(req->devices[0]);
        assert_contains(req->note, note);
        nvh_request_free(req);
}

static void
test_not_gpu(void **state)
{
        not_gpu((const char *[]){"PATH=/bin", NULL}, "NVIDIA_VISIBLE_DEVICES is unset");
        not_gpu((const char *[]){"NVIDIA_VISIBLE_DEVICES=", NULL}, "NVIDIA_VISIBLE_DEVICES=''");
        not_gpu((const char *[]){"NVIDIA_VISIBLE_DEVICES=void", NULL}, "'void'");
        not_gpu((const char *[]){"NVIDIA_VISIBLE_DEVICES= void ", NULL}, "' void '");
        not_gpu((const char *[]){"NVIDIA_VISIBLE_DEVICES= , ", NULL}, "' , '");
        /* The last value wins, so a later empty value turns GPUs off. */
        not_gpu((const char *[]){"NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_VISIBLE_DEVICES=", NULL},
                "''");
        /* Not a legacy image: NVIDIA_REQUIRE_CUDA is set. */
        not_gpu((const char *[]){"CUDA_VERSION=12.2.0", "NVIDIA_REQUIRE_CUDA=cuda>=12.2", NULL},
                "unset");
        /* Nothing else is even looked at: a broken capability list does not matter. */
        not_gpu((const char *[]){"NVIDIA_DRIVER_CAPABILITIES=bogus", NULL}, "unset");
}

static void
test_all_none(void **state)
{
        struct nvh_request *req = req_ok((const char *[]){"NVIDIA_VISIBLE_DEVICES=all", NULL});

        assert_true(req->gpu_container);
        assert_int_equal(req->sel, NVH_DEVSEL_ALL);
        assert_string_equal(req->source, "env");
        assert_int_equal(req->caps, NVH_CAP_DEFAULT);
        assert_null(req->requires[0]);
        assert_false(req->disable_require);
        assert_int_equal(req->mig_config_sel, NVH_DEVSEL_NONE);
        assert_int_equal(req->mig_monitor_sel, NVH_DEVSEL_NONE);
        assert_false(req->imex_all);
        assert_null(req->imex_channels[0]);
        nvh_request_free(req);

        req = req_ok((const char *[]){"NVIDIA_VISIBLE_DEVICES=none", NULL});
        assert_true(req->gpu_container);
        assert_int_equal(req->sel, NVH_DEVSEL_NONE);
        assert_null(req->devices[0]);
        nvh_request_free(req);

        req = req_ok((const char *[]){"NVIDIA_VISIBLE_DEVICES= ALL ", NULL});
        assert_int_equal(req->sel, NVH_DEVSEL_ALL);
        nvh_request_free(req);
}

static void
test_device_list(void **state)
{
        struct nvh_request *req = req_ok((const char *[]){
            "NVIDIA_VISIBLE_DEVICES=0, 2 ,GPU-3F1A2B3C-0000-1111-2222-333344445555,"
            "00000000:65:00.0,MIG-1a2b3c4d-aaaa-bbbb-cccc-ddddeeeeffff,1:0,,002,"
            "0000:65:00.0,gpu-3f1a2b3c-0000-1111-2222-333344445555,MIG-GPU-3f1a2b3c-0000-1111-2222-"
            "333344445555/1/0,b3:1f.7",
            NULL});

        assert_true(req->gpu_container);
        assert_int_equal(req->sel, NVH_DEVSEL_LIST);
        /* Canonical forms, duplicates (after canonicalisation) dropped, order kept. */
        assert_strv(req->devices,
                    (const char *[]){"0", "2", "GPU-3f1a2b3c-0000-1111-2222-333344445555",
                                     "0000:65:00.0", "MIG-1a2b3c4d-aaaa-bbbb-cccc-ddddeeeeffff",
                                     "1:0", "MIG-GPU-3f1a2b3c-0000-1111-2222-333344445555/1/0",
                                     "0000:b3:1f.7", NULL});
        nvh_request_free(req);
}

static void
test_device_list_errors(void **state)
{
        req_err((const char *[]){"NVIDIA_VISIBLE_DEVICES=0,foo", NULL}, -EINVAL,
                "NVIDIA_VISIBLE_DEVICES: unknown device 'foo'");
        req_err((const char *[]){"NVIDIA_VISIBLE_DEVICES=GPU-zz", NULL}, -EINVAL,
                "unknown device 'GPU-zz'");
        req_err((const char *[]){"NVIDIA_VISIBLE_DEVICES=all,0", NULL}, -EINVAL,
                "NVIDIA_VISIBLE_DEVICES: 'all' cannot be combined with other devices: 'all,0'");
        req_err((const char *[]){"NVIDIA_VISIBLE_DEVICES=0,none", NULL}, -EINVAL,
                "'none' cannot be combined");
        req_err((const char *[]){"NVIDIA_VISIBLE_DEVICES=0,void", NULL}, -EINVAL,
                "'void' cannot be combined with other devices: '0,void'");
        req_err((const char *[]){"NVIDIA_VISIBLE_DEVICES=-1", NULL}, -EINVAL,
                "unknown device '-1'");
}

static void
test_device_tokens(void **state)
{
        static const struct {
                const char *tok;
                int kind;
                const char *canon;
        } ok[] = {
            {"0", NVH_DEVTOK_INDEX, "0"},
            {"0007", NVH_DEVTOK_INDEX, "7"},
            {"123456789", NVH_DEVTOK_INDEX, "123456789"},
            {"Gpu-ABCDEF01-2345-6789-abcd-ef0123456789", NVH_DEVTOK_GPU_UUID,
             "GPU-abcdef01-2345-6789-abcd-ef0123456789"},
            {"MIG-ABCDEF01-2345-6789-abcd-ef0123456789", NVH_DEVTOK_MIG_UUID,
             "MIG-abcdef01-2345-6789-abcd-ef0123456789"},
            {"MIG-GPU-ABCDEF01-2345-6789-abcd-ef0123456789/07/0", NVH_DEVTOK_MIG_LEGACY,
             "MIG-GPU-abcdef01-2345-6789-abcd-ef0123456789/7/0"},
            {"00000000:65:00.0", NVH_DEVTOK_PCI, "0000:65:00.0"},
            {"0001:0A:1F.7", NVH_DEVTOK_PCI, "0001:0a:1f.7"},
            {"65:0.1", NVH_DEVTOK_PCI, "0000:65:00.1"},
            {"1a2b3:65:00.0", NVH_DEVTOK_PCI, "1a2b3:65:00.0"},
            {"0:0", NVH_DEVTOK_MIG_INDEX, "0:0"},
            {"03:12", NVH_DEVTOK_MIG_INDEX, "3:12"},
            {"0:2:1", NVH_DEVTOK_MIG_ID, "0:2:1"},
            {"1:13:0", NVH_DEVTOK_MIG_ID, "1:13:0"},
        };
        static const char *const bad[] = {
            "",
            "1234567890",
            "GPU-",
            "GPU-xyz",
            "GPU--a",
            "GPU-a b",
            "MIG-",
            "MIG-GPU-abc",
            "MIG-GPU-abc/1",
            "MIG-GPU-abc/1/",
            "MIG-GPU-/1/2",
            "MIG-GPU-abc/1/2/3",
            "1:",
            ":1",
            "1:2:3:4",
            "1::3",
            "1:2:",
            "01:2:0", /* leading zeros: a bus id without its function, not a MIG device */
            /* whole UUIDs only: prefixes, wrong grouping */
            "GPU-a",
            "GPU-3f1a2b3c",
            "GPU-3f1a2b3c-0000-1111-2222-33334444555",
            "GPU-3f1a2b3c-0000-1111-2222-3333444455556",
            "GPU-3f1a2b3c00000-1111-2222-333344445555",
            "MIG-3f1a2b3c-0000-1111-2222",
            "MIG-GPU-3f1a2b3c/1/0",
            "a:1",
            "65:00.8",
            "65:20.0",
            "0000:65:00",
            "000:165:00.0",
            "123456789:65:00.0",
            "65:00.",
            "65:.0",
            ":65:00.0",
            "all",
            "none",
            "void",
            "0x1",
            "GPU-0123456789012345678901234567890123456",
            "1.5",
            "0,1",
            " 0",
        };
        char canon[NVH_REQUEST_TOKEN_MAX + 1], longtok[NVH_REQUEST_TOKEN_MAX + 2];
        struct nvh_err err = {0};

        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                int r = nvh_request_parse_device_token(ok[i].tok, canon, sizeof(canon), &err);

                if (r != ok[i].kind)
                        fail_msg("'%s': kind %d, expected %d (%s)", ok[i].tok, r, ok[i].kind,
                                 err.msg);
                assert_string_equal(canon, ok[i].canon);
                assert_int_equal(nvh_request_parse_device_token(ok[i].tok, NULL, 0, &err),
                                 ok[i].kind);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char expect[160];
                int r = nvh_request_parse_device_token(bad[i], canon, sizeof(canon), &err);

                if (r != -EINVAL)
                        fail_msg("'%s' accepted as kind %d", bad[i], r);
                snprintf(expect, sizeof(expect), "unknown device '%s'", bad[i]);
                assert_string_equal(err.msg, expect);
        }
        memset(longtok, '1', sizeof(longtok) - 1);
        longtok[sizeof(longtok) - 1] = '\0';
        assert_int_equal(nvh_request_parse_device_token(longtok, canon, sizeof(canon), &err),
                         -EINVAL);
        assert_int_equal(nvh_request_parse_device_token("0", canon, 1, &err), -ENOBUFS);
        assert_int_equal(nvh_request_parse_device_token(NULL, canon, sizeof(canon), &err), -EINVAL);
}

static void
test_parse_devices(void **state)
{
        struct nvh_err err = {0};
        enum nvh_devsel sel = NVH_DEVSEL_LIST;
        char **devs = NULL;

        assert_int_equal(nvh_request_parse_devices("1, GPU-3F1A2B3C-0000-1111-2222-333344445555,1",
                                                   &sel, &devs, &err),
                         0);
        assert_int_equal(sel, NVH_DEVSEL_LIST);
        assert_strv(devs, (const char *[]){"1", "GPU-3f1a2b3c-0000-1111-2222-333344445555", NULL});
        strv_free(devs);
        assert_int_equal(nvh_request_parse_devices("all", &sel, &devs, &err), 0);
        assert_int_equal(sel, NVH_DEVSEL_ALL);
        assert_null(devs[0]);
        strv_free(devs);
        assert_int_equal(nvh_request_parse_devices("none", &sel, &devs, &err), 0);
        assert_int_equal(sel, NVH_DEVSEL_NONE);
        strv_free(devs);
        assert_int_equal(nvh_request_parse_devices("void", &sel, &devs, &err), 0);
        assert_int_equal(sel, NVH_DEVSEL_NONE);
        strv_free(devs);
        devs = NULL;
        assert_int_equal(nvh_request_parse_devices(" , ", &sel, &devs, &err), -EINVAL);
        assert_contains(err.msg, "empty device list ' , '");
        assert_int_equal(nvh_request_parse_devices("0,zz", &sel, &devs, &err), -EINVAL);
        assert_string_equal(err.msg, "devices: unknown device 'zz'");
        assert_int_equal(nvh_request_parse_devices("all,1", &sel, &devs, &err), -EINVAL);
        assert_null(devs);
}

static void
test_legacy(void **state)
{
        struct nvh_request *req = req_ok((const char *[]){"CUDA_VERSION=10.1.243", NULL});

        assert_true(req->gpu_container);
        assert_string_equal(req->source, "legacy");
        assert_int_equal(req->sel, NVH_DEVSEL_ALL);
        assert_int_equal(req->caps, NVH_CAP_ALL);
        assert_strv(req->requires, (const char *[]){"cuda>=10.1", NULL});
        assert_strv(req->require_names, (const char *[]){"CUDA_VERSION", NULL});
        nvh_request_free(req);

        /* An empty NVIDIA_REQUIRE_CUDA still makes a legacy image; explicit values win. */
        req = req_ok((const char *[]){"CUDA_VERSION=9",
                                      "NVIDIA_REQUIRE_CUDA=", "NVIDIA_VISIBLE_DEVICES=1",
                                      "NVIDIA_DRIVER_CAPABILITIES=compute", NULL});
        assert_string_equal(req->source, "env");
        assert_int_equal(req->sel, NVH_DEVSEL_LIST);
        assert_strv(req->devices, (const char *[]){"1", NULL});
        assert_int_equal(req->caps, NVH_CAP_COMPUTE);
        assert_strv(req->requires, (const char *[]){"cuda>=9.0", NULL});
        nvh_request_free(req);

        /* Legacy "all" is still an env request: an empty value turns it off. */
        not_gpu((const char *[]){"CUDA_VERSION=11.0", "NVIDIA_VISIBLE_DEVICES=", NULL}, "''");

        /* Legacy requirement sorts with the others by name. */
        req = req_ok((const char *[]){"CUDA_VERSION=8.0.61", "NVIDIA_REQUIRE_ARCH=arch>=6",
                                      "NVIDIA_REQUIRE_Z=driver>=1", NULL});
        assert_strv(req->require_names, (const char *[]){"CUDA_VERSION", "NVIDIA_REQUIRE_ARCH",
                                                         "NVIDIA_REQUIRE_Z", NULL});
        assert_strv(req->requires, (const char *[]){"cuda>=8.0", "arch>=6", "driver>=1", NULL});
        nvh_request_free(req);

        req_err((const char *[]){"CUDA_VERSION=abc", NULL}, -EINVAL,
                "CUDA_VERSION: invalid version 'abc'");
        req_err((const char *[]){"CUDA_VERSION=11.", NULL}, -EINVAL,
                "CUDA_VERSION: invalid version '11.'");
        req_err((const char *[]){"CUDA_VERSION=11.2.x", NULL}, -EINVAL,
                "CUDA_VERSION: invalid version '11.2.x'");
}

static void
test_device_mounts(void **state)
{
        const struct mnt mounts[] = {
            {"/dev/null",
             "/var/run/nvidia-container-devices/GPU-3F1A2B3C-0000-1111-2222-333344445555"},
            {"/dev//null/", "//var/run//nvidia-container-devices/./1/"},
            {"/dev/zero", "/var/run/nvidia-container-devices/2"},
            {"/dev/null", "/var/run/nvidia-container-devicesX/3"},
            {"/dev/null", "/var/run/nvidia-container-devices"},
            {"/dev/null", "/run/nvidia-container-devices/4"},
            {"/dev/null", "/var/run/nvidia-container-devices/1"},
            {NULL, NULL},
        };
        const char *env_all[] = {"NVIDIA_VISIBLE_DEVICES=all", NULL};
        struct nvh_request_policy no_mounts = default_policy;
        struct nvh_request *req;

        /* Mounts win over the environment. */
        req = req_ok_policy(env_all, mounts, false, &default_policy);
        assert_true(req->gpu_container);
        assert_string_equal(req->source, "mounts");
        assert_int_equal(req->sel, NVH_DEVSEL_LIST);
        assert_strv(req->devices,
                    (const char *[]){"GPU-3f1a2b3c-0000-1111-2222-333344445555", "1", NULL});
        nvh_request_free(req);

        /* Without an env var at all they still make a GPU container. */
        req = req_ok_policy(NULL, mounts, false, &default_policy);
        assert_string_equal(req->source, "mounts");
        nvh_request_free(req);

        /* Not accepted: the environment decides. */
        no_mounts.accept_device_mounts = false;
        req = req_ok_policy(env_all, mounts, false, &no_mounts);
        assert_string_equal(req->source, "env");
        assert_int_equal(req->sel, NVH_DEVSEL_ALL);
        nvh_request_free(req);

        /* "all" anywhere selects all. */
        req = req_ok_policy(
            NULL,
            (const struct mnt[]){{"/dev/null", "/var/run/nvidia-container-devices/0"},
                                 {"/dev/null", "/var/run/nvidia-container-devices/all"},
                                 {NULL, NULL}},
            false, &default_policy);
        assert_int_equal(req->sel, NVH_DEVSEL_ALL);
        assert_null(req->devices[0]);
        nvh_request_free(req);

        req = req_ok_policy(
            NULL,
            (const struct mnt[]){{"/dev/null", "/var/run/nvidia-container-devices/none"},
                                 {NULL, NULL}},
            false, &default_policy);
        assert_true(req->gpu_container);
        assert_int_equal(req->sel, NVH_DEVSEL_NONE);
        nvh_request_free(req);

        req_err_policy(
            NULL,
            (const struct mnt[]){{"/dev/null", "/var/run/nvidia-container-devices/bogus"},
                                 {NULL, NULL}},
            false, &default_policy, -EINVAL,
            "device mount '/var/run/nvidia-container-devices/bogus': unknown device 'bogus'");
        req_err_policy(NULL,
                       (const struct mnt[]){{"/dev/null", "/var/run/nvidia-container-devices/0/1"},
                                            {NULL, NULL}},
                       false, &default_policy, -EINVAL, "unknown device '0/1'");
        req_err_policy(NULL,
                       (const struct mnt[]){
                           {"/dev/null", "/var/run/nvidia-container-devices/../etc"}, {NULL, NULL}},
                       false, &default_policy, -EINVAL, "unknown device '../etc'");
}

static void
test_unprivileged_env(void **state)
{
        struct nvh_request_policy strict = default_policy;
        const char *env[] = {"NVIDIA_VISIBLE_DEVICES=all", NULL};
        const char *legacy[] = {"CUDA_VERSION=11.0", NULL};
        const struct mnt mounts[] = {{"/dev/null", "/var/run/nvidia-container-devices/0"},
                                     {NULL, NULL}};
        struct nvh_request *req;

        strict.accept_env_unprivileged = false;
        req = req_ok_policy(env, NULL, false, &strict);
        assert_false(req->gpu_container);
        assert_contains(req->note, "ignoring NVIDIA_VISIBLE_DEVICES='all' in an unprivileged "
                                   "container (accept_env_unprivileged is off)");
        nvh_request_free(req);

        req = req_ok_policy(legacy, NULL, false, &strict);
        assert_false(req->gpu_container);
        assert_contains(req->note, "ignoring NVIDIA_VISIBLE_DEVICES='all'");
        nvh_request_free(req);

        req = req_ok_policy(env, NULL, true, &strict);
        assert_true(req->gpu_container);
        assert_int_equal(req->sel, NVH_DEVSEL_ALL);
        nvh_request_free(req);

        req = req_ok_policy(env, mounts, false, &strict);
        assert_true(req->gpu_container);
        assert_string_equal(req->source, "mounts");
        assert_strv(req->devices, (const char *[]){"0", NULL});
        nvh_request_free(req);
}

static void
test_caps(void **state)
{
        struct nvh_request_policy limited = default_policy;
        struct nvh_request *req;

        req = req_ok(
            (const char *[]){"NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=", NULL});
        assert_int_equal(req->caps, NVH_CAP_DEFAULT);
        nvh_request_free(req);
        req = req_ok(
            (const char *[]){"NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=,", NULL});
        assert_int_equal(req->caps, NVH_CAP_DEFAULT);
        nvh_request_free(req);
        req = req_ok((const char *[]){"NVIDIA_VISIBLE_DEVICES=all",
                                      "NVIDIA_DRIVER_CAPABILITIES=video, graphics", NULL});
        assert_int_equal(req->caps, NVH_CAP_VIDEO | NVH_CAP_GRAPHICS);
        assert_string_equal(req->note, "");
        nvh_request_free(req);

        limited.allowed_caps = NVH_CAP_UTILITY | NVH_CAP_COMPUTE;
        req = req_ok_policy(
            (const char *[]){"NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=all", NULL},
            NULL, false, &limited);
        assert_int_equal(req->caps, NVH_CAP_UTILITY | NVH_CAP_COMPUTE);
        assert_contains(req->note, "capabilities not allowed by policy dropped: "
                                   "video,graphics,display,compat32,ngx");
        nvh_request_free(req);

        limited.allowed_caps = NVH_CAP_UTILITY;
        req = req_ok_policy((const char *[]){"NVIDIA_VISIBLE_DEVICES=all", NULL}, NULL, false,
                            &limited);
        assert_int_equal(req->caps, NVH_CAP_UTILITY);
        assert_contains(req->note, "dropped: compute");
        nvh_request_free(req);

        req_err((const char *[]){"NVIDIA_VISIBLE_DEVICES=all",
                                 "NVIDIA_DRIVER_CAPABILITIES=compute,bogus", NULL},
                -EINVAL, "NVIDIA_DRIVER_CAPABILITIES: unknown driver capability 'bogus'");
}

static void
test_requires(void **state)
{
        struct nvh_request *req;

        req = req_ok((const char *[]){"NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_REQUIRE_Z=driver>=1",
                                      "NVIDIA_REQUIRE_CUDA=cuda>=1", "NVIDIA_REQUIRE_A=arch>=1",
                                      "NVIDIA_REQUIRE_Z=driver>=2",
                                      "NVIDIA_REQUIRE_EMPTY=", "NVIDIA_REQUIRE_NOEQ",
                                      "NVIDIA_REQUIREX=cuda>=9", "CUDA_VERSION=1.0", NULL});
        assert_strv(req->require_names, (const char *[]){"NVIDIA_REQUIRE_A", "NVIDIA_REQUIRE_CUDA",
                                                         "NVIDIA_REQUIRE_Z", NULL});
        assert_strv(req->requires, (const char *[]){"arch>=1", "cuda>=1", "driver>=2", NULL});
        assert_false(req->disable_require);
        nvh_request_free(req);

        req_err((const char *[]){"NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_REQUIRE_X=cuda=>1", NULL},
                -EINVAL, "NVIDIA_REQUIRE_X: invalid operator '=>' in requirement 'cuda=>1'");

        /* Disabled requirements are not even checked. */
        req = req_ok((const char *[]){"NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_REQUIRE_X=cuda=>1",
                                      "NVIDIA_DISABLE_REQUIRE=True", NULL});
        assert_true(req->disable_require);
        assert_strv(req->requires, (const char *[]){"cuda=>1", NULL});
        nvh_request_free(req);

        assert_true(nvh_request_truthy("1"));
        assert_true(nvh_request_truthy("TRUE"));
        assert_true(nvh_request_truthy("yes"));
        assert_true(nvh_request_truthy("Yes"));
        assert_false(nvh_request_truthy("0"));
        assert_false(nvh_request_truthy("false"));
        assert_false(nvh_request_truthy("no"));
        assert_false(nvh_request_truthy(""));
        assert_false(nvh_request_truthy("yes please"));
        assert_false(nvh_request_truthy(NULL));
}

static void
test_mig(void **state)
{
        struct nvh_request *req;

        req = req_ok_policy(
            (const char *[]){
                "NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_MIG_CONFIG_DEVICES=all",
                "NVIDIA_MIG_MONITOR_DEVICES=0, GPU-3F1A2B3C-0000-1111-2222-333344445555,0", NULL},
            NULL, true, &default_policy);
        assert_int_equal(req->mig_config_sel, NVH_DEVSEL_ALL);
        assert_null(req->mig_config[0]);
        assert_int_equal(req->mig_monitor_sel, NVH_DEVSEL_LIST);
        assert_strv(req->mig_monitor,
                    (const char *[]){"0", "GPU-3f1a2b3c-0000-1111-2222-333344445555", NULL});
        nvh_request_free(req);

        /* Empty means not asked, privileged or not. */
        req = req_ok(
            (const char *[]){"NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_MIG_CONFIG_DEVICES=", NULL});
        assert_int_equal(req->mig_config_sel, NVH_DEVSEL_NONE);
        nvh_request_free(req);

        req_err(
            (const char *[]){"NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_MIG_CONFIG_DEVICES=all", NULL},
            -EPERM, "NVIDIA_MIG_CONFIG_DEVICES: requires a privileged container: 'all'");
        req_err(
            (const char *[]){"NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_MIG_MONITOR_DEVICES=0", NULL},
            -EPERM, "NVIDIA_MIG_MONITOR_DEVICES: requires a privileged container: '0'");
        req_err_policy(
            (const char *[]){"NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_MIG_MONITOR_DEVICES=0,x", NULL},
            NULL, true, &default_policy, -EINVAL, "NVIDIA_MIG_MONITOR_DEVICES: unknown device 'x'");
}

/* One policy gate for every env-driven request: with accept_env_unprivileged off, an
 * unprivileged container whose devices come from device mounts gets no device nodes through
 * its env (devices, IMEX channels), is refused MIG control, and keeps its capabilities
 * (driver files only) within allowed_caps. */
static void
test_policy_gate(void **state)
{
        struct nvh_request_policy strict = default_policy;
        const struct mnt mounts[] = {{"/dev/null", "/var/run/nvidia-container-devices/0"},
                                     {NULL, NULL}};
        struct nvh_request *req;

        (void)state;
        strict.accept_env_unprivileged = false;
        strict.allowed_caps = NVH_CAP_UTILITY | NVH_CAP_COMPUTE;

        /* devices: the mounts decide, the env's "all" is not consulted */
        req = req_ok_policy((const char *[]){"NVIDIA_VISIBLE_DEVICES=all", NULL}, mounts, false,
                            &strict);
        assert_true(req->gpu_container);
        assert_int_equal(req->sel, NVH_DEVSEL_LIST);
        assert_strv(req->devices, (const char *[]){"0", NULL});
        nvh_request_free(req);

        /* IMEX: ignored and noted, "all" and a list alike */
        req = req_ok_policy((const char *[]){"NVIDIA_IMEX_CHANNELS=all", NULL}, mounts, false,
                            &strict);
        assert_false(req->imex_all);
        assert_null(req->imex_channels[0]);
        assert_contains(req->note, "ignoring NVIDIA_IMEX_CHANNELS='all' in an unprivileged "
                                   "container (accept_env_unprivileged is off)");
        nvh_request_free(req);
        req = req_ok_policy((const char *[]){"NVIDIA_IMEX_CHANNELS=1,2", NULL}, mounts, false,
                            &strict);
        assert_false(req->imex_all);
        assert_null(req->imex_channels[0]);
        assert_contains(req->note, "ignoring NVIDIA_IMEX_CHANNELS='1,2'");
        nvh_request_free(req);
        /* ... honoured when privileged, or when the policy accepts the env */
        req = req_ok_policy((const char *[]){"NVIDIA_IMEX_CHANNELS=all", NULL}, mounts, true,
                            &strict);
        assert_true(req->imex_all);
        nvh_request_free(req);
        req = req_ok_policy((const char *[]){"NVIDIA_IMEX_CHANNELS=1", NULL}, mounts, false,
                            &default_policy);
        assert_strv(req->imex_channels, (const char *[]){"1", NULL});
        nvh_request_free(req);

        /* MIG config and monitor: refused */
        req_err_policy((const char *[]){"NVIDIA_MIG_CONFIG_DEVICES=all", NULL}, mounts, false,
                       &strict, -EPERM,
                       "NVIDIA_MIG_CONFIG_DEVICES: requires a privileged container: 'all'");
        req_err_policy((const char *[]){"NVIDIA_MIG_MONITOR_DEVICES=all", NULL}, mounts, false,
                       &strict, -EPERM,
                       "NVIDIA_MIG_MONITOR_DEVICES: requires a privileged container: 'all'");

        /* capabilities: honoured within allowed_caps */
        req = req_ok_policy((const char *[]){"NVIDIA_DRIVER_CAPABILITIES=compute,graphics", NULL},
                            mounts, false, &strict);
        assert_int_equal(req->caps, NVH_CAP_COMPUTE);
        assert_contains(req->note, "capabilities not allowed by policy dropped: graphics");
        nvh_request_free(req);
}

static void
test_imex(void **state)
{
        struct nvh_request *req;

        req = req_ok((const char *[]){"NVIDIA_VISIBLE_DEVICES=all",
                                      "NVIDIA_IMEX_CHANNELS=0, 3,003,2047", NULL});
        assert_false(req->imex_all);
        assert_strv(req->imex_channels, (const char *[]){"0", "3", "2047", NULL});
        nvh_request_free(req);

        req = req_ok(
            (const char *[]){"NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_IMEX_CHANNELS=all", NULL});
        assert_true(req->imex_all);
        assert_null(req->imex_channels[0]);
        nvh_request_free(req);

        req = req_ok(
            (const char *[]){"NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_IMEX_CHANNELS=none", NULL});
        assert_false(req->imex_all);
        assert_null(req->imex_channels[0]);
        nvh_request_free(req);

        req_err((const char *[]){"NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_IMEX_CHANNELS=1,-1", NULL},
                -EINVAL, "NVIDIA_IMEX_CHANNELS: invalid channel '-1'");
        req_err(
            (const char *[]){"NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_IMEX_CHANNELS=9999999999", NULL},
            -EINVAL, "invalid channel '9999999999'");
        req_err((const char *[]){"NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_IMEX_CHANNELS=all,1", NULL},
                -EINVAL, "cannot be combined with channels: 'all,1'");
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_not_gpu),
            cmocka_unit_test(test_all_none),
            cmocka_unit_test(test_device_list),
            cmocka_unit_test(test_device_list_errors),
            cmocka_unit_test(test_device_tokens),
            cmocka_unit_test(test_legacy),
            cmocka_unit_test(test_parse_devices),
            cmocka_unit_test(test_device_mounts),
            cmocka_unit_test(test_unprivileged_env),
            cmocka_unit_test(test_caps),
            cmocka_unit_test(test_requires),
            cmocka_unit_test(test_mig),
            cmocka_unit_test(test_imex),
            cmocka_unit_test(test_policy_gate),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
