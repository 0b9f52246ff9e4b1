package statedir

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

// helperEnv makes the test binary a helper: it opens the state directory
// under the variable's value, takes the lock, prints a helperReport as one
// JSON line and keeps the lock until its stdin closes.
const helperEnv = "LUVS_STATEDIR_HELPER"

type helperReport struct {
	Path, Namespace, Socket, LockErr string
	PID                              int
}

func TestMain(m *testing.M) {
	if base := os.Getenv(helperEnv); base != "" {
		rep := helperReport{PID: os.Getpid(), Socket: SocketPath("/run/luvs/luvs.sock")}
		d, err := Open(base)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		rep.Path, rep.Namespace = d.Path, d.Namespace
		if _, err := d.Lock(); err != nil {
			rep.LockErr = err.Error()
		}
		json.NewEncoder(os.Stdout).Encode(rep)
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startHelper runs the helper under base, behind the command wrap (e.g.
// "unshare", "-n"), and returns it once it has reported.
func startHelper(t *testing.T, base string, wrap ...string) (*exec.Cmd, helperReport) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	argv := append(wrap, exe, "-test.run=^$")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), helperEnv+"="+base)
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	var rep helperReport
	if err == nil {
		err = json.Unmarshal(line, &rep)
	}
	if err != nil {
		t.Fatalf("helper %v: %v (%q)", argv, err, line)
	}
	return cmd, rep
}

func keys(t *testing.T, ss ...string) []model.ServiceKey {
	var ks []model.ServiceKey
	for _, s := range ss {
		k, err := model.ParseServiceKey(s)
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, k)
	}
	return ks
}

func TestOwnedRoundTrip(t *testing.T) {
	d := &Dir{Path: t.TempDir()}
	if got, err := d.LoadOwned(); err != nil || len(got) != 0 {
		t.Fatalf("missing file: %v, %v", got, err)
	}
	in := keys(t, "fwmark6:7", "udp:[2001:db8::1]:53", "198.18.0.10:80", "fwmark:7",
		"sctp:198.18.0.11:9", "198.18.0.10:80", "[2001:db8::2]:443")
	if err := d.SaveOwned(in); err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(in)
	slices.SortFunc(want, model.ServiceKey.Compare)
	want = slices.Compact(want)
	got, err := d.LoadOwned()
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("LoadOwned = %v, %v; want %v", got, err, want)
	}
	path := filepath.Join(d.Path, ownedFile)
	first, _ := os.ReadFile(path)
	if !bytes.Contains(first, []byte(`"family": "ipv6"`)) || !bytes.Contains(first, []byte(`"fwmark": 7`)) {
		t.Errorf("record lacks explicit fields:\n%s", first)
	}
	slices.Reverse(in)
	if err := d.SaveOwned(in); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(first, again) {
		t.Errorf("output not stable:\n%s\n%s", first, again)
	}
	if ents, _ := os.ReadDir(d.Path); len(ents) != 1 {
		t.Errorf("directory holds %v, want only %s", ents, ownedFile)
	}
	if err := d.SaveOwned(nil); err != nil {
		t.Fatal(err)
	}
	if got, err := d.LoadOwned(); err != nil || len(got) != 0 {
		t.Fatalf("empty set: %v, %v", got, err)
	}
	if err := d.SaveOwned([]model.ServiceKey{{Family: model.IPv4, Protocol: model.TCP}}); err == nil {
		t.Error("SaveOwned took a key without an address")
	}
}

func TestOwnedCorrupt(t *testing.T) {
	d := &Dir{Path: t.TempDir()}
	path := filepath.Join(d.Path, ownedFile)
	for _, s := range []string{
		`{"version": 1, "services": [`,
		`{"version": 2, "services": []}`,
		`{"version": 1, "services": [{"family": "ipx", "protocol": "tcp", "address": "10.0.0.1", "port": 1}]}`,
		`{"version": 1, "services": [{"family": "ipv4", "protocol": "tcp", "address": "10.0.0.x", "port": 1}]}`,
		`{"version": 1, "services": [{"family": "ipv6", "protocol": "tcp", "address": "10.0.0.1", "port": 1}]}`,
	} {
		os.WriteFile(path, []byte(s), 0o600)
		if _, err := d.LoadOwned(); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("LoadOwned(%s) = %v, want an error naming %s", s, err, path)
		}
	}
}

func TestLockInProcess(t *testing.T) {
	d := &Dir{Path: t.TempDir()}
	if h, err := d.Holder(); h != nil || err != nil {
		t.Fatalf("Holder before Lock = %v, %v", h, err)
	}
	l, err := d.Lock()
	if err != nil {
		t.Fatal(err)
	}
	// A second open file description conflicts, as another process would.
	var held *HeldError
	if _, err := d.Lock(); !errors.As(err, &held) || held.PID != os.Getpid() || held.Since.IsZero() {
		t.Fatalf("second Lock = %v, want a HeldError with pid %d", err, os.Getpid())
	}
	if !strings.Contains(held.Error(), fmt.Sprintf("(pid %d, since ", os.Getpid())) {
		t.Errorf("Error() = %q", held.Error())
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if h, err := d.Holder(); h != nil || err != nil {
		t.Fatalf("Holder after Release = %v, %v", h, err)
	}
	l, err = d.Lock()
	if err != nil {
		t.Fatalf("Lock after Release: %v", err)
	}
	l.Release()
}

func TestLockFreedByKill(t *testing.T) {
	base := t.TempDir()
	cmd, rep := startHelper(t, base)
	if rep.LockErr != "" {
		t.Fatal(rep.LockErr)
	}
	d := &Dir{Path: rep.Path}
	h, err := d.Holder()
	if err != nil || h == nil || h.PID != cmd.Process.Pid {
		t.Fatalf("Holder = %v, %v; want pid %d", h, err, cmd.Process.Pid)
	}
	var held *HeldError
	if _, err := d.Lock(); !errors.As(err, &held) || held.PID != cmd.Process.Pid {
		t.Fatalf("Lock = %v, want a HeldError with pid %d", err, cmd.Process.Pid)
	}
	if h, _ := d.Holder(); h == nil {
		t.Fatal("Holder disturbed the holder")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	l, err := d.Lock()
	if err != nil {
		t.Fatalf("Lock after SIGKILL: %v", err)
	}
	l.Release()
}

func TestSocketPath(t *testing.T) {
	for ns, want := range map[string]string{
		"":          "/run/luvs/luvs.sock",
		"blue":      "/run/luvs/luvs-blue.sock",
		"ino-12345": "/run/luvs/luvs-ino-12345.sock",
	} {
		if got := (&Dir{Namespace: ns}).SocketPath("/run/luvs/luvs.sock"); got != want {
			t.Errorf("namespace %q: SocketPath = %s, want %s", ns, got, want)
		}
	}
}

// TestHostNamespace pretends this process runs in the host namespace.
func TestHostNamespace(t *testing.T) {
	defer func(s string) { hostNS = s }(hostNS)
	hostNS = selfNS
	base := filepath.Join(t.TempDir(), "luvs")
	d, err := Open(base)
	if err != nil || d.Path != base || d.Namespace != "" {
		t.Fatalf("Open = %+v, %v; want %s for the host", d, err, base)
	}
	if st, err := os.Stat(base); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("state directory: %v, %v", st, err)
	}
	if got := SocketPath("/run/luvs/luvs.sock"); got != "/run/luvs/luvs.sock" {
		t.Errorf("SocketPath = %s", got)
	}
}

func TestNamespaces(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	for _, tool := range []string{"ip", "unshare"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip(err)
		}
	}
	name := fmt.Sprintf("luvs-test-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })

	base := t.TempDir()
	here, err := Open(base)
	if err != nil {
		t.Fatal(err)
	}
	l, err := here.Lock()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()

	_, named := startHelper(t, base, "ip", "netns", "exec", name)
	_, same := startHelper(t, base, "ip", "netns", "exec", name)
	_, anon := startHelper(t, base, "unshare", "-n")

	if named.Namespace != name || named.Path != filepath.Join(base, "netns", name) ||
		named.Socket != "/run/luvs/luvs-"+name+".sock" || named.LockErr != "" {
		t.Errorf("named namespace: %+v", named)
	}
	if !strings.HasPrefix(anon.Namespace, "ino-") || anon.Path != filepath.Join(base, "netns", anon.Namespace) ||
		anon.Socket != "/run/luvs/luvs-"+anon.Namespace+".sock" || anon.LockErr != "" {
		t.Errorf("unnamed namespace: %+v", anon)
	}
	if here.Path == named.Path || here.Path == anon.Path {
		t.Errorf("namespaces share a directory: %s, %s, %s", here.Path, named.Path, anon.Path)
	}
	if same.Path != named.Path || !strings.Contains(same.LockErr, fmt.Sprintf("pid %d", named.PID)) {
		t.Errorf("second daemon in %s: %+v, want it blocked by pid %d", name, same, named.PID)
	}
}

func TestInInitNetns(t *testing.T) {
	defer func(s string) { initNetlink = s }(initNetlink)
	initNetlink = "/proc/self/net/netlink" // this process's namespace stands in for pid 1's
	if !inInitNetns() {
		t.Error("a netlink socket opened here is not in this namespace's list")
	}
	other := filepath.Join(t.TempDir(), "netlink")
	list := "sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n" +
		"000000003211ad4f 0   0          00000000 0        0        0     2        0        4       \n"
	if err := os.WriteFile(other, []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	initNetlink = other
	if inInitNetns() {
		t.Error("found in a list without its socket")
	}
	initNetlink = filepath.Join(t.TempDir(), "missing")
	if inInitNetns() {
		t.Error("found in a missing list")
	}
}

// TestHostNamespaceBoundedCapabilities: a daemon whose capabilities are
// bounded, as luvs.service's are, cannot read /proc/1/ns/net; it still finds
// it runs in the host namespace, and so uses the same state directory and
// socket as the luvs commands an administrator runs.
func TestHostNamespaceBoundedCapabilities(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip(err)
	}
	base := t.TempDir()
	here, err := Open(base)
	if err != nil {
		t.Fatal(err)
	}
	if here.Namespace != "" {
		t.Skipf("not in pid 1's network namespace (%s)", here.Namespace)
	}
	bounded := []string{"setpriv", "--bounding-set", "-all,+net_admin,+net_raw,+setuid,+setgid,+kill", "--inh-caps", "-all"}
	if err := exec.Command(bounded[0], append(bounded[1:], "stat", "-L", hostNS)...).Run(); err == nil {
		t.Logf("%s is readable with bounded capabilities here: the fallback is not exercised", hostNS)
	}
	_, rep := startHelper(t, base, bounded...)
	if rep.Namespace != "" || rep.Path != base || rep.Socket != "/run/luvs/luvs.sock" {
		t.Errorf("with bounded capabilities: %+v, want the host's %s", rep, base)
	}
}

func TestDrainingRoundTrip(t *testing.T) {
	d := &Dir{Path: t.TempDir()}
	if got, err := d.LoadDraining(); err != nil || len(got) != 0 {
		t.Fatalf("missing file: %v, %v", got, err)
	}
	ks := keys(t, "198.18.0.10:80", "udp:[2001:db8::1]:53", "fwmark:7")
	since := time.Date(2026, 12, 3, 6, 0, 0, 123456789, time.UTC)
	in := []model.DrainRecord{
		{Service: ks[0], Dest: model.DestKey{Addr: netip.MustParseAddr("198.18.1.2"), Port: 80}, Since: since, Deadline: since.Add(30 * time.Second)},
		{Service: ks[0], Dest: model.DestKey{Addr: netip.MustParseAddr("198.18.1.1"), Port: 8080}, Since: since, Deadline: since.Add(time.Hour)},
		{Service: ks[1], Dest: model.DestKey{Addr: netip.MustParseAddr("2001:db8::9"), Port: 53}, Since: since, Deadline: since.Add(time.Minute)},
		{Service: ks[2], Dest: model.DestKey{Addr: netip.MustParseAddr("198.18.1.3")}, Since: since, Deadline: since.Add(time.Minute)},
	}
	if err := d.SaveDraining(in); err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(in)
	slices.SortFunc(want, model.DrainRecord.Compare)
	got, err := d.LoadDraining()
	if err != nil || !slices.EqualFunc(got, want, model.DrainRecord.Equal) {
		t.Fatalf("LoadDraining = %v, %v; want %v", got, err, want)
	}
	b, _ := os.ReadFile(filepath.Join(d.Path, leavingFile))
	if !bytes.Contains(b, []byte(`"server": "[2001:db8::9]:53"`)) || !bytes.Contains(b, []byte(`"deadline": "2026-12-03T06:01:00.123456789Z"`)) {
		t.Errorf("record not readable:\n%s", b)
	}
	if err := d.SaveDraining(nil); err != nil {
		t.Fatal(err)
	}
	if got, err := d.LoadDraining(); err != nil || len(got) != 0 {
		t.Fatalf("after saving none: %v, %v", got, err)
	}
	path := filepath.Join(d.Path, leavingFile)
	svc := `{"family": "ipv4", "protocol": "tcp", "address": "198.18.0.10", "port": 80, "fwmark": 0}`
	for _, s := range []string{
		`{"version": 1, "servers": [`,
		`{"version": 9, "servers": []}`,
		`{"version": 1, "servers": [{"service": ` + svc + `, "server": "198.18.1.1"}]}`,
		`{"version": 1, "servers": [{"service": ` + svc + `, "server": "[2001:db8::1]:80"}]}`,
		`{"version": 1, "servers": [{"service": {"family": "ipv4"}, "server": "198.18.1.1:80"}]}`,
	} {
		os.WriteFile(path, []byte(s), 0o600)
		if _, err := d.LoadDraining(); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("LoadDraining(%s) = %v, want an error naming %s", s, err, path)
		}
	}
}
