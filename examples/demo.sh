#!/bin/sh
# The luvs demo, run inside the IPVS VM by scripts/demo (or on any Linux host
# with IPVS, as root, from this directory: sh demo.sh).
#
# It builds a small network in namespaces, using only 198.18.0.0/15 and
# 2001:db8::/32:
#
#   client ns ──veth── director (this ns: IPVS, VIPs on dummy0) ──veth── web1..web3 ns
#
# then runs the luvs daemon on the Lua configuration web.lua: real HTTP
# requests balanced across three busybox web servers, a stopped server
# drained by its health check and restored, a broken reload rejected, a good
# reload applied, and the table as luvs and ipvsadm see it.
set -eu
cd "$(dirname "$0")"

REQUESTS=${REQUESTS:-12}
# busybox sh runs its own netns-less `ip` applet; find iproute2's.
IP=
for c in /usr/sbin/ip /sbin/ip /usr/bin/ip /bin/ip; do
	if [ -x "$c" ] && "$c" -V 2>&1 | grep -q iproute2; then IP=$c && break; fi
done
[ -n "$IP" ] || { echo "demo: iproute2's ip not found" >&2; exit 1; }

say() { printf "\n== %s\n" "$*"; }
fail() { echo "demo: FAIL: $*" >&2; exit 1; }

# link NS HOSTIF N: namespace NS on 198.18.N.0/24 and 2001:db8:N::/64, the
# director at .1, NS at .2, default routes via the director.
link() {
	"$IP" netns add "$1"
	"$IP" link add "$2" type veth peer name eth0 netns "$1"
	"$IP" addr add "198.18.$3.1/24" dev "$2"
	"$IP" addr add "2001:db8:$3::1/64" dev "$2" nodad
	"$IP" link set "$2" up
	"$IP" -n "$1" link set lo up
	"$IP" -n "$1" addr add "198.18.$3.2/24" dev eth0
	"$IP" -n "$1" addr add "2001:db8:$3::2/64" dev eth0 nodad
	"$IP" -n "$1" link set eth0 up
	"$IP" -n "$1" route add default via "198.18.$3.1"
	"$IP" -n "$1" -6 route add default via "2001:db8:$3::1"
}

say "network: a client, a director and three web servers in namespaces"
echo 1 >/proc/sys/net/ipv4/ip_forward
echo 1 >/proc/sys/net/ipv6/conf/all/forwarding
"$IP" link add dummy0 type dummy
"$IP" link set dummy0 up
"$IP" addr add 198.18.0.10/32 dev dummy0
"$IP" addr add 2001:db8::10/128 dev dummy0 nodad
link client vcl 200
for i in 1 2 3; do
	link "web$i" "vweb$i" "1$i"
	mkdir -p "/tmp/web$i" && echo "web$i" >"/tmp/web$i/index.html"
	"$IP" netns exec "web$i" busybox httpd -f -p "198.18.1$i.2:80" -h "/tmp/web$i" &
	echo $! >"/tmp/web$i.pid"
	"$IP" netns exec "web$i" busybox httpd -p "[2001:db8:1$i::2]:80" -h "/tmp/web$i"
done
echo "web1..web3 serve their names on 198.18.1{1,2,3}.2:80 and [2001:db8:1{1,2,3}::2]:80"

# requests URL: send REQUESTS requests from the client namespace, count answers.
requests() {
	out=/tmp/answers
	: >"$out"
	n=0
	while [ "$n" -lt "$REQUESTS" ]; do
		n=$((n + 1))
		# busybox wget -T crashes: bound each request with timeout instead.
		"$IP" netns exec client timeout 5 wget -q -O - "$1" >>"$out" 2>/dev/null || echo failed >>"$out"
	done
	sort "$out" | uniq -c
	! grep -q failed "$out" || fail "some requests to $1 failed"
}

# wait_for TEXT SECONDS: wait until `luvs list` shows TEXT.
wait_for() {
	n=0
	until luvs list | grep -q "$1"; do
		n=$((n + 1))
		[ "$n" -lt $(($2 * 5)) ] || fail "timed out waiting for '$1'"
		sleep 0.2
	done
}

say "luvs check web.lua: validate the Lua configuration (no kernel needed)"
cat web.lua
luvs check web.lua

say "luvs run web.lua: the daemon applies it and runs the health checks"
cp web.lua /tmp/web.lua
luvs run --listen 127.0.0.1:9477 /tmp/web.lua 2>/tmp/luvs.log &
wait_for "198.18.13.2:80 *Masq *1" 10
luvs list

say "$REQUESTS requests to http://198.18.0.10/ from the client namespace (weights 3:1:1)"
requests http://198.18.0.10/

say "web2 stops: its http check fails twice (2 x 2 s) and the daemon drains it"
kill "$(cat /tmp/web2.pid)"
wait_for "198.18.12.2:80 *Masq *0" 15
luvs list
requests http://198.18.0.10/
grep -q web2 /tmp/answers && fail "drained web2 still got requests"

say "the status page at http://127.0.0.1:9477/ (JSON: /api/v1/status, metrics: /metrics): rows by state"
timeout 5 wget -q -O /tmp/page.html http://127.0.0.1:9477/ || fail "no status page"
grep -o '<tr class="s-[a-z_]*">' /tmp/page.html | sort | uniq -c
[ "$(grep -c '<tr class="s-down">' /tmp/page.html)" = 1 ] || fail "the status page does not show web2 down"
if [ -n "${STATUS_PAGE:-}" ]; then
	echo "-----BEGIN STATUS PAGE-----"
	cat /tmp/page.html
	echo "-----END STATUS PAGE-----"
fi

say "web2 comes back: after 2 good checks its weight is restored"
"$IP" netns exec web2 busybox httpd -f -p 198.18.12.2:80 -h /tmp/web2 &
wait_for "198.18.12.2:80 *Masq *1" 15
luvs list

say "a broken edit (a missing closing brace) is rejected by luvs reload; the old configuration keeps running"
sed -e 's/real_server "198.18.12.2:80" { name = "web2" },/real_server "198.18.12.2:80" { name = "web2",/' web.lua >/tmp/web.lua
if luvs reload; then fail "a broken configuration was accepted"; fi

say "weights 1:1:0 for web1..web3: luvs reload applies only the difference"
sed -e 's/weight = 3, name = "web1"/weight = 1, name = "web1"/' \
	-e 's/name = "web3", check/name = "web3", weight = 0, check/' web.lua >/tmp/web.lua
luvs reload
wait_for "198.18.13.2:80 *Masq *0" 5
requests http://198.18.0.10/
grep -q web3 /tmp/answers && fail "web3 has weight 0 but still got requests"

say "luvs status: the daemon's view"
luvs status

say "the daemon's log"
cat /tmp/luvs.log
kill "$(pidof luvs)"
sleep 1

say "luvs restore demo.rules: ipvsadm's rule format works too (the IPv6 service)"
grep -v "198.18.0.10" demo.rules >/tmp/v6.rules
luvs restore /tmp/v6.rules
say "$REQUESTS requests to http://[2001:db8::10]/"
requests "http://[2001:db8::10]/"

say "luvs list --stats (IPVS folds its counters every 2 s)"
sleep 2
luvs list --stats
say "ipvsadm -Ln agrees"
ipvsadm -Ln
say "luvs save (ipvsadm -S format)"
luvs save
echo
echo "demo: done"
