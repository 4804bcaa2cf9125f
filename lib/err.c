/* SPDX-License-Identifier: Apache-2.0 */
#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Messages quote image-controlled values (paths, env, cache strings) and end up on a
 * terminal: every control byte (< 0x20 and 0x7f) becomes a visible "\xNN", so an image cannot
 * send escape sequences through them, and a message stays on one line. Other bytes pass,
 * UTF-8 included. dst always ends up NUL-terminated, truncated at a whole escape. */
void
nvh_err_escape(const char *src, char *dst, size_t size)
{
        static const char hex[] = "0123456789abcdef";
        size_t o = 0;

        for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
                if (*p < 0x20 || *p == 0x7f) {
                        if (o + 4 >= size)
                                break;
                        dst[o++] = '\\';
                        dst[o++] = 'x';
                        dst[o++] = hex[*p >> 4];
                        dst[o++] = hex[*p & 0xf];
                } else {
                        if (o + 1 >= size)
                                break;
                        dst[o++] = (char)*p;
                }
        }
        dst[o] = '\0';
}

int
nvh_err_set(struct nvh_err *err, int code, const char *fmt, ...)
{
        char raw[NVH_ERR_MSG_MAX];
        va_list ap;

        if (code > 0)
                code = -code;
        if (code == 0)
                code = -EIO;
        if (!err)
                return code;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(raw, sizeof(raw), fmt, ap);
        va_end(ap);
        nvh_err_escape(raw, err->msg, sizeof(err->msg));
        return code;
}

static int __attribute__((format(printf, 3, 0)))
err_vsys(struct nvh_err *err, int code, const char *fmt, va_list ap)
{
        char what[NVH_ERR_MSG_MAX];

        if (code > 0)
                code = -code;
        if (code == 0)
                code = -EIO;
        vsnprintf(what, sizeof(what), fmt, ap);
        return nvh_err_set(err, code, "%.400s: %s", what, strerror(-code));
}

int
nvh_err_errno(struct nvh_err *err, const char *fmt, ...)
{
        int code = -errno;
        va_list ap;

        va_start(ap, fmt);
        code = err_vsys(err, code, fmt, ap);
        va_end(ap);
        return code;
}

int
nvh_err_sys(struct nvh_err *err, int code, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        code = err_vsys(err, code, fmt, ap);
        va_end(ap);
        return code;
}

int
nvh_err_prefix(struct nvh_err *err, const char *fmt, ...)
{
        char raw[NVH_ERR_MSG_MAX], prefix[NVH_ERR_MSG_MAX];
        size_t plen, mlen;
        va_list ap;

        if (!err)
                return -EIO;
        va_start(ap, fmt);
        vsnprintf(raw, sizeof(raw), fmt, ap);
        va_end(ap);
        nvh_err_escape(raw, prefix, sizeof(prefix));
        /* "<prefix>: <old message>", truncated at the end when too long. */
        plen = strnlen(prefix, sizeof(err->msg) - 3);
        mlen = strnlen(err->msg, sizeof(err->msg) - 1);
        if (plen + 2 + mlen > sizeof(err->msg) - 1)
                mlen = sizeof(err->msg) - 1 - plen - 2;
        memmove(err->msg + plen + 2, err->msg, mlen);
        memcpy(err->msg, prefix, plen);
        err->msg[plen] = ':';
        err->msg[plen + 1] = ' ';
        err->msg[plen + 2 + mlen] = '\0';
        if (err->code == 0)
                err->code = -EIO;
        return err->code;
}

void
nvh_err_clear(struct nvh_err *err)
{
        if (!err)
                return;
        err->code = 0;
        err->msg[0] = '\0';
}
