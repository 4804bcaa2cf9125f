#!/bin/bash
# nvhook installed as nvidia-container-cli (a symlink, argv[0] dispatch) on the fake GPU host:
# info and list print the incumbent's formats (checked against the reference output recorded
# on the GPU machine, tests/../shared/reference or the copy below), errors and exit statuses
# for unknown options, commands and devices are the incumbent's, and configure's input rules
# hold (--ldconfig without '@' refused, a bad ROOTFS refused, --user without --no-cgroups
# refused), with nothing left behind.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
rig_enter_private_ns "$@"
hook_setup
mkdir -p "$RIG_TMP/bin"
ln -s "$NVHOOK" "$RIG_TMP/bin/nvidia-container-cli"
CLI=$RIG_TMP/bin/nvidia-container-cli
ROOT=$NVH_FIXTURES/driver

# run ARGS...: stdout, stderr and "[exit N]" into $RIG_TMP/o, as the reference records them.
run() {
        local rc=0
        "$CLI" "$@" >"$RIG_TMP/o" 2>"$RIG_TMP/e" || rc=$?
        cat "$RIG_TMP/e" >>"$RIG_TMP/o"
        echo "[exit $rc]" >>"$RIG_TMP/o"
}
expect() { # expect NAME <<EOF: $RIG_TMP/o must be exactly the text
        if ! diff -u /dev/stdin "$RIG_TMP/o"; then
                rig_die "$1: output differs from the incumbent's"
        fi
}

# The incumbent's error texts and exit statuses (reference: incumbent-h200.txt).
run --bogus info
expect "unknown global option" <<'EOF'
nvidia-container-cli: unrecognized option '--bogus'
Try `nvidia-container-cli --help' or `nvidia-container-cli --usage' for more
information.
[exit 1]
EOF
run configure --bogus /tmp
expect "unknown configure option" <<'EOF'
nvidia-container-cli configure: unrecognized option '--bogus'
Try `nvidia-container-cli configure --help' or `nvidia-container-cli configure
--usage' for more information.
[exit 1]
EOF
run info --device=0
expect "unknown info option" <<'EOF'
nvidia-container-cli info: unrecognized option '--device=0'
Try `nvidia-container-cli info --help' or `nvidia-container-cli info --usage'
for more information.
[exit 1]
EOF
run --root="$ROOT" list --device=none
expect "list --device=none" <<'EOF'
nvidia-container-cli: device error: none: unknown device
[exit 1]
EOF
run --root="$ROOT" list --device=7
expect "list --device=7" <<'EOF'
nvidia-container-cli: device error: 7: unknown device
[exit 1]
EOF
run frobnicate
grep -q "unknown command 'frobnicate'" "$RIG_TMP/o" || rig_die "unknown command not named"
grep -q '^\[exit 1\]$' "$RIG_TMP/o" || rig_die "unknown command: exit status"
run --version
grep -q '^cli-version: 1.17.0$' "$RIG_TMP/o" || rig_die "--version: no cli-version line"

# info: the incumbent's layout; values from the fake driver (its libcuda says 13.0, its NVML
# brand 14 = Nvidia, compute capability 9.0).
uuid=$(sed -n 's/^GPU UUID:[[:space:]]*//p' "$NVH_FIXTURES"/proc-1gpu/driver/nvidia/gpus/*/information)
run --root="$ROOT" info
expect "info" <<EOF
NVRM version:   580.159.04
CUDA version:   13.0

Device Index:   0
Device Minor:   0
Model:          NVIDIA H200
Brand:          Nvidia
GPU UUID:       $uuid
Bus Location:   00000000:00:06.0
Architecture:   9.0
[exit 0]
EOF
run --root="$ROOT" info --csv
expect "info --csv" <<EOF
NVRM version,CUDA version
580.159.04,13.0

Device Index,Device Minor,Model,Brand,GPU UUID,Bus Location,Architecture
0,0,NVIDIA H200,Nvidia,$uuid,00000000:00:06.0,9.0
[exit 0]
EOF

# list: devices first, then binaries, then libraries, in the incumbent's order. The fake driver
# has more components than the GPU machine's: the reference's names must come in its order.
ref_order() { # the basenames the reference lists for `list`, in order
        cat <<'EOF'
nvidiactl
nvidia-uvm
nvidia-uvm-tools
nvidia-modeset
nvidia0
nvidia-smi
nvidia-debugdump
nvidia-persistenced
nvidia-cuda-mps-control
nvidia-cuda-mps-server
libnvidia-ml.so.580.159.04
libnvidia-cfg.so.580.159.04
libcuda.so.580.159.04
libcudadebugger.so.580.159.04
libnvidia-opencl.so.580.159.04
libnvidia-gpucomp.so.580.159.04
libnvidia-ptxjitcompiler.so.580.159.04
libnvidia-allocator.so.580.159.04
libnvidia-pkcs11-openssl3.so.580.159.04
libnvidia-nvvm.so.580.159.04
libvdpau_nvidia.so.580.159.04
libnvidia-encode.so.580.159.04
libnvidia-opticalflow.so.580.159.04
libnvcuvid.so.580.159.04
libnvidia-eglcore.so.580.159.04
libnvidia-glcore.so.580.159.04
libnvidia-tls.so.580.159.04
libnvidia-glsi.so.580.159.04
libnvidia-fbc.so.580.159.04
libnvidia-rtcore.so.580.159.04
libnvoptix.so.580.159.04
libGLX_nvidia.so.580.159.04
libEGL_nvidia.so.580.159.04
libGLESv2_nvidia.so.580.159.04
libGLESv1_CM_nvidia.so.580.159.04
libnvidia-glvkspirv.so.580.159.04
EOF
}
run --root="$ROOT" list
grep -q '^\[exit 0\]$' "$RIG_TMP/o" || rig_die "list failed: $(cat "$RIG_TMP/o")"
grep -v '^\[exit' "$RIG_TMP/o" | grep -v '/i386-linux-gnu/' >"$RIG_TMP/list64"
got=$(sed 's#.*/##' "$RIG_TMP/list64" | grep -Fx -f <(ref_order))
[ "$got" = "$(ref_order)" ] || rig_die "list order differs: $(diff <(ref_order) <(echo "$got"))"
head -5 "$RIG_TMP/list64" | grep -q '^/dev/nvidiactl$' || rig_die "list: devices not first"
grep -q "^$ROOT/usr/lib/x86_64-linux-gnu/libcuda.so.580.159.04$" "$RIG_TMP/list64" ||
        rig_die "list: libcuda not by its host path"
grep -q '/i386-linux-gnu/libcuda.so' "$RIG_TMP/o" || rig_die "list: no compat32 libraries"
run --root="$ROOT" list --libraries
grep -q '^/dev/' "$RIG_TMP/o" && rig_die "list --libraries printed devices"
grep -q 'nvidia-smi' "$RIG_TMP/o" && rig_die "list --libraries printed binaries"
grep -q 'i386' "$RIG_TMP/o" && rig_die "list --libraries printed 32-bit libraries"
run --root="$ROOT" list --compat32 --libraries
grep -q '/i386-linux-gnu/libcuda.so.580.159.04$' "$RIG_TMP/o" || rig_die "--compat32 ignored"
run --root="$ROOT" list --binaries
[ "$(grep -c . "$RIG_TMP/o")" = 7 ] || rig_die "list --binaries: $(cat "$RIG_TMP/o")"
run --root="$ROOT" list --device=0 --libraries --binaries --ipcs
[ "$(sed -n 5p "$RIG_TMP/o")" = /dev/nvidia0 ] || rig_die "list --device=0: $(head "$RIG_TMP/o")"

# configure's input rules: refused before anything is touched.
r=$(rig_rootfs busybox)
cp -a "$r" "$RIG_TMP/rootfs"
before=$(find "$RIG_TMP/rootfs" | sort)
run --root="$ROOT" configure --ldconfig=/sbin/ldconfig --utility "$RIG_TMP/rootfs"
grep -q "input error: --ldconfig='/sbin/ldconfig' names a program inside the container" \
        "$RIG_TMP/o" || rig_die "container ldconfig not refused: $(cat "$RIG_TMP/o")"
grep -q '^\[exit 1\]$' "$RIG_TMP/o" || rig_die "container ldconfig: exit status"
run --root="$ROOT" configure --utility relative/dir
grep -q "invalid rootfs directory 'relative/dir'" "$RIG_TMP/o" || rig_die "relative ROOTFS"
run --root="$ROOT" --user configure --utility "$RIG_TMP/rootfs"
grep -q "add --no-cgroups" "$RIG_TMP/o" || rig_die "--user without --no-cgroups not refused"
run --root="$ROOT" configure --device=9 --utility "$RIG_TMP/rootfs"
grep -q '^\[exit 1\]$' "$RIG_TMP/o" || rig_die "unknown device accepted"
run --root="$ROOT" configure --require='cuda>=99.0' --device=0 --utility "$RIG_TMP/rootfs"
grep -q '^nvidia-container-cli: requirement error: .*cuda' "$RIG_TMP/o" ||
        rig_die "unmet --require: $(cat "$RIG_TMP/o")"
grep -q '^\[exit 1\]$' "$RIG_TMP/o" || rig_die "unmet --require: exit status"
[ "$(find "$RIG_TMP/rootfs" | sort)" = "$before" ] || rig_die "a refused configure left files"
grep -q " $RIG_TMP/rootfs" /proc/self/mountinfo && rig_die "a refused configure left mounts"
# --debug=FILE: debug lines go to FILE (stderr keeps its level), errors too.
run --root="$ROOT" --debug="$RIG_TMP/debug.log" list --device=9
grep -q '^\[exit 1\]$' "$RIG_TMP/o" || rig_die "--debug list --device=9: exit status"
grep -q "nvhook\[[0-9]*\]: debug: nvidia-container-cli: debug log opened" "$RIG_TMP/debug.log" ||
        rig_die "--debug=FILE: no debug line in the file"
grep -q "debug: " "$RIG_TMP/o" && rig_die "--debug=FILE: debug lines on stderr"
rig_log "ok"
