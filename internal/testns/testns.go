// Package testns runs a package's network tests in a network namespace of
// their own: TestMain calls Enter, which re-executes the test binary under
// `unshare --net` and, in that copy, sets up the namespace (loopback up,
// the test addresses, routes). Tests use only 198.18.0.0/15 and
// 2001:db8::/32 there, and never touch the host's network.
package testns

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Enter puts the tests of package name in a fresh network namespace set up
// by the ip commands setup (each the arguments of one `ip` run). Outside
// the namespace it runs the test binary again inside one and returns its
// exit status with reexeced true: TestMain exits with it. Inside, it
// returns skip: why the network tests cannot run ("" when they can), also
// when the namespace cannot be made (not root, no unshare), so that the
// other tests still run.
func Enter(name string, setup [][]string) (code int, reexeced bool, skip string) {
	env := "LUVS_" + strings.ToUpper(name) + "_NETNS"
	parentEnv := "LUVS_" + strings.ToUpper(name) + "_PARENT_NETNS"
	if os.Getenv(env) == "" {
		if why := cannotUnshare(); why != "" {
			return 0, false, why
		}
		return reexec(name, env, parentEnv), true, ""
	}
	return 0, false, setupNetns(env, parentEnv, setup)
}

// cannotUnshare says why the tests cannot run in a namespace of their own.
func cannotUnshare() string {
	if os.Geteuid() != 0 {
		return "network tests need root (to create a network namespace); run `go test` as root"
	}
	for _, c := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(c); err != nil {
			return "network tests need the " + c + " command: " + err.Error()
		}
	}
	if out, err := exec.Command("unshare", "--net", "--", "true").CombinedOutput(); err != nil {
		return fmt.Sprintf("network tests need `unshare --net`, which failed: %v %s", err, strings.TrimSpace(string(out)))
	}
	return ""
}

// reexec runs this test binary again inside a fresh network namespace and
// returns its exit status.
func reexec(name, env, parentEnv string) int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+" tests: cannot find the test binary:", err)
		return 1
	}
	ns, _ := os.Readlink("/proc/self/ns/net")
	cmd := exec.Command("unshare", append([]string{"--net", "--", self}, os.Args[1:]...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), env+"=1", parentEnv+"="+ns)
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() >= 0 {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, name+" tests: unshare:", err)
		return 1
	}
	return 0
}

// setupNetns configures the test namespace, after making sure it is one:
// never the host's (or the container's) own.
func setupNetns(env, parentEnv string, setup [][]string) string {
	ns, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return "cannot read our network namespace: " + err.Error()
	}
	if init, err := os.Readlink("/proc/1/ns/net"); err == nil && init == ns {
		return env + " is set but this is not a private network namespace; not touching it"
	}
	if parent := os.Getenv(parentEnv); parent == "" || parent == ns {
		return env + " is set but this is not a namespace created by the tests; not touching it"
	}
	for _, args := range setup {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Sprintf("ip %s: %v %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return ""
}
