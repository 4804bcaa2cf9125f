#!/bin/bash
# On the GPU machine (through the device tool, with .carry carried): nvhook info and list
# against the real driver, the timing of list, and the real-GPU end-to-end test. Prepare here
# with scripts/gpu-carry.sh.
set -u
cd "$(dirname "$0")/.." || exit 1
. .carry/runtimes/env.sh
export NVHOOK=$PWD/.carry/nvhook NVH_SOURCE_DIR=$PWD
out=${OUT:-/tmp}
echo "== nvhook info"
"$NVHOOK" info
echo "== nvhook list --capabilities all"
"$NVHOOK" list --capabilities all | tee "$out/list.txt"
echo "== expected by the incumbent (issue 2): found / 26 libraries"
n=0
for l in libnvidia-ml libnvidia-cfg libcuda libcudadebugger libnvidia-opencl libnvidia-gpucomp \
        libnvidia-ptxjitcompiler libnvidia-allocator libnvidia-pkcs11-openssl3 libnvidia-nvvm \
        libvdpau_nvidia libnvidia-encode libnvidia-opticalflow libnvcuvid libnvidia-eglcore \
        libnvidia-glcore libnvidia-tls libnvidia-glsi libnvidia-fbc libnvidia-rtcore libnvoptix \
        libGLX_nvidia libEGL_nvidia libGLESv2_nvidia libGLESv1_CM_nvidia libnvidia-glvkspirv; do
        if grep -q "/lib64/$l.so.580.159.04 " "$out/list.txt"; then
                n=$((n + 1))
        else
                echo "missing: $l"
        fi
done
echo "libraries: $n/26; binaries: $(grep -c '^binary' "$out/list.txt");" \
        "firmware: $(grep -c '^firmware' "$out/list.txt"); config: $(grep -c '^config' "$out/list.txt")"
echo "== nvhook list timing (200 runs, warm page cache)"
python3 - "$NVHOOK" <<'PY'
import subprocess, sys, time, statistics
cmd = [sys.argv[1], "list", "--capabilities", "all"]
ts = []
for _ in range(200):
    t = time.perf_counter_ns()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    ts.append((time.perf_counter_ns() - t) / 1e6)
ts.sort()
print(f"list --capabilities all: median {statistics.median(ts):.2f} ms, p99 {ts[197]:.2f} ms, min {ts[0]:.2f} ms")
PY
echo "== end-to-end on the real GPU"
bash tests/e2e/test_gpu.sh
echo "test_gpu exit: $?"
echo "== every other way in on the real GPU: shim, CDI, nvidia-container-cli, doctor"
bash tests/e2e/test_gpu_modes.sh
echo "test_gpu_modes exit: $?"
echo "== every GPU of this machine: selection, isolation, concurrency, 1 GPU vs all"
bash tests/e2e/test_gpu_multi.sh
echo "test_gpu_multi exit: $?"
