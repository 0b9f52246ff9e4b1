package statedir

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// initNetlink lists the netlink sockets of pid 1's network namespace (a
// variable so tests can stand in for the host).
var initNetlink = "/proc/1/net/netlink"

// inInitNetns reports whether the calling thread shares pid 1's network
// namespace, for when /proc/1/ns/net cannot be read. Reading that link needs
// ptrace access to pid 1, which a root process whose capabilities are
// bounded lacks (luvs.service keeps CAP_NET_ADMIN and a few others: pid 1
// has them all); /proc/1/net/netlink needs none. It lists every netlink
// socket of pid 1's namespace with its inode: a socket opened here is
// listed there exactly when the namespaces are the same.
func inInitNetns() bool {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	// A netlink socket is listed once it is bound (the kernel then gives
	// it a port id).
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return false
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return false
	}
	f, err := os.Open(initNetlink)
	if err != nil {
		return false
	}
	defer f.Close()
	want := strconv.FormatUint(st.Ino, 10)
	sc := bufio.NewScanner(f)
	sc.Scan() // the header: sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 10 && fields[9] == want {
			return true
		}
	}
	return false
}
