#!/bin/bash
# Install what building and testing nvhook needs on Debian/Ubuntu (run as root).
set -eu
packages=(
        build-essential cmake pkg-config
        libjansson-dev libcap-dev libseccomp-dev libelf-dev libcmocka-dev
        runc crun podman conmon containerd docker.io lxc liblxc-common debootstrap busybox-static
        jq strace util-linux kmod groff-base mandoc python3 musl-tools
        clang-format shellcheck
        clang llvm libclang-rt-dev
)
missing=()
for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
                missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
