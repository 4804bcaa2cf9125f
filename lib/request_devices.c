/* SPDX-License-Identifier: Apache-2.0 */
/* The device-token grammar and device lists of a request (lib/request.h): the syntax of one
 * token, comma lists as NVIDIA_VISIBLE_DEVICES holds them, and device-list volume mounts. */
#include "request_devices.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fileio.h"
#include "macros.h"
#include "pci.h"

/* How much of a user-supplied value an error message quotes. */
#define QUOTE_MAX 96
#define QUOTE(n) ((int)((n) > QUOTE_MAX ? QUOTE_MAX : (n)))

static bool
is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool
is_hex(char c)
{
        return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
all_digits(const char *s, size_t n)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_digit(s[i]))
                        return false;
        return true;
}

/* Decimal number of at most 9 digits. */
static int
parse_small_uint(const char *s, size_t n, unsigned *ret)
{
        unsigned v = 0;

        if (!all_digits(s, n) || n > 9)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                v = v * 10 + (unsigned)(s[i] - '0');
        *ret = v;
        return 0;
}

int
nvh_request_devices_parse_uint(const char *s, size_t n, unsigned *ret)
{
        return parse_small_uint(s, n, ret);
}

/* A whole UUID, 8-4-4-4-12 hex digits of any case (no prefixes: a prefix could name a
 * different GPU on another host, and nvidia-container-toolkit matches whole UUIDs only). */
static bool
uuid_ok(const char *s, size_t n)
{
        if (n != 36)
                return false;
        for (size_t i = 0; i < n; i++)
                if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-' : !is_hex(s[i]))
                        return false;
        return true;
}

static void
lower_copy(char *dst, const char *src, size_t n)
{
        for (size_t i = 0; i < n; i++)
                dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] | 0x20) : src[i];
        dst[n] = '\0';
}

/* No part of a colon-separated decimal list has a leading zero ("0" itself is fine). */
static bool
no_leading_zero(const char *s, size_t n)
{
        for (size_t i = 0; i + 1 < n; i++)
                if (s[i] == '0' && (i == 0 || s[i - 1] == ':') && is_digit(s[i + 1]))
                        return false;
        return true;
}

static int
parse_pci(const char *tok, size_t len, char *canon, size_t size)
{
        uint64_t key;

        if (nvh_pci_parse(tok, len, &key) < 0)
                return -EINVAL;
        nvh_pci_format(key, canon, size);
        return NVH_DEVTOK_PCI;
}

static int
classify_token(const char *tok, size_t len, char *canon, size_t size)
{
        const char *colon;
        unsigned a, b;

        if (all_digits(tok, len)) {
                if (parse_small_uint(tok, len, &a) < 0)
                        return -EINVAL;
                snprintf(canon, size, "%u", a);
                return NVH_DEVTOK_INDEX;
        }
        if (len > 8 && strncasecmp(tok, "MIG-GPU-", 8) == 0) {
                /* MIG-GPU-<uuid>/<gi>/<ci> */
                const char *s1 = memchr(tok + 8, '/', len - 8), *s2;

                if (!s1 || !uuid_ok(tok + 8, (size_t)(s1 - tok - 8)))
                        return -EINVAL;
                s2 = memchr(s1 + 1, '/', len - (size_t)(s1 + 1 - tok));
                if (!s2 || parse_small_uint(s1 + 1, (size_t)(s2 - s1 - 1), &a) < 0 ||
                    parse_small_uint(s2 + 1, len - (size_t)(s2 + 1 - tok), &b) < 0)
                        return -EINVAL;
                memcpy(canon, "MIG-GPU-", 8);
                lower_copy(canon + 8, tok + 8, (size_t)(s1 - tok - 8));
                snprintf(canon + strlen(canon), size - strlen(canon), "/%u/%u", a, b);
                return NVH_DEVTOK_MIG_LEGACY;
        }
        if (len > 4 && (strncasecmp(tok, "GPU-", 4) == 0 || strncasecmp(tok, "MIG-", 4) == 0)) {
                if (!uuid_ok(tok + 4, len - 4))
                        return -EINVAL;
                canon[0] = (tok[0] == 'g' || tok[0] == 'G') ? 'G' : 'M';
                memcpy(canon + 1, canon[0] == 'G' ? "PU-" : "IG-", 3);
                lower_copy(canon + 4, tok + 4, len - 4);
                return canon[0] == 'G' ? NVH_DEVTOK_GPU_UUID : NVH_DEVTOK_MIG_UUID;
        }
        if (memchr(tok, '.', len))
                return parse_pci(tok, len, canon, size);
        colon = memchr(tok, ':', len);
        if (colon && parse_small_uint(tok, (size_t)(colon - tok), &a) == 0) {
                const char *rest = colon + 1, *colon2;
                size_t rlen = len - (size_t)(rest - tok);
                unsigned c;

                if (parse_small_uint(rest, rlen, &b) == 0) {
                        snprintf(canon, size, "%u:%u", a, b);
                        return NVH_DEVTOK_MIG_INDEX;
                }
                /* "<gpu>:<gi>:<ci>" without leading zeros, so that a bus id missing its
                 * function ("0000:65:00") is not taken for one */
                colon2 = memchr(rest, ':', rlen);
                if (colon2 && no_leading_zero(tok, len) &&
                    parse_small_uint(rest, (size_t)(colon2 - rest), &b) == 0 &&
                    parse_small_uint(colon2 + 1, rlen - (size_t)(colon2 + 1 - rest), &c) == 0) {
                        snprintf(canon, size, "%u:%u:%u", a, b, c);
                        return NVH_DEVTOK_MIG_ID;
                }
        }
        return -EINVAL;
}

int
nvh_request_devices_parse_token(const char *tok, size_t len, char *canon, size_t size,
                                struct nvh_err *err)
{
        char buf[NVH_REQUEST_TOKEN_MAX + 1];
        int kind = -EINVAL;

        if (len > 0 && len <= NVH_REQUEST_TOKEN_MAX && !memchr(tok, '\0', len))
                kind = classify_token(tok, len, buf, sizeof(buf));
        if (kind < 0)
                return nvh_err_set(err, -EINVAL, "unknown device '%.*s'", QUOTE(len), tok);
        if (canon) {
                if (size < strlen(buf) + 1)
                        return nvh_err_set(err, -ENOBUFS, "device '%s': buffer too small", buf);
                memcpy(canon, buf, strlen(buf) + 1);
        }
        return kind;
}

int
nvh_request_parse_device_token(const char *tok, char *ret_canon, size_t size, struct nvh_err *err)
{
        if (!tok)
                return nvh_err_set(err, -EINVAL, "missing device");
        return nvh_request_devices_parse_token(tok, strnlen(tok, NVH_REQUEST_TOKEN_MAX + 1),
                                               ret_canon, size, err);
}

/* Trim spaces and tabs off both ends of [*s, *s + *n). */
void
nvh_request_devices_trim(const char **s, size_t *n)
{
        while (*n > 0 && (**s == ' ' || **s == '\t')) {
                (*s)++;
                (*n)--;
        }
        while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
                (*n)--;
}

bool
nvh_request_devices_word_eq(const char *s, size_t n, const char *word)
{
        return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* A comma list of device tokens, or "all" / "none" / "void" (as "none") alone. Empty entries
 * are skipped. Returns the number of entries seen (0: the list was blank). */
int
nvh_request_devices_parse_list(const char *var, const char *value, enum nvh_devsel *ret_sel,
                               struct strv_buf *ret_list, struct nvh_err *err)
{
        enum nvh_devsel sel = NVH_DEVSEL_LIST;
        const char *special = NULL;
        size_t special_len = 0;
        const char *p = value;
        int seen = 0;

        for (;;) {
                size_t n = strcspn(p, ",");
                const char *tok = p;
                char canon[NVH_REQUEST_TOKEN_MAX + 1];
                int r;

                nvh_request_devices_trim(&tok, &n);
                if (n > 0) {
                        /* The image sets the list: bound the work (and the dedup scan). */
                        if (++seen > (int)NVH_REQUEST_DEVICES_MAX)
                                return nvh_err_set(err, -E2BIG, "%s: more than %u devices", var,
                                                   NVH_REQUEST_DEVICES_MAX);
                        if (nvh_request_devices_word_eq(tok, n, "all") ||
                            nvh_request_devices_word_eq(tok, n, "none") ||
                            nvh_request_devices_word_eq(tok, n, "void")) {
                                special = tok;
                                special_len = n;
                                sel = (tok[0] | 0x20) == 'a' ? NVH_DEVSEL_ALL : NVH_DEVSEL_NONE;
                        } else {
                                r = nvh_request_devices_parse_token(tok, n, canon, sizeof(canon),
                                                                    err);
                                if (r < 0)
                                        return nvh_err_prefix(err, "%s", var);
                                if (!strv_buf_contains(ret_list, canon) &&
                                    strv_buf_push(ret_list, canon) < 0)
                                        return nvh_err_set(err, -ENOMEM, "out of memory");
                        }
                }
                p += strcspn(p, ",");
                if (!*p)
                        break;
                p++;
        }
        if (special && seen > 1)
                return nvh_err_set(err, -EINVAL,
                                   "%s: '%.*s' cannot be combined with other devices: '%.*s'", var,
                                   (int)special_len, special, QUOTE(strlen(value)), value);
        if (special)
                strv_buf_done(ret_list);
        *ret_sel = sel;
        return seen;
}

/* Devices selected by /dev/null mounts on NVH_REQUEST_DEVICE_MOUNT_ROOT/<device>. Returns the
 * number found. "all" anywhere selects all, as nvidia-container-toolkit does. */
int
nvh_request_devices_from_mounts(const struct nvh_oci_spec *spec, enum nvh_devsel *ret_sel,
                                struct strv_buf *ret_list, struct nvh_err *err)
{
        static const char root[] = NVH_REQUEST_DEVICE_MOUNT_ROOT "/";
        bool all = false, none = false;
        int found = 0;

        for (size_t i = 0; i < spec->n_mounts; i++) {
                const struct nvh_oci_mount *m = &spec->mounts[i];
                _cleanup_free_ char *src = NULL, *dst = NULL;
                char canon[NVH_REQUEST_TOKEN_MAX + 1];
                const char *dev;

                if (!m->source || !m->destination || m->source[0] != '/' ||
                    m->destination[0] != '/')
                        continue;
                src = nvh_fileio_path_normalize(m->source);
                dst = nvh_fileio_path_normalize(m->destination);
                if (!src || !dst)
                        return nvh_err_set(err, -ENOMEM, "out of memory");
                if (!streq(src, "/dev/null") || strncmp(dst, root, sizeof(root) - 1) != 0)
                        continue;
                dev = dst + sizeof(root) - 1;
                /* CDI devices requested as mounts (cdi/<vendor>/<class>=<name>) are for a CDI
                 * runtime, and IMEX channels as mounts (imex/<channel>) for its IMEX handling;
                 * nvidia-container-toolkit ignores both in this mode, and so do we (erring
                 * here would keep such pods from starting). */
                if (strncmp(dev, "cdi/", 4) == 0 || strncmp(dev, "imex/", 5) == 0)
                        continue;
                if (strchr(dev, '/'))
                        return nvh_err_set(err, -EINVAL, "device mount '%s': unknown device '%s'",
                                           dst, dev);
                if (++found > (int)NVH_REQUEST_DEVICES_MAX)
                        return nvh_err_set(err, -E2BIG, "device mounts: more than %u devices",
                                           NVH_REQUEST_DEVICES_MAX);
                if (streq(dev, "all")) {
                        all = true;
                        continue;
                }
                if (streq(dev, "none")) {
                        none = true;
                        continue;
                }
                if (nvh_request_devices_parse_token(dev, strlen(dev), canon, sizeof(canon), err) <
                    0)
                        return nvh_err_prefix(err, "device mount '%s'", dst);
                if (!strv_buf_contains(ret_list, canon) && strv_buf_push(ret_list, canon) < 0)
                        return nvh_err_set(err, -ENOMEM, "out of memory");
        }
        if (all) {
                strv_buf_done(ret_list);
                *ret_sel = NVH_DEVSEL_ALL;
        } else if (ret_list->n > 0) {
                *ret_sel = NVH_DEVSEL_LIST;
        } else if (none) {
                *ret_sel = NVH_DEVSEL_NONE;
        }
        return found;
}

int
nvh_request_parse_devices(const char *list, enum nvh_devsel *ret_sel, char ***ret_devices,
                          struct nvh_err *err)
{
        _cleanup_(strv_buf_done) struct strv_buf devices = {0};
        enum nvh_devsel sel = NVH_DEVSEL_NONE;
        char **v;
        int r;

        if (!list)
                return nvh_err_set(err, -EINVAL, "missing device list");
        r = nvh_request_devices_parse_list("devices", list, &sel, &devices, err);
        if (r < 0)
                return r;
        if (r == 0)
                return nvh_err_set(err, -EINVAL, "devices: empty device list '%.*s'",
                                   QUOTE(strlen(list)), list);
        v = strv_buf_take(&devices);
        if (!v)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        *ret_sel = sel;
        *ret_devices = v;
        return 0;
}
