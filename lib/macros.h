/* SPDX-License-Identifier: Apache-2.0 */
/* Cleanup attributes and ownership helpers (systemd style). */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void
freep(void *p)
{
        free(*(void **)p);
}

static inline void
closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

static inline void
fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

static inline void
closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

/* A child that must not outlive its owner: killed and reaped unless handed out (TAKE_PID). */
static inline void
killwaitp(pid_t *pid)
{
        if (*pid > 0) {
                int saved = errno;
                kill(*pid, SIGKILL);
                while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                errno = saved;
        }
}

static inline void
strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

static inline void
strv_freep(char ***v)
{
        strv_free(*v);
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)
#define _cleanup_pid_ _cleanup_(killwaitp)
#define _cleanup_strv_ _cleanup_(strv_freep)

/* Hand a pointer out of a _cleanup_ variable. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _tp = (p);                                                           \
                (p) = NULL;                                                                        \
                _tp;                                                                               \
        })

/* Hand an fd out of a _cleanup_close_ variable. */
#define TAKE_FD(fd)                                                                                \
        ({                                                                                         \
                int _tf = (fd);                                                                    \
                (fd) = -1;                                                                         \
                _tf;                                                                               \
        })

/* Hand a child out of a _cleanup_pid_ variable (after it was reaped, or to keep it). */
#define TAKE_PID(pid)                                                                              \
        ({                                                                                         \
                pid_t _tp = (pid);                                                                 \
                (pid) = 0;                                                                         \
                _tp;                                                                               \
        })

#define streq(a, b) (strcmp((a), (b)) == 0)
