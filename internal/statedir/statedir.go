// Package statedir keeps the daemon's on-disk state for one IPVS table.
//
// IPVS tables are per network namespace, and so is everything here: each
// namespace has its own directory, holding the instance lock (luvs.lock) and
// the record of the services the daemon owns (owned.json). Daemons in two
// namespaces never block each other or read each other's records.
package statedir

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Dir is the state of one network namespace's IPVS table.
type Dir struct {
	Path      string // the namespace's directory
	Namespace string // "" for the host's namespace, else a name (see Open)
}

// Where namespaces are found; variables so tests can stand in for the host.
var (
	selfNS   = "/proc/thread-self/ns/net"
	hostNS   = "/proc/1/ns/net"
	netnsRun = "/run/netns"
)

// Open returns the directory for the calling thread's network namespace under
// base (e.g. /var/lib/luvs), creating it 0700:
//
//   - the host namespace (that of /proc/1) uses base itself;
//   - a namespace named by `ip netns` (bound at /run/netns/NAME) uses
//     base/netns/NAME, with Namespace NAME;
//   - any other namespace uses base/netns/ino-N, with Namespace "ino-N",
//     N being the namespace's inode.
//
// When /proc/1/ns/net cannot be read (no ptrace access to pid 1: a process
// with fewer capabilities than pid 1, as under luvs.service, or in some
// containers) the host is recognised by pid 1's list of netlink sockets
// (/proc/1/net/netlink) having one opened here; failing that too it counts
// as "any other": records of two namespaces are never mixed up.
func Open(base string) (*Dir, error) {
	ns, err := namespace()
	if err != nil {
		return nil, err
	}
	d := &Dir{Path: base, Namespace: ns}
	if ns != "" {
		d.Path = filepath.Join(base, "netns", ns)
	}
	if err := os.MkdirAll(d.Path, 0o700); err != nil {
		return nil, err
	}
	return d, nil
}

// SocketPath returns the default control socket for the calling thread's
// network namespace: base (e.g. /run/luvs/luvs.sock) in the host namespace,
// else base with the namespace inserted before the extension
// (/run/luvs/luvs-NAME.sock, /run/luvs/luvs-ino-N.sock). The namespace is
// found as in Open; when it cannot be found at all, SocketPath returns base.
func SocketPath(base string) string {
	ns, _ := namespace()
	return socketPath(base, ns)
}

// SocketPath returns the default control socket for d's namespace, as the
// package's SocketPath does.
func (d *Dir) SocketPath(base string) string { return socketPath(base, d.Namespace) }

func socketPath(base, ns string) string {
	if ns == "" {
		return base
	}
	ext := filepath.Ext(base)
	return strings.TrimSuffix(base, ext) + "-" + ns + ext
}

type nsID struct{ dev, ino uint64 }

func statNS(path string) (nsID, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nsID{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	return nsID{uint64(st.Dev), st.Ino}, nil
}

// namespace names the calling thread's network namespace: "" for the host,
// the `ip netns` name, or "ino-N".
func namespace() (string, error) {
	self, err := statNS(selfNS)
	if err != nil {
		return "", fmt.Errorf("finding the network namespace: %w", err)
	}
	if host, err := statNS(hostNS); err == nil && host == self {
		return "", nil
	} else if err != nil && inInitNetns() {
		return "", nil
	}
	if ents, err := os.ReadDir(netnsRun); err == nil {
		for _, e := range ents {
			if id, err := statNS(filepath.Join(netnsRun, e.Name())); err == nil && id == self {
				return e.Name(), nil
			}
		}
	}
	return fmt.Sprintf("ino-%d", self.ino), nil
}
