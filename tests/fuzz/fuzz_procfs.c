/* SPDX-License-Identifier: Apache-2.0 */
/* The driver's procfs files (lib/gpus.c). Its parsers read files below a proc directory, so
 * the input is written into a private tree: the chunks between NUL bytes become, in order,
 * devices, driver/nvidia/version, driver/nvidia/params,
 * driver/nvidia/gpus/0000:00:06.0/information, driver/nvidia/capabilities/mig/config and
 * driver/nvidia/capabilities/gpu0/mig/gi1/access (a missing chunk: the file is absent). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpus.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const files[] = {
    "devices",
    "driver/nvidia/version",
    "driver/nvidia/params",
    "driver/nvidia/gpus/0000:00:06.0/information",
    "driver/nvidia/capabilities/mig/config",
    "driver/nvidia/capabilities/gpu0/mig/gi1/access",
};

static char root[256];

static void
mkdirs(const char *rel)
{
        char path[512], *s;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        for (s = path + strlen(root) + 1; (s = strchr(s, '/')); s++) {
                *s = '\0';
                mkdir(path, 0755);
                *s = '/';
        }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

        snprintf(root, sizeof(root), "%s/nvh-fuzz-proc-%d", base, (int)getpid());
        mkdir(root, 0700);
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
                mkdirs(files[i]);
        return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct nvh_err err = {0};
        struct nvh_system *sys = NULL;
        size_t off = 0;
        char path[512];

        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                const uint8_t *nul;
                size_t n;
                int fd;

                snprintf(path, sizeof(path), "%s/%s", root, files[i]);
                unlink(path);
                if (off > size || (off == size && i > 0))
                        continue;
                nul = memchr(data + off, '\0', size - off);
                n = nul ? (size_t)(nul - (data + off)) : size - off;
                fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0 || write(fd, data + off, n) != (ssize_t)n)
                        abort();
                close(fd);
                off += n + 1;
        }
        if (nvh_gpus_discover(root, &sys, &err) == 0)
                (void)nvh_gpus_load_all(sys, &err);
        nvh_gpus_free(sys);
        return 0;
}
