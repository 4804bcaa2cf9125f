/* SPDX-License-Identifier: Apache-2.0 */
#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int
nvh_err_set(struct nvh_err *err, int code, const char *fmt, ...)
{
        va_list ap;

        if (code > 0)
                code = -code;
        if (code == 0)
                code = -EIO;
        if (!err)
                return code;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        /* Keep messages on one line whatever the input held. */
        for (char *p = err->msg; *p; p++)
                if (*p == '\n' || *p == '\r')
                        *p = ' ';
        return code;
}

static int
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
        char prefix[NVH_ERR_MSG_MAX];
        size_t plen, mlen;
        va_list ap;

        if (!err)
                return -EIO;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
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
