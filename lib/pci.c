/* SPDX-License-Identifier: Apache-2.0 */
#include "pci.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* 1..max_digits hex digits, any case. */
static bool
parse_hex(const char *s, size_t len, size_t max_digits, unsigned long *ret)
{
        unsigned long v = 0;

        if (len == 0 || len > max_digits)
                return false;
        for (size_t i = 0; i < len; i++) {
                char ch = s[i];
                int d;

                if (ch >= '0' && ch <= '9')
                        d = ch - '0';
                else if (ch >= 'a' && ch <= 'f')
                        d = ch - 'a' + 10;
                else if (ch >= 'A' && ch <= 'F')
                        d = ch - 'A' + 10;
                else
                        return false;
                v = (v << 4) | (unsigned long)d;
        }
        *ret = v;
        return true;
}

int
nvh_pci_parse(const char *s, size_t len, uint64_t *ret_key)
{
        const char *end = s + len, *c1, *c2, *dot, *bus;
        unsigned long domain = 0, b, d, f;

        c1 = memchr(s, ':', len);
        if (!c1)
                return -EINVAL;
        c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1));
        if (c2) {
                if (memchr(c2 + 1, ':', (size_t)(end - c2 - 1)) ||
                    !parse_hex(s, (size_t)(c1 - s), 8, &domain))
                        return -EINVAL;
                bus = c1 + 1;
        } else {
                c2 = c1;
                bus = s;
        }
        dot = memchr(c2 + 1, '.', (size_t)(end - c2 - 1));
        if (!dot || !parse_hex(bus, (size_t)(c2 - bus), 2, &b) ||
            !parse_hex(c2 + 1, (size_t)(dot - c2 - 1), 2, &d) || d > 0x1f ||
            !parse_hex(dot + 1, (size_t)(end - dot - 1), 1, &f) || f > 7)
                return -EINVAL;
        *ret_key = ((uint64_t)domain << 16) | (b << 8) | (d << 3) | f;
        return 0;
}

void
nvh_pci_format(uint64_t key, char *buf, size_t size)
{
        snprintf(buf, size, "%04x:%02x:%02x.%x", (unsigned)(key >> 16), (unsigned)(key >> 8) & 0xff,
                 (unsigned)(key >> 3) & 0x1f, (unsigned)key & 7);
}

int
nvh_pci_normalize(const char *s, char *ret_buf, size_t size)
{
        uint64_t key;
        int r = nvh_pci_parse(s, strlen(s), &key);

        if (r < 0)
                return r;
        nvh_pci_format(key, ret_buf, size);
        return 0;
}
