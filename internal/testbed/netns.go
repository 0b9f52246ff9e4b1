// Package testbed builds throw-away networks for end-to-end tests: a director
// network namespace with IPVS, backend namespaces serving HTTP over veth
// links, and a client namespace that sends real requests to virtual
// addresses. It uses only 198.18.0.0/15 and 2001:db8::/32 and needs root,
// iproute2's ip, and a kernel with IPVS (the test VM).
package testbed

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Do runs fn on an OS thread that has joined the named network namespace
// (as created by `ip netns add`). Sockets created by fn stay in that
// namespace after Do returns, so a listener or a netlink socket opened here
// can be used from any goroutine.
func Do(netns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// The thread is only unlocked (returned to the scheduler) once it is
		// back in its original namespace; otherwise it dies with the goroutine.
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open current netns: %w", err)
			return
		}
		defer unix.Close(orig)
		target, err := unix.Open("/run/netns/"+netns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open netns %s: %w", netns, err)
			return
		}
		err = unix.Setns(target, unix.CLONE_NEWNET)
		unix.Close(target)
		if err != nil {
			errc <- fmt.Errorf("enter netns %s: %w", netns, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("leave netns %s: %w", netns, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// IP runs iproute2's ip with the given arguments.
func IP(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// InNetns runs a command inside a namespace (ip netns exec) and returns its
// standard output; standard error is folded into the error.
func InNetns(netns string, name string, args ...string) (string, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", netns, name}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s in %s: %v: %s", name, strings.Join(args, " "), netns, err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// Sysctl writes a value under /proc/sys inside a namespace, e.g.
// Sysctl(ns, "net/ipv4/ip_forward", "1").
func Sysctl(netns, key, value string) error {
	return Do(netns, func() error {
		return os.WriteFile("/proc/sys/"+key, []byte(value), 0o644)
	})
}
