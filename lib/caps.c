/* SPDX-License-Identifier: Apache-2.0 */
#include "caps.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const struct {
        const char *name;
        unsigned bit;
} cap_names[] = {
    {"utility", NVH_CAP_UTILITY},   {"compute", NVH_CAP_COMPUTE}, {"video", NVH_CAP_VIDEO},
    {"graphics", NVH_CAP_GRAPHICS}, {"display", NVH_CAP_DISPLAY}, {"compat32", NVH_CAP_COMPAT32},
    {"ngx", NVH_CAP_NGX},
};

int
nvh_caps_parse(const char *list, unsigned *ret_caps, struct nvh_err *err)
{
        unsigned caps = 0;
        const char *p = list;

        while (*p) {
                size_t len = strcspn(p, ",");
                const char *tok = p;
                size_t tlen = len;

                while (tlen > 0 && (*tok == ' ' || *tok == '\t')) {
                        tok++;
                        tlen--;
                }
                while (tlen > 0 && (tok[tlen - 1] == ' ' || tok[tlen - 1] == '\t'))
                        tlen--;
                if (tlen > 0) {
                        unsigned bit = 0;

                        if (tlen == 3 && memcmp(tok, "all", 3) == 0)
                                bit = NVH_CAP_ALL;
                        for (size_t i = 0; !bit && i < sizeof(cap_names) / sizeof(cap_names[0]);
                             i++)
                                if (strlen(cap_names[i].name) == tlen &&
                                    memcmp(cap_names[i].name, tok, tlen) == 0)
                                        bit = cap_names[i].bit;
                        if (!bit)
                                return nvh_err_set(err, -EINVAL, "unknown driver capability '%.*s'",
                                                   (int)(tlen > 64 ? 64 : tlen), tok);
                        caps |= bit;
                }
                p += len;
                if (*p == ',')
                        p++;
        }
        *ret_caps = caps;
        return 0;
}

char *
nvh_caps_format(unsigned caps, char *buf, unsigned size)
{
        size_t off = 0;

        if (size == 0)
                return buf;
        buf[0] = '\0';
        for (size_t i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++) {
                if (!(caps & cap_names[i].bit))
                        continue;
                int n = snprintf(buf + off, size - off, "%s%s", off ? "," : "", cap_names[i].name);
                if (n < 0 || (size_t)n >= size - off)
                        break;
                off += (size_t)n;
        }
        return buf;
}
