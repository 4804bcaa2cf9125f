/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "devbpf.h"
#include "fileio.h"
#include "log.h"
#include "macros.h"

#define PROC_CGROUP_MAX (64u * 1024u)
#define MOUNTINFO_MAX (8u * 1024u * 1024u)
#define MAX_ATTACHED 64u /* BPF_CGROUP_MAX_PROGS */

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif

struct cand {
        char *host_path;
        dev_t dev;
};

static void
cands_free(struct cand *c, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(c[i].host_path);
        free(c);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static bool
unescape(char *s)
{
        char *w = s;

        for (char *r = s; *r;) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
                    r[3] >= '0' && r[3] <= '7') {
                        char c = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
                        if (c == '\0')
                                return false;
                        *w++ = c;
                        r += 4;
                } else {
                        *w++ = *r++;
                }
        }
        *w = '\0';
        return true;
}

static bool
list_has(const char *list, size_t len, const char *item)
{
        size_t il = strlen(item);

        for (const char *p = list, *end = list + len; p < end;) {
                const char *c = memchr(p, ',', (size_t)(end - p));
                size_t l = c ? (size_t)(c - p) : (size_t)(end - p);
                if (l == il && memcmp(p, item, il) == 0)
                        return true;
                p += l + 1;
        }
        return false;
}

/* The cgroup path of the wanted hierarchy in /proc/<pid>/cgroup ("id:controllers:path"). */
static int
proc_cgroup_path(const char *text, enum nvh_cgroup_mode mode, char **ret, struct nvh_err *err)
{
        for (const char *line = text; *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);
                const char *c1 = memchr(line, ':', len);
                const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;

                if (c2) {
                        const char *path = c2 + 1;
                        size_t plen = len - (size_t)(path - line);
                        bool match;

                        if (mode == NVH_CGROUP_V1)
                                match = list_has(c1 + 1, (size_t)(c2 - c1 - 1), "devices");
                        else
                                match = c1 - line == 1 && line[0] == '0' && c2 == c1 + 1;
                        if (match) {
                                char *p = strndup(path, plen);
                                if (!p)
                                        return nvh_err_set(err, -ENOMEM, "out of memory");
                                *ret = p;
                                return 0;
                        }
                }
                line += len + (nl ? 1 : 0);
        }
        return nvh_err_set(err, -ENOENT, "no %s line in the process's cgroup file",
                           mode == NVH_CGROUP_V1 ? "devices controller" : "cgroup2");
}

static int
check_cgroup_path(const char *path, struct nvh_err *err)
{
        size_t len = strlen(path);
        static const char deleted[] = " (deleted)";

        if (path[0] != '/')
                return nvh_err_set(err, -EINVAL, "bad cgroup path '%s'", path);
        if (strstr(path, "/../") || (len >= 3 && streq(path + len - 3, "/..")))
                return nvh_err_set(err, -EXDEV,
                                   "cgroup path '%s' is outside the hook's cgroup namespace", path);
        if (len >= sizeof(deleted) - 1 && streq(path + len - (sizeof(deleted) - 1), deleted))
                return nvh_err_set(err, -ENOENT, "cgroup '%s' was deleted", path);
        return 0;
}

/* Every mount of the hierarchy whose root contains cg_path, last mounted first. */
static int
collect(const char *proc_cgroup, const char *mountinfo, enum nvh_cgroup_mode mode,
        struct cand **ret, size_t *ret_n, struct nvh_err *err)
{
        _cleanup_free_ char *cg_path = NULL;
        _cleanup_free_ char *mi = NULL;
        struct cand *cands = NULL;
        size_t n = 0, seen = 0;
        char *save = NULL;
        int r;

        r = proc_cgroup_path(proc_cgroup, mode, &cg_path, err);
        if (r < 0)
                return r;
        r = check_cgroup_path(cg_path, err);
        if (r < 0)
                return r;
        mi = strdup(mountinfo);
        if (!mi)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        for (char *line = strtok_r(mi, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[64], *fs = NULL, *tok, *lsave = NULL;
                size_t nf = 0, sep = 0;
                unsigned maj, min;

                for (tok = strtok_r(line, " ", &lsave); tok && nf < ARRAY_SIZE(f);
                     tok = strtok_r(NULL, " ", &lsave))
                        f[nf++] = tok;
                for (size_t i = 6; i < nf; i++)
                        if (streq(f[i], "-")) {
                                sep = i;
                                break;
                        }
                if (sep == 0 || sep + 3 >= nf)
                        continue;
                fs = f[sep + 1];
                if (mode == NVH_CGROUP_V1) {
                        if (!streq(fs, "cgroup") ||
                            !list_has(f[sep + 3], strlen(f[sep + 3]), "devices"))
                                continue;
                } else if (!streq(fs, "cgroup2")) {
                        continue;
                }
                seen++;
                if (sscanf(f[2], "%u:%u", &maj, &min) != 2 || !unescape(f[3]) || !unescape(f[4]))
                        continue;
                const char *root = f[3], *rel;
                size_t rl = strlen(root);
                if (streq(root, "/"))
                        rel = cg_path + 1;
                else if (strncmp(cg_path, root, rl) == 0 &&
                         (cg_path[rl] == '\0' || cg_path[rl] == '/'))
                        rel = cg_path + rl + (cg_path[rl] == '/');
                else
                        continue;
                char *host = *rel ? nvh_fileio_path_join(f[4], rel) : strdup(f[4]);
                struct cand *nc = reallocarray(cands, n + 1, sizeof(*cands));
                if (!host || !nc) {
                        free(host);
                        cands_free(nc ? nc : cands, n);
                        return nvh_err_set(err, -ENOMEM, "out of memory");
                }
                cands = nc;
                cands[n].host_path = host;
                cands[n].dev = makedev(maj, min);
                n++;
        }
        if (n == 0) {
                free(cands);
                if (seen)
                        return nvh_err_set(err, -EXDEV,
                                           "cgroup '%s' is outside every mount of its hierarchy",
                                           cg_path);
                return nvh_err_set(err, -ENOENT, "no %s hierarchy mounted",
                                   mode == NVH_CGROUP_V1 ? "devices cgroup" : "cgroup2");
        }
        for (size_t i = 0; i < n / 2; i++) {
                struct cand t = cands[i];
                cands[i] = cands[n - 1 - i];
                cands[n - 1 - i] = t;
        }
        *ret = cands;
        *ret_n = n;
        return 0;
}

int
nvh_cgroup_resolve(const char *proc_cgroup, const char *mountinfo, enum nvh_cgroup_mode mode,
                   char **ret_host_path, struct nvh_err *err)
{
        struct cand *cands = NULL;
        size_t n = 0;
        int r;

        if (mode != NVH_CGROUP_V1 && mode != NVH_CGROUP_V2)
                return nvh_err_set(err, -EINVAL, "bad cgroup mode '%d'", (int)mode);
        r = collect(proc_cgroup, mountinfo, mode, &cands, &n, err);
        if (r < 0)
                return r;
        *ret_host_path = TAKE_PTR(cands[0].host_path);
        cands_free(cands, n);
        return 0;
}

/* Trusts the hook's own mount table; verifies that the directory it opens is on the mount
 * mountinfo named (st_dev) and is a cgroup filesystem of the right version, so an overmounted
 * or hidden hierarchy is skipped rather than written to. */
static int
open_mode(const char *proc_cgroup, const char *mountinfo, enum nvh_cgroup_mode mode,
          struct nvh_cgroup **ret, struct nvh_err *err)
{
        struct cand *cands = NULL;
        size_t n = 0;
        int r;

        r = collect(proc_cgroup, mountinfo, mode, &cands, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int dir_fd = -1;
                struct statfs sfs;
                struct stat st;
                struct nvh_cgroup *cg;

                dir_fd = open(cands[i].host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (dir_fd < 0) {
                        nvh_err_errno(err, "open cgroup '%s'", cands[i].host_path);
                        continue;
                }
                if (fstat(dir_fd, &st) < 0 || fstatfs(dir_fd, &sfs) < 0 ||
                    st.st_dev != cands[i].dev ||
                    (unsigned long)sfs.f_type !=
                        (mode == NVH_CGROUP_V1 ? CGROUP_SUPER_MAGIC : CGROUP2_SUPER_MAGIC)) {
                        nvh_err_set(err, -ENOENT, "cgroup '%s' is hidden by another mount",
                                    cands[i].host_path);
                        continue;
                }
                cg = calloc(1, sizeof(*cg));
                if (!cg) {
                        cands_free(cands, n);
                        return nvh_err_set(err, -ENOMEM, "out of memory");
                }
                cg->mode = mode;
                cg->host_path = TAKE_PTR(cands[i].host_path);
                cg->dir_fd = TAKE_FD(dir_fd);
                cands_free(cands, n);
                *ret = cg;
                return 0;
        }
        cands_free(cands, n);
        return err ? err->code : -ENOENT;
}

int
nvh_cgroup_find(pid_t pid, enum nvh_cgroup_mode want, struct nvh_cgroup **ret, struct nvh_err *err)
{
        _cleanup_free_ char *proc_cgroup = NULL;
        _cleanup_free_ char *mountinfo = NULL;
        char path[64];
        int r;

        if (want == NVH_CGROUP_NONE) {
                struct nvh_cgroup *cg = calloc(1, sizeof(*cg));
                if (!cg)
                        return nvh_err_set(err, -ENOMEM, "out of memory");
                cg->mode = NVH_CGROUP_NONE;
                cg->dir_fd = -1;
                *ret = cg;
                return 0;
        }
        if (pid <= 0)
                return nvh_err_set(err, -EINVAL, "bad pid '%d'", (int)pid);
        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
        r = nvh_fileio_read_at(AT_FDCWD, path, PROC_CGROUP_MAX, 1, &proc_cgroup, NULL, err);
        if (r < 0)
                return r;
        r = nvh_fileio_read_at(AT_FDCWD, "/proc/self/mountinfo", MOUNTINFO_MAX, 1, &mountinfo, NULL,
                               err);
        if (r < 0)
                return r;
        r = open_mode(proc_cgroup, mountinfo, want == NVH_CGROUP_V2 ? NVH_CGROUP_V2 : NVH_CGROUP_V1,
                      ret, err);
        if (r < 0 && want == NVH_CGROUP_AUTO) {
                nvh_log_debug("pid %d: no usable devices cgroup v1 (%s), trying cgroup2", (int)pid,
                              err ? err->msg : "");
                nvh_err_clear(err);
                r = open_mode(proc_cgroup, mountinfo, NVH_CGROUP_V2, ret, err);
        }
        if (r < 0)
                return nvh_err_prefix(err, "find cgroup of pid %d", (int)pid);
        nvh_log_debug("pid %d: cgroup %s '%s'", (int)pid,
                      (*ret)->mode == NVH_CGROUP_V1 ? "v1" : "v2", (*ret)->host_path);
        return 0;
}

static int
convert_rule(const struct nvh_cgroup_rule *in, struct nvh_devbpf_rule *out, struct nvh_err *err)
{
        unsigned acc = 0;

        switch (in->type) {
        case 'c':
                out->type = NVH_DEVBPF_TYPE_CHAR;
                break;
        case 'b':
                out->type = NVH_DEVBPF_TYPE_BLOCK;
                break;
        case 'a':
                if (in->major != NVH_CGROUP_ANY || in->minor != NVH_CGROUP_ANY)
                        return nvh_err_set(err, -EINVAL, "device type 'a' with a major or minor");
                out->type = NVH_DEVBPF_TYPE_ANY;
                break;
        default:
                return nvh_err_set(err, -EINVAL, "bad device type '%c'",
                                   in->type > ' ' && in->type < 127 ? in->type : '?');
        }
        if (!in->access || !in->access[0] || strlen(in->access) > 3)
                return nvh_err_set(err, -EINVAL, "bad device access '%s'",
                                   in->access ? in->access : "(null)");
        for (const char *p = in->access; *p; p++) {
                unsigned bit = *p == 'r'   ? BPF_DEVCG_ACC_READ
                               : *p == 'w' ? BPF_DEVCG_ACC_WRITE
                               : *p == 'm' ? BPF_DEVCG_ACC_MKNOD
                                           : 0;
                if (!bit || (acc & bit))
                        return nvh_err_set(err, -EINVAL, "bad device access '%s'", in->access);
                acc |= bit;
        }
        out->major = in->major;
        out->minor = in->minor;
        out->access = acc;
        return nvh_devbpf_rule_check(out, err);
}

static int
grant_v1(const struct nvh_cgroup *cg, const struct nvh_devbpf_rule *rules,
         const struct nvh_cgroup_rule *in, size_t n, struct nvh_err *err)
{
        _cleanup_close_ int fd = -1;

        fd = openat(cg->dir_fd, "devices.allow", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return nvh_err_errno(err, "open '%s/devices.allow'", cg->host_path);
        for (size_t i = 0; i < n; i++) {
                char lines[2][64], maj[16], min[16];
                int nlines = 1, r;

                if (rules[i].major == NVH_DEVBPF_ANY)
                        snprintf(maj, sizeof(maj), "*");
                else
                        snprintf(maj, sizeof(maj), "%u", rules[i].major);
                if (rules[i].minor == NVH_DEVBPF_ANY)
                        snprintf(min, sizeof(min), "*");
                else
                        snprintf(min, sizeof(min), "%u", rules[i].minor);
                if (rules[i].type != NVH_DEVBPF_TYPE_ANY) {
                        snprintf(lines[0], sizeof(lines[0]), "%c %s:%s %s", in[i].type, maj, min,
                                 in[i].access);
                } else {
                        /* "a" would switch the cgroup to allow-all and drop its exceptions,
                         * whatever access follows; say exactly what was asked instead. */
                        snprintf(lines[0], sizeof(lines[0]), "c *:* %s", in[i].access);
                        snprintf(lines[1], sizeof(lines[1]), "b *:* %s", in[i].access);
                        nlines = 2;
                }
                for (int l = 0; l < nlines; l++) {
                        /* The kernel takes exactly one rule per write. */
                        r = nvh_fileio_write_all(fd, lines[l], strlen(lines[l]));
                        if (r < 0)
                                return nvh_err_sys(err, r, "write '%s' to '%s/devices.allow'",
                                                   lines[l], cg->host_path);
                        nvh_log_debug("cgroup v1 '%s': allowed '%s'", cg->host_path, lines[l]);
                }
        }
        return 0;
}

/* Replace one attached program by our rules + its own instructions. Returns 1 when it was
 * replaced, 0 when it already allowed every rule. */
static int
grant_v2_one(const struct nvh_cgroup *cg, unsigned id, unsigned flags,
             const struct nvh_devbpf_rule *rules, size_t n, struct nvh_err *err)
{
        _cleanup_free_ struct bpf_insn *old = NULL;
        _cleanup_free_ struct bpf_insn *new = NULL;
        _cleanup_close_ int old_fd = -1;
        _cleanup_close_ int new_fd = -1;
        size_t old_len = 0, new_len = 0;
        unsigned type = 0;
        int r;

        old_fd = nvh_devbpf_prog_fd(id, err);
        if (old_fd < 0)
                return old_fd;
        r = nvh_devbpf_prog_xlated(old_fd, &old, &old_len, &type, err);
        if (r < 0)
                return r;
        if (type != BPF_PROG_TYPE_CGROUP_DEVICE)
                return nvh_err_set(err, -EINVAL,
                                   "bpf program id '%u' has type '%u', not a device "
                                   "program",
                                   id, type);
        r = nvh_devbpf_compose(rules, n, old, old_len, &new, &new_len, err);
        if (r < 0)
                return nvh_err_prefix(err, "compose with bpf program id '%u'", id);
        if (r == 0) {
                nvh_log_debug("cgroup v2 '%s': program id %u already allows the devices",
                              cg->host_path, id);
                return 0;
        }
        new_fd = nvh_devbpf_load(new, new_len, err);
        if (new_fd < 0)
                return nvh_err_prefix(err, "replace bpf program id '%u'", id);
        if (flags & BPF_F_ALLOW_MULTI)
                r = nvh_devbpf_attach(cg->dir_fd, new_fd, BPF_F_ALLOW_MULTI, old_fd, err);
        else
                r = nvh_devbpf_attach(cg->dir_fd, new_fd, flags, -1, err);
        if (r == -ENOENT && (flags & BPF_F_ALLOW_MULTI))
                return nvh_err_prefix(err,
                                      "replace bpf program id '%u' at '%s' (detached "
                                      "meanwhile, or attached through a bpf link?)",
                                      id, cg->host_path);
        if (r < 0)
                return nvh_err_prefix(err, "replace bpf program id '%u' at '%s'", id,
                                      cg->host_path);
        nvh_log_debug("cgroup v2 '%s': replaced program id %u (%zu insns) by %zu insns",
                      cg->host_path, id, old_len, new_len);
        return 1;
}

/* Trusts the programs the runtime attached (we re-load their own instructions after ours, so
 * they keep denying what they denied); verifies every instruction is relocatable before
 * loading; guarantees each swap is atomic and that the set of allowed accesses only grows. */
static int
grant_v2(const struct nvh_cgroup *cg, const struct nvh_devbpf_rule *rules, size_t n,
         struct nvh_err *err)
{
        unsigned ids[MAX_ATTACHED], flags = 0;
        int count, replaced = 0, r;

        count = nvh_devbpf_query(cg->dir_fd, false, ids, ARRAY_SIZE(ids), &flags, err);
        if (count < 0)
                return nvh_err_prefix(err, "cgroup '%s'", cg->host_path);
        if (count == 0) {
                unsigned eff[MAX_ATTACHED];
                int ecount = nvh_devbpf_query(cg->dir_fd, true, eff, ARRAY_SIZE(eff), NULL, NULL);
                nvh_log_debug("cgroup v2 '%s': no device program attached, no device restriction "
                              "to extend (%d inherited), adding none",
                              cg->host_path, ecount);
                return 0;
        }
        if (!(flags & BPF_F_ALLOW_MULTI) && count != 1)
                return nvh_err_set(err, -EINVAL,
                                   "cgroup '%s': %d device programs without "
                                   "multi-attach",
                                   cg->host_path, count);
        for (int i = 0; i < count; i++) {
                r = grant_v2_one(cg, ids[i], flags, rules, n, err);
                if (r < 0)
                        return r;
                replaced += r;
        }
        return replaced;
}

int
nvh_cgroup_grant(const struct nvh_cgroup *cg, const struct nvh_cgroup_rule *rules, size_t n,
                 struct nvh_err *err)
{
        _cleanup_free_ struct nvh_devbpf_rule *conv = NULL;
        int r;

        if (!cg || cg->mode == NVH_CGROUP_NONE || n == 0)
                return 0;
        if (n > NVH_DEVBPF_MAX_RULES)
                return nvh_err_set(err, -E2BIG, "too many device rules '%zu' (limit %u)", n,
                                   NVH_DEVBPF_MAX_RULES);
        if (cg->dir_fd < 0)
                return nvh_err_set(err, -EBADF, "cgroup '%s' is not open",
                                   cg->host_path ? cg->host_path : "");
        conv = calloc(n, sizeof(*conv));
        if (!conv)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                r = convert_rule(&rules[i], &conv[i], err);
                if (r < 0)
                        return r;
        }
        if (cg->mode == NVH_CGROUP_V1)
                return grant_v1(cg, conv, rules, n, err);
        if (cg->mode == NVH_CGROUP_V2)
                return grant_v2(cg, conv, n, err);
        return nvh_err_set(err, -EINVAL, "bad cgroup mode '%d'", (int)cg->mode);
}

void
nvh_cgroup_free(struct nvh_cgroup *cg)
{
        if (!cg)
                return;
        if (cg->dir_fd >= 0)
                close(cg->dir_fd);
        free(cg->host_path);
        free(cg);
}
