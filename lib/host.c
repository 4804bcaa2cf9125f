/* SPDX-License-Identifier: Apache-2.0 */
#include "host.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fileio.h"
#include "macros.h"

struct nvh_host *
nvh_host_new(const char *host_dev)
{
        struct nvh_host *host = calloc(1, sizeof(*host));

        if (!host)
                return NULL;
        host->host_dev = strdup(host_dev ? host_dev : "/dev");
        if (!host->host_dev) {
                free(host);
                return NULL;
        }
        return host;
}

void
nvh_host_free(struct nvh_host *host)
{
        if (!host)
                return;
        free(host->nodes);
        free(host->host_dev);
        free(host);
}

static struct nvh_host_node *
find_node(const struct nvh_host *host, const char *name)
{
        for (size_t i = 0; i < host->n_nodes; i++)
                if (streq(host->nodes[i].name, name))
                        return &host->nodes[i];
        return NULL;
}

const struct nvh_host_node *
nvh_host_find(const struct nvh_host *host, const char *name)
{
        return find_node(host, name);
}

static int
add_entry(struct nvh_host *host, const char *name, struct nvh_host_node **ret, struct nvh_err *err)
{
        struct nvh_host_node *node = find_node(host, name);

        if (strlen(name) >= NVH_HOST_NAME_MAX)
                return nvh_err_set(err, -ENAMETOOLONG, "device node '%s/%s': name too long",
                                   host->host_dev, name);
        if (!node) {
                if (host->n_nodes == host->cap_nodes) {
                        size_t ncap = host->cap_nodes ? host->cap_nodes * 2 : 32;
                        struct nvh_host_node *nn;

                        if (host->n_nodes >= NVH_HOST_MAX_NODES)
                                return nvh_err_set(err, -E2BIG,
                                                   "'%s': more than %d nvidia device nodes",
                                                   host->host_dev, NVH_HOST_MAX_NODES);
                        nn = realloc(host->nodes, ncap * sizeof(*nn));
                        if (!nn)
                                return nvh_err_set(err, -ENOMEM, "out of memory");
                        host->nodes = nn;
                        host->cap_nodes = ncap;
                }
                node = &host->nodes[host->n_nodes++];
        }
        memset(node, 0, sizeof(*node));
        snprintf(node->name, sizeof(node->name), "%s", name);
        *ret = node;
        return 0;
}

int
nvh_host_add_node(struct nvh_host *host, const char *name, mode_t mode, unsigned major,
                  unsigned minor, struct nvh_err *err)
{
        struct nvh_host_node *node;
        int r = add_entry(host, name, &node, err);

        if (r < 0)
                return r;
        node->mode = mode;
        node->major = major;
        node->minor = minor;
        return 0;
}

/* One entry of a scanned directory: stat'ed through dir_fd, following a symlink (the host's
 * /dev is trusted: root's). A dangling entry is left out; any other failure is kept on the
 * node, for the plan to report if it needs the node. */
static int
scan_entry(struct nvh_host *host, int dir_fd, const char *rel_dir, const char *name,
           struct nvh_err *err)
{
        char rel[NVH_HOST_NAME_MAX * 2];
        struct nvh_host_node *node;
        struct stat st;
        int r, e = 0;

        if (fstatat(dir_fd, name, &st, 0) < 0) {
                e = errno;
                if (e == ENOENT)
                        return 0;
        }
        snprintf(rel, sizeof(rel), "%s%s%s", rel_dir, *rel_dir ? "/" : "", name);
        r = add_entry(host, rel, &node, err);
        if (r < 0)
                return r;
        node->error = -e;
        if (e == 0) {
                node->mode = st.st_mode;
                node->major = major(st.st_rdev);
                node->minor = minor(st.st_rdev);
        }
        return 0;
}

static int
scan_dir(struct nvh_host *host, int parent_fd, const char *rel_dir, struct nvh_err *err)
{
        _cleanup_close_ int fd = -1;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        fd = openat(parent_fd, *rel_dir ? rel_dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return 0;
                return nvh_err_errno(err, "open '%s/%s'", host->host_dev, rel_dir);
        }
        d = fdopendir(fd);
        if (!d)
                return nvh_err_errno(err, "open '%s/%s'", host->host_dev, rel_dir);
        fd = -1; /* owned by d */
        while ((errno = 0, de = readdir(d))) {
                bool sub = !*rel_dir && (streq(de->d_name, "nvidia-caps") ||
                                         streq(de->d_name, NVH_HOST_IMEX_DIR));

                if (de->d_name[0] == '.' || (!*rel_dir && strncmp(de->d_name, "nvidia", 6) != 0))
                        continue;
                if (strlen(de->d_name) >= NVH_HOST_NAME_MAX)
                        continue; /* no name the plan asks for */
                r = sub ? scan_dir(host, dirfd(d), de->d_name, err)
                        : scan_entry(host, dirfd(d), rel_dir, de->d_name, err);
                if (r < 0)
                        return r;
        }
        if (errno != 0)
                return nvh_err_errno(err, "read '%s/%s'", host->host_dev, rel_dir);
        return 0;
}

/* Trusts: the host's dev root (root's). Reads names and stat results only; opens no node. */
int
nvh_host_scan(const char *host_dev, struct nvh_host **ret_host, struct nvh_err *err)
{
        _cleanup_host_ struct nvh_host *host = nvh_host_new(host_dev);
        _cleanup_close_ int dev_fd = -1;
        int r;

        if (!host)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        dev_fd = open(host->host_dev, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dev_fd < 0) {
                if (errno != ENOENT)
                        return nvh_err_errno(err, "open '%s'", host->host_dev);
        } else {
                r = scan_dir(host, dev_fd, "", err);
                if (r < 0)
                        return r;
        }
        *ret_host = TAKE_PTR(host);
        return 0;
}
