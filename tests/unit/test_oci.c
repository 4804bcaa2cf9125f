/* SPDX-License-Identifier: Apache-2.0 */
/* OCI state and config.json parsing: every field form and every error path. */
#include "testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macros.h"
#include "oci.h"

static void
assert_contains(const char *haystack, const char *needle)
{
        if (!strstr(haystack, needle))
                fail_msg("'%s' does not contain '%s'", haystack, needle);
}

static struct nvh_oci_state *
state_ok(const char *json)
{
        struct nvh_oci_state *s = NULL;
        struct nvh_err err = {0};
        int r = nvh_oci_state_parse(json, strlen(json), &s, &err);

        if (r != 0)
                fail_msg("state parse failed: %d %s", r, err.msg);
        return s;
}

static void
state_err(const char *json, int code, const char *needle)
{
        struct nvh_oci_state *s = NULL;
        struct nvh_err err = {0};
        int r = nvh_oci_state_parse(json, strlen(json), &s, &err);

        assert_int_equal(r, code);
        assert_int_equal(err.code, code);
        assert_null(s);
        assert_contains(err.msg, needle);
}

static struct nvh_oci_spec *
spec_ok(const char *json, const char *bundle)
{
        struct nvh_oci_spec *s = NULL;
        struct nvh_err err = {0};
        int r = nvh_oci_spec_parse(json, strlen(json), bundle, &s, &err);

        if (r != 0)
                fail_msg("spec parse failed: %d %s", r, err.msg);
        return s;
}

static void
spec_err(const char *json, const char *bundle, int code, const char *needle)
{
        struct nvh_oci_spec *s = NULL;
        struct nvh_err err = {0};
        int r = nvh_oci_spec_parse(json, strlen(json), bundle, &s, &err);

        assert_int_equal(r, code);
        assert_null(s);
        assert_contains(err.msg, needle);
}

static void
test_state_full(void **state)
{
        struct nvh_oci_state *s = state_ok(
            "{\"ociVersion\":\"1.2.0\",\"id\":\"ctr-1\",\"status\":\"creating\",\"pid\":4242,"
            "\"bundle\":\"/run/containers//ctr-1/./\",\"annotations\":{\"a\":\"1\",\"b\":\"2\"}}");

        assert_string_equal(s->oci_version, "1.2.0");
        assert_string_equal(s->id, "ctr-1");
        assert_string_equal(s->status, "creating");
        assert_int_equal(s->pid, 4242);
        assert_string_equal(s->bundle, "/run/containers/ctr-1");
        assert_string_equal(s->annotations[0], "a");
        assert_string_equal(s->annotations[1], "1");
        assert_string_equal(s->annotations[2], "b");
        assert_string_equal(s->annotations[3], "2");
        assert_null(s->annotations[4]);
        nvh_oci_state_free(s);
}

static void
test_state_minimal_and_legacy(void **state)
{
        /* Pre-1.0 runtimes wrote bundlePath; status may be anything; pid may be absent. */
        struct nvh_oci_state *s =
            state_ok("{\"id\":\"x\",\"status\":\"whatever-new\",\"bundlePath\":\"/b\"}");

        assert_null(s->oci_version);
        assert_string_equal(s->status, "whatever-new");
        assert_int_equal(s->pid, 0);
        assert_string_equal(s->bundle, "/b");
        assert_non_null(s->annotations);
        assert_null(s->annotations[0]);
        nvh_oci_state_free(s);

        /* "bundle" wins over "bundlePath". */
        s = state_ok("{\"id\":\"x\",\"bundle\":\"/new\",\"bundlePath\":\"/old\"}");
        assert_string_equal(s->bundle, "/new");
        assert_null(s->status);
        nvh_oci_state_free(s);
}

static void
test_state_errors(void **state)
{
        state_err("{\"bundle\":\"/b\"}", -EINVAL, "state: missing 'id'");
        state_err("{\"id\":\"\",\"bundle\":\"/b\"}", -EINVAL, "'id' is empty");
        state_err("{\"id\":7,\"bundle\":\"/b\"}", -EINVAL, "'id' is not a string: 7");
        state_err("{\"id\":\"x\",\"ociVersion\":[],\"bundle\":\"/b\"}", -EINVAL,
                  "'ociVersion' is not a string: an array");
        state_err("{\"id\":\"x\",\"status\":false,\"bundle\":\"/b\"}", -EINVAL,
                  "'status' is not a string: false");
        state_err("{\"id\":\"x\",\"pid\":\"12\",\"bundle\":\"/b\"}", -EINVAL,
                  "'pid' is not an integer: '12'");
        state_err("{\"id\":\"x\",\"pid\":1.5,\"bundle\":\"/b\"}", -EINVAL,
                  "'pid' is not an integer: 1.5");
        state_err("{\"id\":\"x\",\"pid\":-3,\"bundle\":\"/b\"}", -EINVAL,
                  "'pid' is out of range: -3");
        state_err("{\"id\":\"x\",\"pid\":0,\"bundle\":\"/b\"}", -EINVAL,
                  "'pid' is out of range: 0");
        state_err("{\"id\":\"x\",\"pid\":4294967297,\"bundle\":\"/b\"}", -EINVAL,
                  "'pid' is out of range: 4294967297");
        state_err("{\"id\":\"x\"}", -EINVAL, "state: missing 'bundle'");
        state_err("{\"id\":\"x\",\"bundle\":null}", -EINVAL, "'bundle' is not a string: null");
        state_err("{\"id\":\"x\",\"bundlePath\":{}}", -EINVAL,
                  "'bundlePath' is not a string: an object");
        state_err("{\"id\":\"x\",\"bundle\":\"rel/dir\"}", -EINVAL,
                  "'bundle' is not an absolute path: 'rel/dir'");
        state_err("{\"id\":\"x\",\"bundle\":\"/b\",\"annotations\":[]}", -EINVAL,
                  "'annotations' is not an object: an array");
        state_err("{\"id\":\"x\",\"bundle\":\"/b\",\"annotations\":{\"k\":1}}", -EINVAL,
                  "'annotations.k' is not a string: 1");
        state_err("[1]", -EINVAL, "is not an object: an array");
        state_err("{\"id\":\"x\",", -EINVAL, "state: invalid json");
        state_err("{\"id\":\"x\",\"bundle\":\"/b\"} trailing", -EINVAL, "invalid json");
        /* A runtime keeping the last duplicate would see another id than we do. */
        state_err("{\"id\":\"x\",\"id\":\"y\",\"bundle\":\"/b\"}", -EINVAL, "duplicate");
        /* NUL inside a string is refused by the JSON reader. */
        state_err("{\"id\":\"a\\u0000b\",\"bundle\":\"/b\"}", -EINVAL, "invalid json");
}

static void
test_state_size_limit(void **state)
{
        size_t len = NVH_OCI_STATE_MAX + 1;
        char *buf = malloc(len);
        struct nvh_oci_state *s = NULL;
        struct nvh_err err = {0};

        assert_non_null(buf);
        memset(buf, ' ', len);
        assert_int_equal(nvh_oci_state_parse(buf, len, &s, &err), -E2BIG);
        assert_contains(err.msg, "larger than 16777216 bytes");
        /* Exactly at the limit is parsed (and fails only as JSON). */
        assert_int_equal(nvh_oci_state_parse(buf, len - 1, &s, &err), -EINVAL);
        free(buf);
        assert_null(s);
}

static const char full_spec[] =
    "{\"ociVersion\":\"1.0.2-dev\","
    " \"root\":{\"path\":\"rootfs\",\"readonly\":true},"
    " \"process\":{\"env\":[\"PATH=/usr/bin\",\"A=1\",\"NOEQ\",\"A=2\",\"E=\"],"
    "   \"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_SYS_ADMIN\"],\"effective\":[]}},"
    " \"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
    "   {\"destination\":\"/dev/shm\",\"options\":[\"nosuid\",\"mode=1777\"]}],"
    " \"annotations\":{\"io.x\":\"y\",\"k\":\"v\"},"
    " \"hooks\":{\"prestart\":[{\"path\":\"/x\"}],\"anything\":42},"
    " \"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"user\"},"
    "   {\"type\":\"mount\",\"path\":\"/proc/1/ns/mnt\"}],"
    "   \"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
    "   \"gidMappings\":[{\"containerID\":0,\"hostID\":200000,\"size\":1},"
    "                    {\"containerID\":1,\"hostID\":4294967295,\"size\":1}],"
    "   \"cgroupsPath\":\"/machine/ctr-1\"},"
    " \"future\":{\"ignored\":true}}";

static void
test_spec_full(void **state)
{
        struct nvh_oci_spec *s = spec_ok(full_spec, "/run/b/ctr");

        assert_string_equal(s->oci_version, "1.0.2-dev");
        assert_string_equal(s->host_rootfs, "/run/b/ctr/rootfs");
        assert_true(s->root_readonly);
        assert_string_equal(s->env[0], "PATH=/usr/bin");
        assert_string_equal(s->env[2], "NOEQ");
        assert_null(s->env[5]);
        assert_int_equal(s->n_mounts, 2);
        assert_string_equal(s->mounts[0].destination, "/proc");
        assert_string_equal(s->mounts[0].source, "proc");
        assert_string_equal(s->mounts[0].type, "proc");
        assert_null(s->mounts[0].options[0]);
        assert_null(s->mounts[1].source);
        assert_null(s->mounts[1].type);
        assert_string_equal(s->mounts[1].options[0], "nosuid");
        assert_string_equal(s->mounts[1].options[1], "mode=1777");
        assert_null(s->mounts[1].options[2]);
        assert_string_equal(nvh_oci_spec_annotation(s, "io.x"), "y");
        assert_string_equal(nvh_oci_spec_annotation(s, "k"), "v");
        assert_null(nvh_oci_spec_annotation(s, "io"));
        assert_true(s->privileged);
        assert_true(s->user_ns);
        assert_string_equal(s->mount_ns_path, "/proc/1/ns/mnt");
        assert_int_equal(s->n_uid_mappings, 1);
        assert_int_equal(s->uid_mappings[0].host_id, 100000);
        assert_int_equal(s->uid_mappings[0].size, 65536);
        assert_int_equal(s->n_gid_mappings, 2);
        assert_int_equal(s->gid_mappings[1].container_id, 1);
        assert_int_equal(s->gid_mappings[1].host_id, 4294967295u);
        assert_string_equal(s->cgroups_path, "/machine/ctr-1");

        /* Last occurrence wins; a prefix of a name is not the name; entries without '='
         * never match. */
        assert_string_equal(nvh_oci_spec_getenv(s, "A"), "2");
        assert_string_equal(nvh_oci_spec_getenv(s, "E"), "");
        assert_null(nvh_oci_spec_getenv(s, "PAT"));
        assert_null(nvh_oci_spec_getenv(s, "NOEQ"));
        assert_null(nvh_oci_spec_getenv(s, "MISSING"));
        nvh_oci_spec_free(s);
}

static void
test_spec_minimal(void **state)
{
        struct nvh_oci_spec *s = spec_ok("{\"root\":{\"path\":\"/abs//root/\"}}", NULL);

        assert_string_equal(s->host_rootfs, "/abs/root");
        assert_false(s->root_readonly);
        assert_non_null(s->env);
        assert_null(s->env[0]);
        assert_int_equal(s->n_mounts, 0);
        assert_non_null(s->annotations);
        assert_null(s->annotations[0]);
        assert_false(s->privileged);
        assert_false(s->user_ns);
        assert_null(s->mount_ns_path);
        assert_null(s->cgroups_path);
        assert_null(nvh_oci_spec_getenv(s, "PATH"));
        nvh_oci_spec_free(s);
}

static void
test_spec_root_forms(void **state)
{
        struct nvh_oci_spec *s;

        s = spec_ok("{\"root\":{\"path\":\"./rootfs\"}}", "/b/");
        assert_string_equal(s->host_rootfs, "/b/rootfs");
        nvh_oci_spec_free(s);
        s = spec_ok("{\"root\":{\"path\":\".\"}}", "/b");
        assert_string_equal(s->host_rootfs, "/b");
        nvh_oci_spec_free(s);
        s = spec_ok("{\"root\":{\"path\":\"a/b/../c\"}}", "/bundle");
        /* ".." is kept for the fd-based resolver, never resolved by string. */
        assert_string_equal(s->host_rootfs, "/bundle/a/b/../c");
        nvh_oci_spec_free(s);
        s = spec_ok("{\"root\":{\"path\":\"/\",\"readonly\":false}}", "/b");
        assert_string_equal(s->host_rootfs, "/");
        nvh_oci_spec_free(s);
}

static void
test_spec_privileged_forms(void **state)
{
        struct nvh_oci_spec *s;

        /* Before OCI 1.0.0-rc5 capabilities was a plain list. */
        s = spec_ok(
            "{\"root\":{\"path\":\"/r\"},\"process\":{\"capabilities\":[\"CAP_SYS_ADMIN\"]}}",
            NULL);
        assert_true(s->privileged);
        nvh_oci_spec_free(s);
        /* CAP_SYS_ADMIN only in the effective set is not privileged. */
        s = spec_ok("{\"root\":{\"path\":\"/r\"},\"process\":{\"capabilities\":"
                    "{\"effective\":[\"CAP_SYS_ADMIN\"],\"bounding\":[\"CAP_KILL\"]}}}",
                    NULL);
        assert_false(s->privileged);
        nvh_oci_spec_free(s);
        s = spec_ok("{\"root\":{\"path\":\"/r\"},\"process\":{\"capabilities\":null}}", NULL);
        assert_false(s->privileged);
        nvh_oci_spec_free(s);
        s = spec_ok("{\"root\":{\"path\":\"/r\"},\"process\":{\"capabilities\":"
                    "{\"bounding\":[\"cap_sys_admin\"]}}}",
                    NULL);
        assert_false(s->privileged);
        nvh_oci_spec_free(s);
}

static void
test_spec_errors(void **state)
{
        spec_err("{}", "/b", -EINVAL, "config.json: missing 'root'");
        spec_err("{\"root\":\"/r\"}", "/b", -EINVAL, "'root' is not an object: '/r'");
        spec_err("{\"root\":{}}", "/b", -EINVAL, "missing 'root.path'");
        spec_err("{\"root\":{\"path\":42}}", "/b", -EINVAL,
                 "config.json: 'root.path' is not a string: 42");
        spec_err("{\"root\":{\"path\":\"\"}}", "/b", -EINVAL, "'root.path' is empty");
        spec_err("{\"root\":{\"path\":\"rootfs\"}}", NULL, -EINVAL,
                 "'root.path' is relative and the bundle is unknown: 'rootfs'");
        spec_err("{\"root\":{\"path\":\"rootfs\"}}", "rel", -EINVAL,
                 "bundle is not an absolute path: 'rel'");
        spec_err("{\"root\":{\"path\":\"/r\",\"readonly\":\"yes\"}}", "/b", -EINVAL,
                 "'root.readonly' is not a boolean: 'yes'");
        spec_err("{\"root\":{\"path\":\"/r\"},\"ociVersion\":1}", "/b", -EINVAL,
                 "'ociVersion' is not a string: 1");
        spec_err("{\"root\":{\"path\":\"/r\"},\"process\":[]}", "/b", -EINVAL,
                 "'process' is not an object: an array");
        spec_err("{\"root\":{\"path\":\"/r\"},\"process\":{\"env\":\"A=1\"}}", "/b", -EINVAL,
                 "'process.env' is not an array: 'A=1'");
        spec_err("{\"root\":{\"path\":\"/r\"},\"process\":{\"env\":[\"A=1\",true]}}", "/b", -EINVAL,
                 "'process.env[1]' is not a string: true");
        spec_err("{\"root\":{\"path\":\"/r\"},\"process\":{\"capabilities\":\"ALL\"}}", "/b",
                 -EINVAL, "'process.capabilities' is not an object: 'ALL'");
        spec_err("{\"root\":{\"path\":\"/r\"},\"process\":{\"capabilities\":{\"bounding\":{}}}}",
                 "/b", -EINVAL, "'process.capabilities.bounding' is not an array: an object");
        spec_err("{\"root\":{\"path\":\"/r\"},\"process\":{\"capabilities\":{\"bounding\":[1]}}}",
                 "/b", -EINVAL, "'process.capabilities.bounding[0]' is not a string: 1");
        spec_err("{\"root\":{\"path\":\"/r\"},\"mounts\":{}}", "/b", -EINVAL,
                 "'mounts' is not an array: an object");
        spec_err("{\"root\":{\"path\":\"/r\"},\"mounts\":[{\"destination\":\"/a\"},\"x\"]}", "/b",
                 -EINVAL, "'mounts[1]' is not an object: 'x'");
        spec_err("{\"root\":{\"path\":\"/r\"},\"mounts\":[{\"source\":\"/a\"}]}", "/b", -EINVAL,
                 "missing 'mounts[0].destination'");
        spec_err("{\"root\":{\"path\":\"/r\"},\"mounts\":[{\"destination\":\"\"}]}", "/b", -EINVAL,
                 "'mounts[0].destination' is empty");
        spec_err("{\"root\":{\"path\":\"/r\"},\"mounts\":[{\"destination\":5}]}", "/b", -EINVAL,
                 "'mounts[0].destination' is not a string: 5");
        spec_err("{\"root\":{\"path\":\"/r\"},\"mounts\":[{\"destination\":\"/a\",\"source\":[]}]}",
                 "/b", -EINVAL, "'mounts[0].source' is not a string: an array");
        spec_err("{\"root\":{\"path\":\"/r\"},\"mounts\":[{\"destination\":\"/a\",\"type\":1}]}",
                 "/b", -EINVAL, "'mounts[0].type' is not a string: 1");
        spec_err(
            "{\"root\":{\"path\":\"/r\"},\"mounts\":[{\"destination\":\"/a\",\"options\":\"ro\"}]}",
            "/b", -EINVAL, "'mounts[0].options' is not an array: 'ro'");
        spec_err("{\"root\":{\"path\":\"/r\"},\"mounts\":[{\"destination\":\"/"
                 "a\",\"options\":[\"ro\",null]}]}",
                 "/b", -EINVAL, "'mounts[0].options[1]' is not a string: null");
        spec_err("{\"root\":{\"path\":\"/r\"},\"annotations\":{\"a\":\"b\",\"c\":{}}}", "/b",
                 -EINVAL, "'annotations.c' is not a string: an object");
        spec_err("{\"root\":{\"path\":\"/r\"},\"annotations\":\"x\"}", "/b", -EINVAL,
                 "'annotations' is not an object: 'x'");
        spec_err("{\"root\":{\"path\":\"/r\"},\"linux\":[]}", "/b", -EINVAL,
                 "'linux' is not an object: an array");
        spec_err("{\"root\":{\"path\":\"/r\"},\"linux\":{\"namespaces\":{}}}", "/b", -EINVAL,
                 "'linux.namespaces' is not an array: an object");
        spec_err("{\"root\":{\"path\":\"/r\"},\"linux\":{\"namespaces\":[\"user\"]}}", "/b",
                 -EINVAL, "'linux.namespaces[0]' is not an object: 'user'");
        spec_err("{\"root\":{\"path\":\"/r\"},\"linux\":{\"namespaces\":[{\"path\":\"/x\"}]}}",
                 "/b", -EINVAL, "missing 'linux.namespaces[0].type'");
        spec_err("{\"root\":{\"path\":\"/"
                 "r\"},\"linux\":{\"namespaces\":[{\"type\":\"mount\",\"path\":3}]}}",
                 "/b", -EINVAL, "'linux.namespaces[0].path' is not a string: 3");
        spec_err("{\"root\":{\"path\":\"/r\"},\"linux\":{\"uidMappings\":{}}}", "/b", -EINVAL,
                 "'linux.uidMappings' is not an array: an object");
        spec_err("{\"root\":{\"path\":\"/r\"},\"linux\":{\"uidMappings\":[1]}}", "/b", -EINVAL,
                 "'linux.uidMappings[0]' is not an object: 1");
        spec_err("{\"root\":{\"path\":\"/"
                 "r\"},\"linux\":{\"uidMappings\":[{\"containerID\":0,\"size\":1}]}}",
                 "/b", -EINVAL, "missing 'linux.uidMappings[0].hostID'");
        spec_err(
            "{\"root\":{\"path\":\"/"
            "r\"},\"linux\":{\"gidMappings\":[{\"containerID\":\"0\",\"hostID\":0,\"size\":1}]}}",
            "/b", -EINVAL, "'linux.gidMappings[0].containerID' is not an integer: '0'");
        spec_err("{\"root\":{\"path\":\"/"
                 "r\"},\"linux\":{\"gidMappings\":[{\"containerID\":0,\"hostID\":-1,\"size\":1}]}}",
                 "/b", -EINVAL, "'linux.gidMappings[0].hostID' is out of range: -1");
        spec_err("{\"root\":{\"path\":\"/"
                 "r\"},\"linux\":{\"gidMappings\":[{\"containerID\":0,\"hostID\":4294967296,"
                 "\"size\":1}]}}",
                 "/b", -EINVAL, "'linux.gidMappings[0].hostID' is out of range: 4294967296");
        spec_err("{\"root\":{\"path\":\"/"
                 "r\"},\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":0}]}}",
                 "/b", -EINVAL, "'linux.uidMappings[0]' is not a valid range: 0 0 0");
        spec_err("{\"root\":{\"path\":\"/"
                 "r\"},\"linux\":{\"uidMappings\":[{\"containerID\":4294967295,\"hostID\":0,"
                 "\"size\":2}]}}",
                 "/b", -EINVAL, "is not a valid range: 4294967295 0 2");
        spec_err("{\"root\":{\"path\":\"/r\"},\"linux\":{\"cgroupsPath\":[]}}", "/b", -EINVAL,
                 "'linux.cgroupsPath' is not a string: an array");
        spec_err("{\"root\":{\"path\":\"/r\"},\"root\":{\"path\":\"/other\"}}", "/b", -EINVAL,
                 "duplicate");
        spec_err("[]", "/b", -EINVAL, "(top level)' is not an object: an array");
        spec_err("null", "/b", -EINVAL, "invalid json");
        spec_err("", "/b", -EINVAL, "config.json: invalid json");
}

static void
test_spec_size_limit(void **state)
{
        size_t len = NVH_OCI_SPEC_MAX + 1;
        char *buf = malloc(len);
        struct nvh_oci_spec *s = NULL;
        struct nvh_err err = {0};

        assert_non_null(buf);
        memset(buf, ' ', len);
        assert_int_equal(nvh_oci_spec_parse(buf, len, "/b", &s, &err), -E2BIG);
        assert_contains(err.msg, "config.json: larger than 67108864 bytes");
        assert_null(s);
        free(buf);
}

/* Every truncation of a valid document is rejected without crashing or leaking. */
static void
test_spec_truncations(void **state)
{
        size_t len = strlen(full_spec);

        for (size_t i = 0; i < len; i++) {
                struct nvh_oci_spec *s = NULL;
                struct nvh_err err = {0};
                int r = nvh_oci_spec_parse(full_spec, i, "/b", &s, &err);

                assert_true(r < 0);
                assert_null(s);
        }
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_state_full),
            cmocka_unit_test(test_state_minimal_and_legacy),
            cmocka_unit_test(test_state_errors),
            cmocka_unit_test(test_state_size_limit),
            cmocka_unit_test(test_spec_full),
            cmocka_unit_test(test_spec_minimal),
            cmocka_unit_test(test_spec_root_forms),
            cmocka_unit_test(test_spec_privileged_forms),
            cmocka_unit_test(test_spec_errors),
            cmocka_unit_test(test_spec_size_limit),
            cmocka_unit_test(test_spec_truncations),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
