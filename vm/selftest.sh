#!/bin/sh
# IPVS end-to-end self test, run inside the luvs-vm guest (`vm/luvs-vm selftest`).
#
# Topology (all inside the VM; only 198.18.0.0/15 and 2001:db8::/32):
#
#   netns client  eth0 198.18.2.2/24  2001:db8:2::2/64 --veth-- vcl (root ns)
#                                         198.18.2.1/24, 2001:db8:2::1/64
#   root ns (director): dummy0 holds the VIPs 198.18.0.10 and 2001:db8::10,
#                       IPVS NAT (masquerade) services VIP:80 -> b1, b2
#   netns b<i>    eth0 198.18.1<i>.2/24 2001:db8:1<i>::2/64 --veth-- vb<i>
#                                         198.18.1<i>.1/24, 2001:db8:1<i>::1/64
#
# Each backend runs busybox httpd serving a page with its name; the client
# sends REQUESTS requests to each VIP; both backends must answer.
set -eu

REQUESTS=${REQUESTS:-20}
VIP4=198.18.0.10
VIP6=2001:db8::10
BACKENDS="1 2"

# busybox sh prefers its own applets (its `ip` has no netns support): use the
# real iproute2 binary by full path.
IP=
for c in /usr/sbin/ip /sbin/ip /usr/bin/ip /bin/ip; do
	if [ -x "$c" ] && "$c" -V 2>&1 | grep -q iproute2; then
		IP=$c
		break
	fi
done
[ -n "$IP" ] || { echo "selftest: iproute2 ip not found" >&2; exit 1; }

step() { echo "== $*"; }
fail() { echo "selftest: FAIL: $*" >&2; exit 1; }

# setup_netns NAME HOSTIF V4NET V6NET: netns NAME with eth0 = NET.2 / NET::2,
# the root-ns end HOSTIF = NET.1 / NET::1, default routes via the root ns.
setup_netns() {
	name=$1 hostif=$2 v4=$3 v6=$4
	"$IP" netns add "$name"
	"$IP" link add "$hostif" type veth peer name eth0 netns "$name"
	"$IP" addr add "$v4.1/24" dev "$hostif"
	"$IP" addr add "$v6::1/64" dev "$hostif" nodad
	"$IP" link set "$hostif" up
	"$IP" -n "$name" link set lo up
	"$IP" -n "$name" addr add "$v4.2/24" dev eth0
	"$IP" -n "$name" addr add "$v6::2/64" dev eth0 nodad
	"$IP" -n "$name" link set eth0 up
	"$IP" -n "$name" route add default via "$v4.1"
	"$IP" -n "$name" -6 route add default via "$v6::1"
}

step "network namespaces"
"$IP" link add dummy0 type dummy
"$IP" link set dummy0 up
"$IP" addr add "$VIP4/32" dev dummy0
"$IP" addr add "$VIP6/128" dev dummy0 nodad
setup_netns client vcl 198.18.2 2001:db8:2
for i in $BACKENDS; do
	setup_netns "b$i" "vb$i" "198.18.1$i" "2001:db8:1$i"
	mkdir -p "/tmp/www-b$i"
	echo "b$i" >"/tmp/www-b$i/index.html"
	# One server per address family, bound to the backend's addresses.
	"$IP" netns exec "b$i" busybox httpd -f -p "198.18.1$i.2:80" -h "/tmp/www-b$i" &
	"$IP" netns exec "b$i" busybox httpd -f -p "[2001:db8:1$i::2]:80" -h "/tmp/www-b$i" &
done
"$IP" -br addr

step "IPVS services"
ipvsadm -A -t "$VIP4:80" -s rr
ipvsadm -A -t "[$VIP6]:80" -s rr
for i in $BACKENDS; do
	ipvsadm -a -t "$VIP4:80" -r "198.18.1$i.2:80" -m
	ipvsadm -a -t "[$VIP6]:80" -r "[2001:db8:1$i::2]:80" -m
done
ipvsadm -Ln

# wait_http URL: wait until URL answers from the root ns (servers starting).
wait_http() {
	n=0
	until timeout 5 wget -q -O /dev/null "$1" 2>/dev/null; do
		n=$((n + 1))
		[ "$n" -lt 50 ] || fail "$1 not answering"
		sleep 0.2
	done
}
for i in $BACKENDS; do
	wait_http "http://198.18.1$i.2/"
	wait_http "http://[2001:db8:1$i::2]/"
done

# balance NAME URL: REQUESTS requests to URL from the client netns; every
# backend must have answered at least once and every request must succeed.
balance() {
	name=$1 url=$2
	step "$name: $REQUESTS requests to $url"
	out=/tmp/answers-$name
	: >"$out"
	n=0
	while [ "$n" -lt "$REQUESTS" ]; do
		n=$((n + 1))
		# busybox wget -T crashes: bound the request with timeout instead.
		"$IP" netns exec client timeout 5 wget -q -O - "$url" >>"$out" 2>&1 ||
			echo "request $n failed" >>"$out"
	done
	sort "$out" | uniq -c
	for i in $BACKENDS; do
		c=$(grep -cx "b$i" "$out" || true)
		[ "$c" -gt 0 ] || fail "$name: backend b$i never answered"
	done
	total=$(grep -cxE 'b[0-9]+' "$out" || true)
	[ "$total" -eq "$REQUESTS" ] || fail "$name: only $total of $REQUESTS requests answered"
	echo "$name: OK"
}

balance ipv4 "http://$VIP4/"
balance ipv6 "http://[$VIP6]/"

# IPVS stats are refreshed every 2 s.
sleep 2
ipvsadm -Ln --stats
echo "selftest: PASS"
