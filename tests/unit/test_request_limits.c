/* SPDX-License-Identifier: Apache-2.0 */
/* Image-controlled request input at scale (issue 8.2) and CDI device mounts (issue 8, lower
 * items): tens of thousands of NVIDIA_REQUIRE_* variables are collected in one pass and
 * refused beyond the limit with a clear error; /var/run/nvidia-container-devices/cdi/...
 * mounts are ignored as nvidia-container-toolkit ignores them. Specs go through the real
 * config.json parser. */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "caps.h"
#include "macros.h"
#include "oci.h"
#include "request.h"
#include "require.h"

static const struct nvh_request_policy policy = {
    .accept_env_unprivileged = true,
    .accept_device_mounts = true,
    .allowed_caps = NVH_CAP_ALL,
};

/* config.json with env (a jansson array, taken) and /dev/null mounts on each destination. */
static struct nvh_oci_spec *
spec_of(json_t *env, const char *const *mount_dsts)
{
        json_t *root =
            json_pack("{s{so}s[]s{ss}}", "process", "env", env, "mounts", "root", "path", "rootfs");
        struct nvh_oci_spec *spec = NULL;
        struct nvh_err err = {0};
        char *text;
        int r;

        assert_non_null(root);
        for (; mount_dsts && *mount_dsts; mount_dsts++)
                json_array_append_new(json_object_get(root, "mounts"),
                                      json_pack("{ssssss}", "destination", *mount_dsts, "source",
                                                "/dev/null", "type", "bind"));
        text = json_dumps(root, JSON_COMPACT);
        json_decref(root);
        assert_non_null(text);
        r = nvh_oci_spec_parse(text, strlen(text), "/bundle", &spec, &err);
        free(text);
        if (r < 0)
                fail_msg("spec: %s", err.msg);
        return spec;
}

/* n variables NVIDIA_REQUIRE_V<i % distinct>=driver>=<i>, after NVIDIA_VISIBLE_DEVICES=all. */
static json_t *
require_env(unsigned n, unsigned distinct, const char *extra)
{
        json_t *env = json_array();
        char buf[96];

        json_array_append_new(env, json_string("NVIDIA_VISIBLE_DEVICES=all"));
        if (extra)
                json_array_append_new(env, json_string(extra));
        for (unsigned i = 0; i < n; i++) {
                snprintf(buf, sizeof(buf), "NVIDIA_REQUIRE_V%05u=driver>=%u", i % distinct, i);
                json_array_append_new(env, json_string(buf));
        }
        return env;
}

/* 20k distinct variables took 2.1 s (a scan per name): now refused at once, clearly. */
static void
test_many_requires_refused(void **state)
{
        struct nvh_oci_spec *spec = spec_of(require_env(20000, 20000, NULL), NULL);
        struct nvh_request *req = NULL;
        struct nvh_err err = {0};
        char want[128];

        assert_int_equal(nvh_request_parse(spec, &policy, &req, &err), -E2BIG);
        snprintf(want, sizeof(want), "NVIDIA_REQUIRE_*: more than %u requirement variables",
                 NVH_REQUIRE_MAX_VARS);
        assert_string_equal(err.msg, want);
        assert_null(req);
        nvh_oci_spec_free(spec);

        /* Not checked when requirements are disabled: collected, not refused. */
        spec = spec_of(require_env(20000, 20000, "NVIDIA_DISABLE_REQUIRE=true"), NULL);
        assert_int_equal(nvh_request_parse(spec, &policy, &req, &err), 0);
        assert_true(req->disable_require);
        assert_string_equal(req->require_names[0], "NVIDIA_REQUIRE_V00000");
        assert_string_equal(req->require_names[19999], "NVIDIA_REQUIRE_V19999");
        assert_null(req->require_names[20000]);
        nvh_request_free(req);
        nvh_oci_spec_free(spec);
}

/* 20k entries of 128 names: the last value of each wins, names in strcmp order (how fast:
 * bench, not here). */
static void
test_many_duplicates(void **state)
{
        const unsigned distinct = NVH_REQUIRE_MAX_VARS;
        struct nvh_oci_spec *spec = spec_of(require_env(20000, distinct, NULL), NULL);
        struct nvh_request *req = NULL;
        struct nvh_err err = {0};
        char name[64], expr[64];

        assert_int_equal(nvh_request_parse(spec, &policy, &req, &err), 0);
        for (unsigned k = 0; k < distinct; k++) {
                unsigned last = (20000 - 1 - k) / distinct * distinct + k;
                snprintf(name, sizeof(name), "NVIDIA_REQUIRE_V%05u", k);
                snprintf(expr, sizeof(expr), "driver>=%u", last);
                assert_string_equal(req->require_names[k], name);
                assert_string_equal(req->requires[k], expr);
        }
        assert_null(req->require_names[distinct]);
        nvh_request_free(req);
        nvh_oci_spec_free(spec);
}

static void
test_cdi_mounts_ignored(void **state)
{
        static const char *const cdi_only[] = {
            "/var/run/nvidia-container-devices/cdi/nvidia.com/gpu=0",
            "/var/run/nvidia-container-devices/cdi/nvidia.com/gpu=all", NULL};
        static const char *const mixed[] = {
            "/var/run/nvidia-container-devices/cdi/nvidia.com/gpu=0",
            "/var/run/nvidia-container-devices/imex/3", "/var/run/nvidia-container-devices/1",
            NULL};
        json_t *env = json_pack("[s]", "NVIDIA_VISIBLE_DEVICES=0");
        struct nvh_oci_spec *spec = spec_of(env, cdi_only);
        struct nvh_request *req = NULL;
        struct nvh_err err = {0};

        /* Only CDI mounts: they select nothing here, the environment decides. */
        assert_int_equal(nvh_request_parse(spec, &policy, &req, &err), 0);
        assert_string_equal(req->source, "env");
        assert_string_equal(req->devices[0], "0");
        assert_null(req->devices[1]);
        nvh_request_free(req);
        nvh_oci_spec_free(spec);

        /* Beside a device mount: the device mount counts, the CDI and IMEX ones are skipped. */
        spec = spec_of(json_pack("[s]", "NVIDIA_VISIBLE_DEVICES=0"), mixed);
        assert_int_equal(nvh_request_parse(spec, &policy, &req, &err), 0);
        assert_string_equal(req->source, "mounts");
        assert_string_equal(req->devices[0], "1");
        assert_null(req->devices[1]);
        nvh_request_free(req);
        nvh_oci_spec_free(spec);
}

/* A device list is image-controlled too: NVIDIA_VISIBLE_DEVICES or /dev/null mounts naming
 * 20k devices took ~0.85 s each (a scan of the list per token); now refused at once (over 1024). */
static void
test_many_devices_refused(void **state)
{
        json_t *env = json_array();
        const char **dsts = calloc(20001, sizeof(char *));
        char *list = calloc(20000, 8), *o = list;
        struct nvh_oci_spec *spec;
        struct nvh_request *req = NULL;
        struct nvh_err err = {0};

        assert_non_null(dsts);
        assert_non_null(list);
        for (unsigned i = 0; i < 20000; i++) {
                o += sprintf(o, "%s%u", i ? "," : "", i);
                assert_true(asprintf((char **)&dsts[i], "/var/run/nvidia-container-devices/%u", i) >
                            0);
        }
        json_array_append_new(env, json_pack("s+", "NVIDIA_VISIBLE_DEVICES=", list));
        spec = spec_of(env, NULL);
        assert_int_equal(nvh_request_parse(spec, &policy, &req, &err), -E2BIG);
        assert_string_equal(err.msg, "NVIDIA_VISIBLE_DEVICES: more than 1024 devices");
        nvh_oci_spec_free(spec);

        spec = spec_of(json_array(), dsts);
        assert_int_equal(nvh_request_parse(spec, &policy, &req, &err), -E2BIG);
        assert_string_equal(err.msg, "device mounts: more than 1024 devices");
        nvh_oci_spec_free(spec);
        for (unsigned i = 0; i < 20000; i++)
                free((char *)dsts[i]);
        free(dsts);
        free(list);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_many_requires_refused),
            cmocka_unit_test(test_many_duplicates),
            cmocka_unit_test(test_cdi_mounts_ignored),
            cmocka_unit_test(test_many_devices_refused),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
