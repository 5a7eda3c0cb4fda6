#!/bin/bash
# Install the Debian 12 packages the project needs; skip what is present.
set -euo pipefail

PKGS=(
	# kernel build
	linux-source-6.12 build-essential bc bison flex libelf-dev libssl-dev
	dwarves ccache xz-utils cpio kmod git
	# eBPF: clang/llvm for -target bpf, libs for libbpf and bpftool
	clang llvm zlib1g-dev libzstd-dev libcap-dev pkg-config
	# C++ user space and host tests
	cmake g++ libgtest-dev libcli11-dev libfmt-dev nlohmann-json3-dev
	# libxps's Redis cache filler (xpsctl redis fill)
	libhiredis-dev
	# the VM and what runs in it (the guest uses the host's binaries)
	qemu-system-x86 busybox-static iproute2 gzip procps util-linux
	# XPS servers and clients in the guest
	redis-server redis-tools nginx-light
	# benchmarks run in the guest (bench-xlane: cross traffic, CPU stress, plots)
	apache2 wrk iperf3 stress-ng python3-matplotlib
	# checkpatch.pl's SPDX check
	python3-ply python3-git
)

missing=()
for p in "${PKGS[@]}"; do
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "[deps] all ${#PKGS[@]} packages present"
	exit 0
fi
echo "[deps] installing: ${missing[*]}"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
echo "[deps] done"
