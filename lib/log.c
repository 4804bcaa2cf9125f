/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include "err.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static enum nvh_log_level current_level = NVH_LOG_WARN;

/* The process's one log: one short-lived process, one container. */
static struct {
        int fd;      /* connected datagram socket, -1: none */
        int file_fd; /* every line also here, -1: none */
        char context[128];
        char *warnings[NVH_LOG_WARNINGS_MAX];
        size_t n_warnings;
} sink = {.fd = -1, .file_fd = -1};

void
nvh_log_set_level(enum nvh_log_level level)
{
        current_level = level;
}

void
nvh_log_syslog_open(const char *socket_path, const char *context)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};

        snprintf(sink.context, sizeof(sink.context), "%s", context ? context : "");
        if (sink.fd >= 0 || !socket_path || !*socket_path ||
            strlen(socket_path) >= sizeof(sa.sun_path))
                return;
        memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
        sink.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (sink.fd >= 0 && connect(sink.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                close(sink.fd);
                sink.fd = -1;
        }
}

/* RFC 3164 without a timestamp (the daemon adds it): "<PRI>nvhook[PID]: [context: ]msg",
 * facility daemon. A full or absent log daemon never blocks nor fails the hook. */
static void
to_syslog(enum nvh_log_level level, const char *msg)
{
        char line[1200];
        int pri = 3 * 8 + (level == NVH_LOG_ERROR ? 3 : 4);
        int n;

        if (sink.fd < 0)
                return;
        n = snprintf(line, sizeof(line), "<%d>nvhook[%d]: %s%s%s", pri, (int)getpid(), sink.context,
                     sink.context[0] ? ": " : "", msg);
        if (n > 0)
                (void)!send(sink.fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1,
                            MSG_DONTWAIT | MSG_NOSIGNAL);
}

void
nvh_log_set_file(int fd)
{
        sink.file_fd = fd;
}

static void
to_file(const char *level, const char *msg)
{
        char line[1200];
        struct timespec ts;
        int n;

        if (sink.file_fd < 0)
                return;
        clock_gettime(CLOCK_REALTIME, &ts);
        n = snprintf(line, sizeof(line), "%lld.%06ld nvhook[%d]: %s: %s\n", (long long)ts.tv_sec,
                     ts.tv_nsec / 1000, (int)getpid(), level, msg);
        if (n > 0)
                (void)!write(sink.file_fd, line,
                             (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void
nvh_log_syslog_error(const char *msg)
{
        to_syslog(NVH_LOG_ERROR, msg);
        to_file("error", msg);
}

size_t
nvh_log_warnings(const char *const **ret)
{
        *ret = (const char *const *)sink.warnings;
        return sink.n_warnings;
}

void
nvh_log(enum nvh_log_level level, const char *fmt, ...)
{
        static const char *const names[] = {"error", "warning", "info", "debug"};
        char raw[1024], line[1024];
        va_list ap;

        /* Debug and info lines nobody reads cost nothing. */
        if (level > NVH_LOG_WARN && level > current_level && sink.file_fd < 0)
                return;
        va_start(ap, fmt);
        vsnprintf(raw, sizeof(raw), fmt, ap);
        va_end(ap);
        nvh_err_escape(raw, line, sizeof(line));
        if (level == NVH_LOG_WARN && sink.n_warnings < NVH_LOG_WARNINGS_MAX) {
                char *copy = strdup(line);
                if (copy)
                        sink.warnings[sink.n_warnings++] = copy;
        }
        if (level <= NVH_LOG_WARN)
                to_syslog(level, line);
        to_file(names[level], line);
        if (level > current_level)
                return;
        /* One write per line so concurrent hooks do not interleave mid-line. */
        fprintf(stderr, "nvhook: %s: %s\n", names[level], line);
}

unsigned long long
nvh_log_now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}
