/* SPDX-License-Identifier: Apache-2.0 */
/* The hook configuration file: defaults, every key, every error. */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "conf.h"

static void
assert_contains(const char *haystack, const char *needle)
{
        if (!strstr(haystack, needle))
                fail_msg("'%s' does not contain '%s'", haystack, needle);
}

static struct nvh_conf *
conf_ok(const char *json)
{
        struct nvh_conf *c = NULL;
        struct nvh_err err = {0};
        int r = nvh_conf_parse(json, strlen(json), "nvhook.json", &c, &err);

        if (r != 0)
                fail_msg("conf: %d %s", r, err.msg);
        return c;
}

static void
conf_err(const char *json, int code, const char *needle)
{
        struct nvh_conf *c = NULL;
        struct nvh_err err = {0};
        int r = nvh_conf_parse(json, strlen(json), "nvhook.json", &c, &err);

        if (r != code)
                fail_msg("'%s': expected %d, got %d (%s)", json, code, r, err.msg);
        assert_null(c);
        assert_contains(err.msg, "nvhook.json: ");
        assert_contains(err.msg, needle);
}

static void
assert_defaults(const struct nvh_conf *c)
{
        assert_string_equal(c->driver_root, "/");
        assert_string_equal(c->ldcache, "/etc/ld.so.cache");
        assert_string_equal(c->proc_root, "/proc");
        assert_string_equal(c->dev_root, "/dev");
        assert_int_equal(c->allowed_caps, NVH_CAP_ALL);
        assert_true(c->accept_env_unprivileged);
        assert_true(c->accept_device_mounts);
        assert_null(c->log_file);
        assert_int_equal(c->log_level, NVH_LOG_WARN);
        assert_string_equal(c->cache_dir, "/run/nvhook");
        assert_false(c->disable_require);
        assert_int_equal(c->cgroup_mode, NVH_CONF_CGROUP_AUTO);
}

static void
test_defaults(void **state)
{
        struct nvh_conf c;
        struct nvh_conf *p;

        assert_int_equal(nvh_conf_defaults(&c), 0);
        assert_defaults(&c);
        nvh_conf_free_contents(&c);
        assert_null(c.driver_root);
        nvh_conf_free_contents(&c); /* twice is harmless */

        p = conf_ok("{}");
        assert_defaults(p);
        nvh_conf_free(p);
        p = conf_ok(" { } \n");
        assert_defaults(p);
        nvh_conf_free(p);
        nvh_conf_free(NULL);
}

static void
test_all_keys(void **state)
{
        struct nvh_conf *c = conf_ok("{\"driver_root\":\"/usr/local/nvidia\","
                                     "\"ldcache\":\"/etc/ld.so.cache\","
                                     "\"proc_root\":\"/tmp/proc\",\"dev_root\":\"/tmp/dev\","
                                     "\"allowed_capabilities\":\"compute,utility\","
                                     "\"accept_env_unprivileged\":false,"
                                     "\"accept_device_mounts\":false,"
                                     "\"log_file\":\"/var/log/nvhook.log\",\"log_level\":\"debug\","
                                     "\"cache_dir\":\"/var/cache/nvhook\","
                                     "\"disable_require\":true,\"cgroup\":\"v2\"}");

        assert_string_equal(c->driver_root, "/usr/local/nvidia");
        assert_string_equal(c->ldcache, "/etc/ld.so.cache");
        assert_string_equal(c->proc_root, "/tmp/proc");
        assert_string_equal(c->dev_root, "/tmp/dev");
        assert_int_equal(c->allowed_caps, NVH_CAP_COMPUTE | NVH_CAP_UTILITY);
        assert_false(c->accept_env_unprivileged);
        assert_false(c->accept_device_mounts);
        assert_string_equal(c->log_file, "/var/log/nvhook.log");
        assert_int_equal(c->log_level, NVH_LOG_DEBUG);
        assert_string_equal(c->cache_dir, "/var/cache/nvhook");
        assert_true(c->disable_require);
        assert_int_equal(c->cgroup_mode, NVH_CONF_CGROUP_V2);
        nvh_conf_free(c);
}

/* ldcache names the cache inside driver_root (the driver module resolves it there), so it
 * does not change with driver_root. */
static void
test_ldcache(void **state)
{
        struct nvh_conf *c;

        c = conf_ok("{\"driver_root\":\"/usr/local/nvidia\"}");
        assert_string_equal(c->driver_root, "/usr/local/nvidia");
        assert_string_equal(c->ldcache, "/etc/ld.so.cache");
        nvh_conf_free(c);
        c = conf_ok("{\"ldcache\":null,\"driver_root\":\"/drv/\"}");
        assert_string_equal(c->ldcache, "/etc/ld.so.cache");
        nvh_conf_free(c);
        c = conf_ok("{\"ldcache\":\"/x/cache\",\"driver_root\":\"/drv\"}");
        assert_string_equal(c->ldcache, "/x/cache");
        nvh_conf_free(c);
}

static void
test_set_str(void **state)
{
        struct nvh_conf c;

        assert_int_equal(nvh_conf_defaults(&c), 0);
        assert_int_equal(nvh_conf_set_str(&c.driver_root, "/run/nvidia/driver"), 0);
        assert_string_equal(c.driver_root, "/run/nvidia/driver");
        assert_int_equal(nvh_conf_set_str(&c.log_file, NULL), 0);
        assert_null(c.log_file);
        nvh_conf_free_contents(&c);
}

static void
test_enums_and_caps(void **state)
{
        static const struct {
                const char *name;
                enum nvh_log_level level;
        } levels[] = {{"debug", NVH_LOG_DEBUG},
                      {"info", NVH_LOG_INFO},
                      {"warning", NVH_LOG_WARN},
                      {"error", NVH_LOG_ERROR}};
        static const char *const cgroups[] = {"auto", "v1", "v2", "none"};
        char json[128];
        struct nvh_conf *c;

        for (size_t i = 0; i < 4; i++) {
                snprintf(json, sizeof(json), "{\"log_level\":\"%s\"}", levels[i].name);
                c = conf_ok(json);
                assert_int_equal(c->log_level, levels[i].level);
                nvh_conf_free(c);
                snprintf(json, sizeof(json), "{\"cgroup\":\"%s\"}", cgroups[i]);
                c = conf_ok(json);
                assert_int_equal(c->cgroup_mode, (int)i);
                assert_string_equal(nvh_conf_cgroup_name(c->cgroup_mode), cgroups[i]);
                nvh_conf_free(c);
        }
        c = conf_ok("{\"allowed_capabilities\":[\"compute\",\"video\"]}");
        assert_int_equal(c->allowed_caps, NVH_CAP_COMPUTE | NVH_CAP_VIDEO);
        nvh_conf_free(c);
        c = conf_ok("{\"allowed_capabilities\":\"all\"}");
        assert_int_equal(c->allowed_caps, NVH_CAP_ALL);
        nvh_conf_free(c);
        c = conf_ok("{\"allowed_capabilities\":[]}");
        assert_int_equal(c->allowed_caps, 0);
        nvh_conf_free(c);
        c = conf_ok("{\"allowed_capabilities\":\"\"}");
        assert_int_equal(c->allowed_caps, 0);
        nvh_conf_free(c);
        c = conf_ok("{\"log_file\":null}");
        assert_null(c->log_file);
        nvh_conf_free(c);
}

static void
test_errors(void **state)
{
        conf_err("{\"driver_rot\":\"/\"}", -EINVAL, "unknown key 'driver_rot'");
        conf_err("{\"accept_env_unprivileged\":\"false\"}", -EINVAL,
                 "'accept_env_unprivileged' is not a boolean: 'false'");
        conf_err("{\"accept_device_mounts\":0}", -EINVAL,
                 "'accept_device_mounts' is not a boolean: 0");
        conf_err("{\"disable_require\":null}", -EINVAL, "'disable_require' is not a boolean: null");
        conf_err("{\"driver_root\":null}", -EINVAL, "'driver_root' is not a string: null");
        conf_err("{\"driver_root\":\"usr/local\"}", -EINVAL,
                 "'driver_root' is not an absolute path: 'usr/local'");
        conf_err("{\"driver_root\":\"\"}", -EINVAL, "'driver_root' is not an absolute path: ''");
        conf_err("{\"ldcache\":7}", -EINVAL, "'ldcache' is not a string: 7");
        conf_err("{\"ldcache\":\"cache\"}", -EINVAL, "'ldcache' is not an absolute path: 'cache'");
        conf_err("{\"proc_root\":[]}", -EINVAL, "'proc_root' is not a string: an array");
        conf_err("{\"dev_root\":{}}", -EINVAL, "'dev_root' is not a string: an object");
        conf_err("{\"cache_dir\":\"run\"}", -EINVAL, "'cache_dir' is not an absolute path: 'run'");
        conf_err("{\"log_file\":\"log\"}", -EINVAL, "'log_file' is not an absolute path: 'log'");
        conf_err("{\"log_file\":true}", -EINVAL, "'log_file' is not a string: true");
        conf_err("{\"log_level\":\"verbose\"}", -EINVAL, "unknown 'log_level' 'verbose'");
        conf_err("{\"log_level\":3}", -EINVAL, "'log_level' is not a string: 3");
        conf_err("{\"cgroup\":\"v3\"}", -EINVAL, "unknown 'cgroup' 'v3'");
        conf_err("{\"cgroup\":2}", -EINVAL, "'cgroup' is not a string: 2");
        conf_err("{\"allowed_capabilities\":\"compute,bogus\"}", -EINVAL,
                 "'allowed_capabilities': unknown driver capability 'bogus'");
        conf_err("{\"allowed_capabilities\":[\"compute\",\"bogus\"]}", -EINVAL,
                 "unknown driver capability 'bogus'");
        conf_err("{\"allowed_capabilities\":[\"compute\",1.5]}", -EINVAL,
                 "'allowed_capabilities[1]' is not a string: 1.5");
        conf_err("{\"allowed_capabilities\":[\"compute,video\"]}", -EINVAL,
                 "'allowed_capabilities' holds a list in one element: 'compute,video'");
        conf_err("{\"allowed_capabilities\":true}", -EINVAL,
                 "'allowed_capabilities' is not a string or an array: true");
        conf_err("{\"cgroup\":\"v1\",\"cgroup\":\"v2\"}", -EINVAL, "duplicate");
        conf_err("[]", -EINVAL, "is not an object: an array");
        conf_err("{\"cgroup\":", -EINVAL, "invalid json");
        conf_err("", -EINVAL, "invalid json");
}

static void
test_size_limit(void **state)
{
        size_t len = NVH_CONF_MAX + 1;
        char *buf = malloc(len);
        struct nvh_conf *c = NULL;
        struct nvh_err err = {0};

        assert_non_null(buf);
        memset(buf, ' ', len);
        buf[0] = '{';
        buf[len - 1] = '}';
        assert_int_equal(nvh_conf_parse(buf, len, "big.json", &c, &err), -E2BIG);
        assert_contains(err.msg, "big.json: larger than");
        /* One byte less is fine. */
        buf[len - 2] = '}';
        assert_int_equal(nvh_conf_parse(buf, len - 1, "big.json", &c, &err), 0);
        assert_defaults(c);
        nvh_conf_free(c);
        free(buf);
}

static void
test_load(void **state)
{
        const char *dir = tu_tmpdir();
        char path[512], missing[512], big[512];
        struct nvh_conf *c = NULL;
        struct nvh_err err = {0};
        static const char text[] = "{\"cgroup\":\"v1\",\"log_level\":\"info\"}";

        snprintf(path, sizeof(path), "%s/conf/nvhook.json", dir);
        tu_write_file(path, text, strlen(text));
        assert_int_equal(nvh_conf_load(path, &c, &err), 0);
        assert_int_equal(c->cgroup_mode, NVH_CONF_CGROUP_V1);
        assert_int_equal(c->log_level, NVH_LOG_INFO);
        nvh_conf_free(c);
        c = NULL;

        snprintf(missing, sizeof(missing), "%s/none.json", dir);
        assert_int_equal(nvh_conf_load(missing, &c, &err), -ENOENT);
        assert_contains(err.msg, missing);
        assert_null(c);

        /* Errors name the file. */
        tu_write_file(path, "{\"x\":1}", 7);
        assert_int_equal(nvh_conf_load(path, &c, &err), -EINVAL);
        assert_contains(err.msg, path);
        assert_contains(err.msg, "unknown key 'x'");

        snprintf(big, sizeof(big), "%s/big.json", dir);
        assert_int_equal(tu_sh("head -c %u /dev/zero > '%s'", NVH_CONF_MAX + 1, big), 0);
        assert_int_equal(nvh_conf_load(big, &c, &err), -E2BIG);
        assert_null(c);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_defaults),       cmocka_unit_test(test_all_keys),
            cmocka_unit_test(test_ldcache),        cmocka_unit_test(test_set_str),
            cmocka_unit_test(test_enums_and_caps), cmocka_unit_test(test_errors),
            cmocka_unit_test(test_size_limit),     cmocka_unit_test(test_load),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
