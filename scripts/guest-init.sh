#!/bin/busybox sh
# shellcheck shell=dash
# /init of the QEMU guest (see scripts/vm-run.sh). Mounts the host root
# read-only under a tmpfs overlay, chroots into it and runs the command file
# named by xvm.cmd= in xvm.cwd=, with its output on ttyS1. The exit status
# goes to the console (ttyS0) as "XVM-EXIT: N" for the host to read.
/bin/busybox --install -s /bin
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

CMD='' CWD=/ RESULTS='' ISOLATE=/dev/null ROOT=/
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	xvm.cmd=*) CMD=${arg#xvm.cmd=} ;;
	xvm.cwd=*) CWD=${arg#xvm.cwd=} ;;
	xvm.results=*) RESULTS=${arg#xvm.results=} ;;
	xvm.isolate=*) ISOLATE=${arg#xvm.isolate=} ;;
	xvm.root=*) ROOT=${arg#xvm.root=} ;;
	esac
done

fail() {
	echo "guest-init: $*" >/dev/console
	echo "XVM-EXIT: 126" >/dev/console
	poweroff -f
}

mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose \
	hostroot /host || fail "cannot mount the host root over 9p"
mount -t tmpfs -o mode=755 rw /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work \
	root /newroot || fail "cannot mount the overlay root"

R=/newroot
mount -t proc proc $R/proc
mount -t sysfs sys $R/sys
mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm
ln -sf /proc/self/fd $R/dev/fd
ln -sf /proc/self/fd/0 $R/dev/stdin
ln -sf /proc/self/fd/1 $R/dev/stdout
ln -sf /proc/self/fd/2 $R/dev/stderr
mount -t devpts devpts $R/dev/pts
mount -t tmpfs shm $R/dev/shm
mount -t tmpfs tmp $R/tmp
mount -t tmpfs run $R/run
mount -t bpf bpf $R/sys/fs/bpf
mount -t debugfs debugfs $R/sys/kernel/debug
mount -t tracefs tracefs $R/sys/kernel/tracing
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup 2>/dev/null
# The project may live under a path the guest mounts over (/tmp, /run):
# show the host's tree there again, read-only.
case "$ROOT" in
/tmp/* | /run/* | /dev/*)
	mkdir -p "$R$ROOT"
	mount --bind "/host$ROOT" "$R$ROOT" || fail "cannot bind $ROOT"
	;;
esac
if [ -n "$RESULTS" ]; then
	mkdir -p "$R$RESULTS"
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 \
		results "$R$RESULTS" || fail "cannot mount the results share"
fi
mkdir -p $R/run/netns
hostname xvm
ip link set lo up

stty -F /dev/ttyS1 raw -echo 115200 2>/dev/null
chroot $R /usr/bin/env -i HOME=/root TERM=dumb \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	/bin/bash -c 'bash "$1"; cd "$2" && exec /bin/bash "$3"' xvm \
	"$ISOLATE" "$CWD" "$CMD" \
	</dev/null >/dev/ttyS1 2>&1
rc=$?
sync
echo "XVM-EXIT: $rc" >/dev/console
poweroff -f
