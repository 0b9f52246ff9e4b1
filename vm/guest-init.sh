#!/bin/busybox sh
# shellcheck shell=dash # busybox ash; shellcheck has no ash dialect, dash is closest
# The guest's /init (PID 1, busybox sh), copied into each run's initramfs by
# vm/luvs-vm: set up the VM, run /etc/luvs-vm/cmd.sh, report its exit status
# on the output port and power off.
#
# Parameters come from /etc/luvs-vm/init.env, written by luvs-vm for each run
# (shell assignments, not exported to the command):
#   GUEST_PATH  the command's PATH
#   TOKEN       random marker of the status line, so that the command's own
#               output cannot fake it
# Note: busybox sh runs its own applets before PATH lookups (its `ip` has no
# netns support), hence the full path for iproute2's ip below.

CONF=/etc/luvs-vm/init.env
if [ ! -r "$CONF" ]; then
	echo "luvs-vm: error: $CONF is missing" >/dev/console
	poweroff -f
	exit 1
fi
# shellcheck source=/dev/null # generated for each run by vm/luvs-vm
. "$CONF"
export PATH="$GUEST_PATH"
export HOME=/root LUVS_VM=1
OUT=/dev/ttyS1

log() { echo "luvs-vm: $*" >/dev/console; }
warn() { echo "luvs-vm: warning: $*" >/dev/console; echo "luvs-vm: warning: $*" >"$OUT"; }
finish() {
	read -r t_end _ </proc/uptime
	echo "luvs-vm:$TOKEN:status=$1:start=${t_start:-0}:end=$t_end" >"$OUT"
	log "exit status $1"
	poweroff -f
	echo o >/proc/sysrq-trigger
	exit "$1" # PID 1 exiting panics the kernel; panic=-1 + -no-reboot stop QEMU
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /run/netns /run/luvs-vm
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
# Raw output on the command's port: no \n -> \r\n translation.
stty -F "$OUT" -opost -echo 2>/dev/null

# Kernel modules, in dependency order (from modules.dep at build time).
KVER=$(cat /etc/luvs-vm/kver)
: >/run/luvs-vm/modules.loaded
: >/run/luvs-vm/modules.failed
while read -r name path params; do
	# shellcheck disable=SC2086 # $params unquoted: it may hold several words
	if err=$(insmod "/lib/modules/$KVER/$path" $params 2>&1) || [ -d "/sys/module/$name" ]; then
		echo "$name" >>/run/luvs-vm/modules.loaded
	else
		echo "$name" >>/run/luvs-vm/modules.failed
		warn "module $name failed to load: $err"
	fi
done </etc/luvs-vm/modules.load
log "modules loaded: $(tr '\n' ' ' </run/luvs-vm/modules.loaded)"

# Network basics. devconf_inherit_init_net=1: new netns copy these settings.
for s in net/core/devconf_inherit_init_net net/ipv4/ip_forward \
	net/ipv6/conf/all/forwarding net/ipv6/conf/default/forwarding \
	net/ipv6/conf/all/accept_dad net/ipv6/conf/default/accept_dad; do
	v=1
	case $s in *accept_dad) v=0 ;; esac
	echo "$v" >"/proc/sys/$s" || warn "sysctl $s=$v failed"
done
IP=/sbin/ip # iproute2's (busybox sh would pick its own applet for `ip`)
"$IP" link set lo up || warn "ip link set lo up failed"
hostname luvs-vm

cd /opt/luvs || cd /
SH=/bin/sh
read -r t_start _ </proc/uptime
log "running command at uptime $t_start"
"$SH" /etc/luvs-vm/cmd.sh </dev/null >"$OUT" 2>&1
finish $?
