/* SPDX-License-Identifier: Apache-2.0 */
/* Component test of lib/cgroup (root): real cgroups, real device programs, a real child
 * process whose open()/mknod() of device nodes the kernel allows or denies.
 *
 * Device nodes c 195:0 and c 195:1 are made in a temp dir. With no NVIDIA driver, an open
 * that passes the device cgroup fails with ENXIO; one that the cgroup denies fails with
 * EPERM. /dev/null (c 1:3) opens.
 *
 *  1. resolution of /proc/<pid>/cgroup + mountinfo texts (no root needed);
 *  2. cgroup v1: a devices cgroup that denies all, then grant;
 *  3. cgroup v2 (in a private mount namespace with cgroup2 mounted on /sys/fs/cgroup):
 *     a runtime-like program attached with BPF_F_ALLOW_MULTI, then with flags 0; two
 *     multi programs; no program at all. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "devbpf.h"
#include "err.h"
#include "log.h"
#include "macros.h"

static int failures;
static char tmpdir[64];
static char node0[128], node1[128], nodem[128];

#define CHECK(cond, ...)                                                                           \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);            \
                        fprintf(stderr, __VA_ARGS__);                                              \
                        fprintf(stderr, "\n");                                                     \
                        failures++;                                                                \
                }                                                                                  \
        } while (0)

/* ---- 1. resolution ------------------------------------------------------------------- */

static void
expect_resolve(const char *cg, const char *mi, enum nvh_cgroup_mode mode, int want_rc,
               const char *want_path)
{
        struct nvh_err err = {0};
        char *path = NULL;
        int r = nvh_cgroup_resolve(cg, mi, mode, &path, &err);

        CHECK(r == want_rc, "resolve rc %d (%s), want %d", r, err.msg, want_rc);
        if (r == 0 && want_path)
                CHECK(path && streq(path, want_path), "path '%s', want '%s'", path, want_path);
        free(path);
}

static void
test_resolve(void)
{
        const char *hybrid_cg = "9:name=systemd:/\n5:devices:/docker/abc\n4:cpu,cpuacct:/x\n"
                                "0::/docker/abc\n";
        const char *hybrid_mi =
            "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
            "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
            "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime shared:9 - cgroup cgroup "
            "rw,devices\n"
            "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

        expect_resolve(hybrid_cg, hybrid_mi, NVH_CGROUP_V1, 0, "/sys/fs/cgroup/devices/docker/abc");
        expect_resolve(hybrid_cg, hybrid_mi, NVH_CGROUP_V2, 0, "/sys/fs/cgroup/unified/docker/abc");
        /* v2 only, cgroup2 directly on /sys/fs/cgroup */
        expect_resolve("0::/system.slice/docker-1.scope\n",
                       "30 1 0:26 / /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw,nsdelegate\n",
                       NVH_CGROUP_V2, 0, "/sys/fs/cgroup/system.slice/docker-1.scope");
        expect_resolve("0::/\n", "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
                       NVH_CGROUP_V2, 0, "/sys/fs/cgroup");
        expect_resolve("0::/a\n", "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
                       NVH_CGROUP_V1, -ENOENT, NULL);
        /* a mount of a subtree (e.g. inside a cgroup namespace or a bind mount) */
        expect_resolve("0::/kubepods/pod1/c1\n",
                       "30 1 0:26 /kubepods /mnt/kp rw - cgroup2 cgroup2 rw\n", NVH_CGROUP_V2, 0,
                       "/mnt/kp/pod1/c1");
        expect_resolve("0::/kubepods\n", "30 1 0:26 /kubepods /mnt/kp rw - cgroup2 cgroup2 rw\n",
                       NVH_CGROUP_V2, 0, "/mnt/kp");
        expect_resolve("0::/kubepodsX/a\n", "30 1 0:26 /kubepods /mnt/kp rw - cgroup2 cgroup2 rw\n",
                       NVH_CGROUP_V2, -EXDEV, NULL);
        /* the later of two mounts wins (it may hide the earlier one) */
        expect_resolve("0::/a\n",
                       "30 1 0:26 / /first rw - cgroup2 cgroup2 rw\n"
                       "31 1 0:26 / /second rw - cgroup2 cgroup2 rw\n",
                       NVH_CGROUP_V2, 0, "/second/a");
        /* escaped mount points */
        expect_resolve("0::/a\n", "30 1 0:26 / /mnt/c\\040g rw - cgroup2 cgroup2 rw\n",
                       NVH_CGROUP_V2, 0, "/mnt/c g/a");
        /* outside the reader's cgroup namespace, deleted, relative */
        expect_resolve("0::/../../other\n", "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 c rw\n",
                       NVH_CGROUP_V2, -EXDEV, NULL);
        expect_resolve("0::/a/..\n", "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 c rw\n",
                       NVH_CGROUP_V2, -EXDEV, NULL);
        expect_resolve("0::/gone (deleted)\n", "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 c rw\n",
                       NVH_CGROUP_V2, -ENOENT, NULL);
        expect_resolve("0::relative\n", "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 c rw\n",
                       NVH_CGROUP_V2, -EINVAL, NULL);
        /* "devices" must be a whole controller name, in the line and the mount options */
        expect_resolve("5:nodevices:/a\n", "36 31 0:33 / /d rw - cgroup cgroup rw,devices\n",
                       NVH_CGROUP_V1, -ENOENT, NULL);
        expect_resolve("5:devices:/a\n", "36 31 0:33 / /d rw - cgroup cgroup rw,devicesx\n",
                       NVH_CGROUP_V1, -ENOENT, NULL);
        /* hostile input: no crash, no match */
        expect_resolve("", "", NVH_CGROUP_V2, -ENOENT, NULL);
        expect_resolve("::::\n0:\n0", "- - - -\n1 2 3\n\\\\\\\n", NVH_CGROUP_V2, -ENOENT, NULL);
        expect_resolve("0::/a\n", "30 1 0:26 / /x rw - cgroup2\n30 1 0:26 / /y rw cgroup2 c r\n",
                       NVH_CGROUP_V2, -ENOENT, NULL);
        expect_resolve("0::/a\n", "30 1 0:26 / /x\\000y rw - cgroup2 c rw\n", NVH_CGROUP_V2, -EXDEV,
                       NULL);
}

/* ---- a child that lives in a cgroup and probes devices on request -------------------- */

struct probe {
        pid_t pid;
        int req_fd;
        int resp_fd;
};

static void
probe_main(int req_fd, int resp_fd)
{
        char cmd[512];

        for (;;) {
                ssize_t n = read(req_fd, cmd, sizeof(cmd) - 1);
                int res;

                if (n <= 0)
                        _exit(0);
                cmd[n] = '\0';
                if (cmd[0] == 'o') {
                        int fd = open(cmd + 2, O_RDWR | O_CLOEXEC | O_NOCTTY);
                        res = fd < 0 ? errno : 0;
                        if (fd >= 0)
                                close(fd);
                } else {
                        unsigned minor = (unsigned)atoi(cmd + 2);
                        unlink(nodem);
                        res = mknod(nodem, S_IFCHR | 0600, makedev(195, minor)) < 0 ? errno : 0;
                        unlink(nodem);
                }
                if (write(resp_fd, &res, sizeof(res)) != sizeof(res))
                        _exit(1);
        }
}

/* Start a child and move it into the cgroup whose cgroup.procs is procs (by its pid, from
 * the parent, like a runtime does). */
static int
probe_start(const char *procs, struct probe *p)
{
        int req[2], resp[2];
        char buf[32];
        int fd, len;

        if (pipe2(req, O_CLOEXEC) < 0 || pipe2(resp, O_CLOEXEC) < 0)
                return -errno;
        p->pid = fork();
        if (p->pid < 0)
                return -errno;
        if (p->pid == 0) {
                close(req[1]);
                close(resp[0]);
                probe_main(req[0], resp[1]);
        }
        close(req[0]);
        close(resp[1]);
        p->req_fd = req[1];
        p->resp_fd = resp[0];
        fd = open(procs, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        len = snprintf(buf, sizeof(buf), "%d", (int)p->pid);
        if (write(fd, buf, (size_t)len) != len) {
                int e = errno;
                close(fd);
                return -e;
        }
        close(fd);
        return 0;
}

static int
probe_ask(struct probe *p, char op, const char *path)
{
        char cmd[512];
        int res = -1;
        int len = snprintf(cmd, sizeof(cmd), "%c %s", op, path);

        if (write(p->req_fd, cmd, (size_t)len) != len ||
            read(p->resp_fd, &res, sizeof(res)) != sizeof(res))
                return -1;
        return res;
}

#define probe_open(p, path) probe_ask((p), 'o', (path))
#define probe_mknod(p, minor) probe_ask((p), 'm', (minor))

static void
probe_stop(struct probe *p)
{
        if (p->pid <= 0)
                return;
        close(p->req_fd);
        close(p->resp_fd);
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
        p->pid = 0;
}

static const char *
err_name(int e)
{
        return e == 0 ? "success" : e < 0 ? "probe failed" : strerror(e);
}

/* ---- 2. cgroup v1 -------------------------------------------------------------------- */

static int
write_file(const char *path, const char *s)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        int r = 0;

        if (fd < 0)
                return -errno;
        if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
                r = -errno;
        close(fd);
        return r;
}

static void
test_v1(void)
{
        char dir[128], path[192];
        struct probe p = {0};
        struct nvh_cgroup *cg = NULL;
        struct nvh_err err = {0};
        struct nvh_cgroup_rule gpu0 = {'c', 195, 0, "rwm"};
        int r;

        if (access("/sys/fs/cgroup/devices/devices.allow", F_OK) != 0) {
                fprintf(stderr, "SKIP: v1 cases: no cgroup v1 devices hierarchy at "
                                "/sys/fs/cgroup/devices (a cgroup v2 only host)\n");
                return;
        }
        snprintf(dir, sizeof(dir), "/sys/fs/cgroup/devices/nvh-test-%d", (int)getpid());
        if (mkdir(dir, 0755) < 0) {
                CHECK(0, "mkdir '%s': %s", dir, strerror(errno));
                return;
        }
        snprintf(path, sizeof(path), "%s/devices.deny", dir);
        CHECK(write_file(path, "a") == 0, "deny all in '%s'", dir);
        snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
        r = probe_start(path, &p);
        CHECK(r == 0, "start child in '%s': %s", dir, strerror(-r));
        if (r < 0)
                goto out;
        r = probe_open(&p, node0);
        CHECK(r == EPERM, "before grant: open 195:0 gave %s", err_name(r));

        r = nvh_cgroup_find(p.pid, NVH_CGROUP_AUTO, &cg, &err);
        CHECK(r == 0, "find: %s", err.msg);
        if (r < 0)
                goto out;
        CHECK(cg->mode == NVH_CGROUP_V1, "mode %d", cg->mode);
        CHECK(streq(cg->host_path, dir), "path '%s', want '%s'", cg->host_path, dir);

        r = nvh_cgroup_grant(cg, &gpu0, 1, &err);
        CHECK(r == 0, "grant: %s", err.msg);
        r = probe_open(&p, node0);
        CHECK(r == ENXIO, "v1: open 195:0 gave %s, want ENXIO", err_name(r));
        r = probe_open(&p, node1);
        CHECK(r == EPERM, "v1: open 195:1 gave %s, want EPERM", err_name(r));
        /* twice: the rule repeats, nothing breaks */
        r = nvh_cgroup_grant(cg, &gpu0, 1, &err);
        CHECK(r == 0, "second grant: %s", err.msg);
        r = probe_open(&p, node0);
        CHECK(r == ENXIO, "v1 again: open 195:0 gave %s", err_name(r));
        /* the kernel's list shows exactly our rule */
        {
                char list[256] = "";
                snprintf(path, sizeof(path), "%s/devices.list", dir);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                ssize_t n = fd >= 0 ? read(fd, list, sizeof(list) - 1) : -1;
                if (fd >= 0)
                        close(fd);
                list[n > 0 ? n : 0] = '\0';
                CHECK(streq(list, "c 195:0 rwm\n"), "devices.list '%s'", list);
        }
        /* wildcard minor, and a bad rule is refused before anything is written */
        struct nvh_cgroup_rule bad[] = {{'c', 195, NVH_CGROUP_ANY, "rw"}, {'x', 1, 1, "r"}};
        r = nvh_cgroup_grant(cg, bad, 2, &err);
        CHECK(r == -EINVAL && strstr(err.msg, "'x'"), "bad rule: %d %s", r, err.msg);
        r = probe_open(&p, node1);
        CHECK(r == EPERM, "after refused grant: open 195:1 gave %s", err_name(r));
        r = nvh_cgroup_grant(cg, bad, 1, &err);
        CHECK(r == 0, "grant 195:*: %s", err.msg);
        r = probe_open(&p, node1);
        CHECK(r == ENXIO, "v1 195:*: open 195:1 gave %s", err_name(r));
        r = probe_mknod(&p, "1");
        CHECK(r == EPERM, "v1 195:* rw: mknod 195:1 gave %s", err_name(r));
        r = probe_mknod(&p, "0");
        CHECK(r == 0, "v1 195:0 rwm: mknod 195:0 gave %s", err_name(r));
        /* "a" with less than rwm must not switch the cgroup to allow-all */
        struct nvh_cgroup_rule all_rw = {'a', NVH_CGROUP_ANY, NVH_CGROUP_ANY, "rw"};
        r = nvh_cgroup_grant(cg, &all_rw, 1, &err);
        CHECK(r == 0, "grant a rw: %s", err.msg);
        r = probe_mknod(&p, "1");
        CHECK(r == EPERM, "v1 a rw: mknod 195:1 gave %s", err_name(r));
        r = probe_open(&p, "/dev/null");
        CHECK(r == 0, "v1 a rw: open /dev/null gave %s", err_name(r));
out:
        probe_stop(&p);
        nvh_cgroup_free(cg);
        CHECK(rmdir(dir) == 0, "rmdir '%s': %s", dir, strerror(errno));
}

/* ---- 3. cgroup v2 -------------------------------------------------------------------- */

static struct bpf_insn
I(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
        return (struct bpf_insn){
            .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

/* A program written the way runc writes its device filter (not with our builder): allow
 * c 1:3 rwm (/dev/null) and c <extra_major>:<extra_minor> rw, deny the rest with "r0 = 0". */
static size_t
runtime_prog(struct bpf_insn *p, int extra_major, int extra_minor)
{
        size_t n = 0;

        p[n++] = I(BPF_LDX | BPF_W | BPF_MEM, 2, 1, 0, 0);
        p[n++] = I(BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xffff);
        p[n++] = I(BPF_LDX | BPF_W | BPF_MEM, 3, 1, 0, 0);
        p[n++] = I(BPF_ALU | BPF_RSH | BPF_K, 3, 0, 0, 16);
        p[n++] = I(BPF_LDX | BPF_W | BPF_MEM, 4, 1, 4, 0);
        p[n++] = I(BPF_LDX | BPF_W | BPF_MEM, 5, 1, 8, 0);
        p[n++] = I(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 4, BPF_DEVCG_DEV_CHAR);
        p[n++] = I(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 3, 1);
        p[n++] = I(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 2, 3);
        p[n++] = I(BPF_ALU | BPF_MOV | BPF_K, 0, 0, 0, 1);
        p[n++] = I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        p[n++] = I(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 7, BPF_DEVCG_DEV_CHAR);
        p[n++] = I(BPF_ALU | BPF_MOV | BPF_X, 1, 3, 0, 0);
        p[n++] = I(BPF_ALU | BPF_AND | BPF_K, 1, 0, 0, BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE);
        p[n++] = I(BPF_JMP | BPF_JNE | BPF_X, 1, 3, 4, 0);
        p[n++] = I(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 3, extra_major);
        p[n++] = I(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 2, extra_minor);
        p[n++] = I(BPF_ALU | BPF_MOV | BPF_K, 0, 0, 0, 1);
        p[n++] = I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        p[n++] = I(BPF_ALU | BPF_MOV | BPF_K, 0, 0, 0, 0);
        p[n++] = I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        return n;
}

static int
attached(int dir_fd, unsigned *ids, unsigned *flags)
{
        return nvh_devbpf_query(dir_fd, false, ids, 64, flags, NULL);
}

/* nprogs runtime-like programs attached with flags (0 or BPF_F_ALLOW_MULTI); nprogs 0 is
 * "no device restriction". */
static void
test_v2_case(const char *name, unsigned flags, int nprogs)
{
        char dir[128], procs[192];
        struct probe p = {0};
        struct nvh_cgroup *cg = NULL;
        struct nvh_err err = {0};
        struct nvh_cgroup_rule gpu0 = {'c', 195, 0, "rw"};
        struct nvh_cgroup_rule gpu1m[] = {{'c', 195, 1, "rwm"}, {'c', 195, 0, "m"}};
        unsigned ids[64], ids2[64], f = 0;
        int dir_fd = -1, r, n;

        fprintf(stderr, "v2: %s\n", name);
        snprintf(dir, sizeof(dir), "/sys/fs/cgroup/nvh-test-%d-%s", (int)getpid(), name);
        if (mkdir(dir, 0755) < 0) {
                CHECK(0, "mkdir '%s': %s", dir, strerror(errno));
                return;
        }
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(dir_fd >= 0, "open '%s'", dir);
        for (int i = 0; i < nprogs; i++) {
                struct bpf_insn prog[32];
                /* each program also allows its own extra device, so they differ */
                size_t len = runtime_prog(prog, 10, 200 + i);
                int fd = nvh_devbpf_load(prog, len, &err);
                CHECK(fd >= 0, "load runtime program: %s", err.msg);
                if (fd < 0)
                        goto out;
                r = nvh_devbpf_attach(dir_fd, fd, flags, -1, &err);
                CHECK(r == 0, "attach runtime program: %s", err.msg);
                close(fd);
        }
        n = attached(dir_fd, ids, &f);
        CHECK(n == nprogs && f == (nprogs ? flags : 0), "attached %d flags %#x", n, f);

        snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
        r = probe_start(procs, &p);
        CHECK(r == 0, "start child in '%s': %s", dir, strerror(-r));
        if (r < 0)
                goto out;
        r = probe_open(&p, node0);
        CHECK(r == (nprogs ? EPERM : ENXIO), "before grant: open 195:0 gave %s", err_name(r));
        r = probe_open(&p, "/dev/null");
        CHECK(r == 0, "before grant: open /dev/null gave %s", err_name(r));

        r = nvh_cgroup_find(p.pid, NVH_CGROUP_AUTO, &cg, &err);
        CHECK(r == 0, "find: %s", err.msg);
        if (r < 0)
                goto out;
        CHECK(cg->mode == NVH_CGROUP_V2, "mode %d", cg->mode);
        CHECK(streq(cg->host_path, dir), "path '%s', want '%s'", cg->host_path, dir);

        r = nvh_cgroup_grant(cg, &gpu0, 1, &err);
        CHECK(r == nprogs, "grant: %d %s", r, err.msg);
        n = attached(dir_fd, ids2, &f);
        CHECK(n == nprogs, "after grant: %d programs attached, want %d", n, nprogs);
        CHECK(f == (nprogs ? flags : 0), "after grant: flags %#x", f);
        for (int i = 0; i < n && i < nprogs; i++)
                CHECK(ids2[i] != ids[i], "program %d not replaced (id %u)", i, ids[i]);
        r = probe_open(&p, node0);
        CHECK(r == ENXIO, "open 195:0 gave %s, want ENXIO", err_name(r));
        r = probe_open(&p, node1);
        CHECK(r == (nprogs ? EPERM : ENXIO), "open 195:1 gave %s", err_name(r));
        r = probe_open(&p, "/dev/null");
        CHECK(r == 0, "open /dev/null gave %s", err_name(r));
        r = probe_mknod(&p, "0");
        CHECK(r == (nprogs ? EPERM : 0), "mknod 195:0 with 'rw' gave %s", err_name(r));

        /* idempotent: nothing new, nothing replaced */
        r = nvh_cgroup_grant(cg, &gpu0, 1, &err);
        CHECK(r == 0, "second grant: %d %s", r, err.msg);
        n = attached(dir_fd, ids, &f);
        CHECK(n == nprogs, "after second grant: %d programs", n);
        for (int i = 0; i < n && i < nprogs; i++)
                CHECK(ids2[i] == ids[i], "program %d replaced again", i);

        /* more rules: merged into the same prefix, the runtime's program still the tail */
        r = nvh_cgroup_grant(cg, gpu1m, 2, &err);
        CHECK(r == nprogs, "third grant: %d %s", r, err.msg);
        n = attached(dir_fd, ids, &f);
        CHECK(n == nprogs, "after third grant: %d programs", n);
        r = probe_open(&p, node1);
        CHECK(r == ENXIO, "open 195:1 gave %s", err_name(r));
        r = probe_open(&p, node0);
        CHECK(r == ENXIO, "open 195:0 gave %s", err_name(r));
        r = probe_mknod(&p, "0");
        CHECK(r == 0, "mknod 195:0 with 'm' gave %s", err_name(r));
        r = probe_open(&p, "/dev/null");
        CHECK(r == 0, "open /dev/null gave %s", err_name(r));
        for (int i = 0; i < n; i++) {
                struct bpf_insn *x = NULL;
                struct nvh_devbpf_rule *rules = NULL;
                size_t xn = 0, nr = 0, tail = 0;
                int fd = nvh_devbpf_prog_fd(ids[i], &err);
                CHECK(fd >= 0, "prog fd: %s", err.msg);
                if (fd < 0)
                        continue;
                CHECK(nvh_devbpf_prog_xlated(fd, &x, &xn, NULL, &err) == 0, "%s", err.msg);
                CHECK(nvh_devbpf_decode(x, xn, &rules, &nr, &tail, &err) == 1,
                      "attached program %d has no nvhook prefix", i);
                CHECK(nr == 3, "attached program %d has %zu rules, want 3", i, nr);
                CHECK(xn - tail == 21, "tail of program %d has %zu insns, want the runtime's 21", i,
                      xn - tail);
                free(x);
                free(rules);
                close(fd);
        }
out:
        probe_stop(&p);
        nvh_cgroup_free(cg);
        if (dir_fd >= 0)
                close(dir_fd);
        CHECK(rmdir(dir) == 0, "rmdir '%s': %s", dir, strerror(errno));
}

static bool
is_cgroup2(const char *path)
{
        struct statfs sfs;

        return statfs(path, &sfs) == 0 && (unsigned long)sfs.f_type == CGROUP2_SUPER_MAGIC;
}

static void
test_v2(void)
{
        struct nvh_err err = {0};
        struct bpf_insn prog[32];
        int fd;

        fd = nvh_devbpf_load(prog, runtime_prog(prog, 10, 200), &err);
        if (fd < 0) {
                fprintf(stderr, "SKIP: v2 cases: cannot load bpf programs (%s)\n", err.msg);
                return;
        }
        close(fd);
        /* The v2-only view a v2 host has: cgroup2 on /sys/fs/cgroup. A pure v2 host (or a
         * namespace that made it so) already has it, and mounting it there again fails with
         * EBUSY; otherwise force it in a private mount namespace (the v1 mounts underneath
         * stay in mountinfo but are hidden). */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                CHECK(0, "private mount namespace: %s", strerror(errno));
                return;
        }
        if (is_cgroup2("/sys/fs/cgroup")) {
                fprintf(stderr, "v2: cgroup2 already on /sys/fs/cgroup, using it\n");
        } else if (mount("none", "/sys/fs/cgroup", "cgroup2", 0, NULL) < 0) {
                CHECK(0, "mount cgroup2 on /sys/fs/cgroup in a private namespace: %s",
                      strerror(errno));
                return;
        } else {
                fprintf(stderr, "v2: cgroup2 mounted on /sys/fs/cgroup in a private namespace\n");
        }
        test_v2_case("multi", BPF_F_ALLOW_MULTI, 1);
        test_v2_case("single", 0, 1);
        test_v2_case("override", BPF_F_ALLOW_OVERRIDE, 1);
        test_v2_case("two", BPF_F_ALLOW_MULTI, 2);
        test_v2_case("none", 0, 0);
        /* NONE mode does nothing */
        struct nvh_cgroup *cg = NULL;
        struct nvh_cgroup_rule gpu0 = {'c', 195, 0, "rw"};
        CHECK(nvh_cgroup_find(getpid(), NVH_CGROUP_NONE, &cg, &err) == 0, "%s", err.msg);
        CHECK(cg && cg->mode == NVH_CGROUP_NONE && nvh_cgroup_grant(cg, &gpu0, 1, &err) == 0,
              "none mode");
        nvh_cgroup_free(cg);
        /* v1 requested but hidden under the cgroup2 mount */
        cg = NULL;
        CHECK(nvh_cgroup_find(getpid(), NVH_CGROUP_V1, &cg, &err) < 0, "hidden v1 found");
        nvh_cgroup_free(cg);
}

static void
cleanup_tmp(void)
{
        unlink(node0);
        unlink(node1);
        unlink(nodem);
        rmdir(tmpdir);
}

/* "ct_cgroup grant PID TYPE MAJOR MINOR ACCESS": the library call a hook makes, for
 * test_cgroup.sh to run against a real runtime's container. Prints "<mode> <path> <result>". */
static int
grant_main(int argc, char **argv)
{
        struct nvh_cgroup *cg = NULL;
        struct nvh_err err = {0};
        struct nvh_cgroup_rule rule;
        int r;

        if (argc != 7) {
                fprintf(stderr, "usage: ct_cgroup grant PID TYPE MAJOR MINOR ACCESS\n");
                return 2;
        }
        rule.type = argv[3][0];
        rule.major = streq(argv[4], "*") ? NVH_CGROUP_ANY : (unsigned)strtoul(argv[4], NULL, 10);
        rule.minor = streq(argv[5], "*") ? NVH_CGROUP_ANY : (unsigned)strtoul(argv[5], NULL, 10);
        rule.access = argv[6];
        r = nvh_cgroup_find((pid_t)atoi(argv[2]), NVH_CGROUP_AUTO, &cg, &err);
        if (r < 0) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
        }
        r = nvh_cgroup_grant(cg, &rule, 1, &err);
        printf("%s %s %d\n", cg->mode == NVH_CGROUP_V1 ? "v1" : "v2", cg->host_path, r);
        if (r < 0)
                fprintf(stderr, "%s\n", err.msg);
        nvh_cgroup_free(cg);
        return r < 0 ? 1 : 0;
}

int
main(int argc, char **argv)
{
        if (getenv("NVH_DEBUG"))
                nvh_log_set_level(NVH_LOG_DEBUG);
        if (argc > 1 && streq(argv[1], "grant"))
                return grant_main(argc, argv);
        test_resolve();
        if (geteuid() != 0) {
                fprintf(stderr, "%d failures in resolution; SKIP: cgroup tests need root\n",
                        failures);
                return failures ? 1 : 77;
        }
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/nvh-ct-cgroup-XXXXXX");
        if (!mkdtemp(tmpdir)) {
                perror("mkdtemp");
                return 1;
        }
        atexit(cleanup_tmp);
        snprintf(node0, sizeof(node0), "%s/nv0", tmpdir);
        snprintf(node1, sizeof(node1), "%s/nv1", tmpdir);
        snprintf(nodem, sizeof(nodem), "%s/mk", tmpdir);
        if (mknod(node0, S_IFCHR | 0666, makedev(195, 0)) < 0 ||
            mknod(node1, S_IFCHR | 0666, makedev(195, 1)) < 0) {
                fprintf(stderr, "SKIP: mknod in %s: %s\n", tmpdir, strerror(errno));
                return 77;
        }
        {
                int fd = open(node0, O_RDWR | O_CLOEXEC);
                if (fd >= 0 || errno != ENXIO) {
                        fprintf(stderr, "SKIP: 195:0 does not fail with ENXIO here (a driver? "
                                        "nodev?)\n");
                        if (fd >= 0)
                                close(fd);
                        return 77;
                }
        }
        test_v1();
        test_v2();
        if (failures) {
                fprintf(stderr, "%d failures\n", failures);
                return 1;
        }
        fprintf(stderr, "all cgroup checks passed\n");
        return 0;
}
