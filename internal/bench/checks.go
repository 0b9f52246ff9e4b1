package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"
)

// ChecksOptions size the health-check benchmark (luvs run against
// keepalived's checker, the same TCP checks against the same backends).
type ChecksOptions struct {
	Luvs       string // path of the luvs binary
	Keepalived string // keepalived binary ("" or "-": not run)
	Services   int    // virtual services
	Dests      int    // real servers per service
	Warmup     time.Duration
	Measure    time.Duration
	// Rounds is how often each daemon runs the distinct workload (the
	// close one), alternating with the other; a row sums its rounds, so
	// that a change in the machine's load during one run weighs on both
	// daemons. The same workload runs once.
	Rounds int
	// Workloads to run: "distinct" (every real server its own address) and
	// "same" (every service on the same Dests servers).
	Workloads []string
	// Profile, when set, makes luvs write a CPU profile of each of its
	// runs to Profile.WORKLOAD.
	Profile string
}

// CheckRow is one daemon's run of one workload.
type CheckRow struct {
	Daemon, Workload string
	Checks           int // configured checks per second (services x dests / interval)
	Connects         int64
	CPU              time.Duration // utime+stime of all the daemon's processes
	Elapsed          time.Duration
	// Failed is how many real servers were missing or drained (weight 0)
	// at the end of the measurement: checks that failed (timed out).
	Failed int
	// Idle is the share of the machine's CPU time left idle while measured.
	Idle float64
}

const (
	ckDirector = "luvs-ck-dir"
	ckBackend  = "luvs-ck-be"
	ckPort     = 8080
)

// checkTarget is the address of real server j of service i.
func checkTarget(workload string, i, j, dests int) string {
	k := j
	if workload == "distinct" {
		k = i*dests + j
	}
	return fmt.Sprintf("198.19.%d.%d", k/250, k%250+1)
}

func checkVIP(i int) string { return fmt.Sprintf("198.18.%d.%d", i/250, i%250+1) }

// KeepalivedConfig is the checker configuration of the benchmark: n
// virtual servers of m NAT real servers, each with a TCP_CHECK every second.
func KeepalivedConfig(workload string, n, m int) string {
	var b strings.Builder
	b.WriteString("global_defs {\n    router_id luvs_bench\n}\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "virtual_server %s 80 {\n    delay_loop 1\n    lb_algo wrr\n    lb_kind NAT\n    protocol TCP\n", checkVIP(i))
		for j := 0; j < m; j++ {
			fmt.Fprintf(&b, "    real_server %s %d {\n        weight 1\n        TCP_CHECK {\n            connect_timeout 1\n        }\n    }\n",
				checkTarget(workload, i, j, m), ckPort)
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// LuvsCheckConfig is the luvs configuration equivalent to KeepalivedConfig.
func LuvsCheckConfig(workload string, n, m int) string {
	k := "j"
	if workload == "distinct" {
		k = fmt.Sprintf("i * %d + j", m)
	}
	return fmt.Sprintf(`for i = 0, %d - 1 do
  local reals = {}
  for j = 0, %d - 1 do
    local k = %s
    reals[#reals + 1] = real_server(string.format("198.19.%%d.%%d:%d", math.floor(k / 250), k %% 250 + 1)) { weight = 1 }
  end
  virtual_server(string.format("198.18.%%d.%%d:80", math.floor(i / 250), i %% 250 + 1)) {
    scheduler = "wrr", forward = "nat",
    check = tcp { interval = "1s", timeout = "1s" },
    servers = reals,
  }
end
`, n, m, k, ckPort)
}

// Checks runs the health-check benchmark. It needs root, ip, ipvsadm and
// IPVS, and creates and deletes the namespaces luvs-ck-dir (the director,
// where the daemons run) and luvs-ck-be (the backends: every address in
// 198.19.0.0/16 is local there, and `luvs bench sink` accepts and closes
// connections on port 8080).
func Checks(o ChecksOptions, progress io.Writer) ([]CheckRow, error) {
	step := func(format string, args ...any) { fmt.Fprintf(progress, "bench: "+format+"\n", args...) }
	dir, err := os.MkdirTemp("", "luvs-bench-checks")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	defer func() {
		_ = exec.Command("ip", "netns", "del", ckDirector).Run()
		_ = exec.Command("ip", "netns", "del", ckBackend).Run()
	}()
	if err := checksLab(); err != nil {
		return nil, err
	}
	sink, err := startSink(o.Luvs, filepath.Join(dir, "sink.log"))
	if err != nil {
		return nil, err
	}
	defer func() { _ = sink.Process.Kill(); _ = sink.Wait() }()

	var rows []CheckRow
	for _, w := range o.Workloads {
		kconf := filepath.Join(dir, "keepalived-"+w+".conf")
		lconf := filepath.Join(dir, "luvs-"+w+".lua")
		if err := os.WriteFile(kconf, []byte(KeepalivedConfig(w, o.Services, o.Dests)), 0o644); err != nil {
			return nil, err
		}
		if err := os.WriteFile(lconf, []byte(LuvsCheckConfig(w, o.Services, o.Dests)), 0o644); err != nil {
			return nil, err
		}
		type daemon struct {
			name string
			argv []string
		}
		var daemons []daemon
		if o.Keepalived != "" && o.Keepalived != "-" {
			pid := func(s string) string { return filepath.Join(dir, "keepalived-"+w+"-"+s+".pid") }
			daemons = append(daemons, daemon{"keepalived", []string{o.Keepalived, "-C", "-n", "-l", "-G", "-R",
				"-f", kconf, "-p", pid("main"), "-c", pid("checkers"), "-r", pid("vrrp"), "-b", pid("bfd")}})
		}
		largv := []string{o.Luvs, "--state-dir", filepath.Join(dir, "state-"+w)}
		if o.Profile != "" {
			largv = append(largv, "--profile", o.Profile+"."+w)
		}
		largv = append(largv, "run", "--socket", "", lconf)
		daemons = append(daemons, daemon{"luvs", largv})
		sums := make([]CheckRow, len(daemons))
		rounds := 1
		if w == "distinct" {
			rounds = max(o.Rounds, 1)
		}
		for round := 1; round <= rounds; round++ {
			for i, d := range daemons {
				step("round %d/%d: %s, %s: %d services x %d real servers, a TCP check each per second", round, rounds, d.name, w, o.Services, o.Dests)
				row, err := measureDaemon(o, d.name, w, d.argv, filepath.Join(dir, d.name+"-"+w+".log"))
				if err != nil {
					return nil, err
				}
				sum := &sums[i]
				if round == 1 {
					*sum = row
					continue
				}
				sum.Connects += row.Connects
				sum.CPU += row.CPU
				sum.Idle = (sum.Idle*sum.Elapsed.Seconds() + row.Idle*row.Elapsed.Seconds()) / (sum.Elapsed + row.Elapsed).Seconds()
				sum.Elapsed += row.Elapsed
				sum.Failed = max(sum.Failed, row.Failed)
			}
		}
		rows = append(rows, sums...)
	}
	return rows, nil
}

// checksLab builds the two namespaces joined by a veth pair.
func checksLab() error {
	for _, ns := range []string{ckDirector, ckBackend} {
		if err := freshNetns(ns); err != nil {
			return err
		}
	}
	for _, args := range [][]string{
		{"link", "add", "ck-dir", "netns", ckDirector, "type", "veth", "peer", "name", "ck-be", "netns", ckBackend},
		{"-n", ckDirector, "addr", "add", "198.18.255.1/30", "dev", "ck-dir"},
		{"-n", ckDirector, "link", "set", "ck-dir", "up"},
		{"-n", ckBackend, "addr", "add", "198.18.255.2/30", "dev", "ck-be"},
		{"-n", ckBackend, "link", "set", "ck-be", "up"},
		// Every address of 198.19.0.0/16 is local in the backend namespace.
		{"-n", ckBackend, "route", "add", "local", "198.19.0.0/16", "dev", "lo"},
		{"-n", ckDirector, "route", "add", "198.19.0.0/16", "via", "198.18.255.2"},
	} {
		if err := run(nil, "ip", args...); err != nil {
			return err
		}
	}
	return nil
}

// startSink starts `luvs bench sink` in the backend namespace and waits
// until it listens.
func startSink(luvs, logFile string) (*exec.Cmd, error) {
	cmd := exec.Command("ip", "netns", "exec", ckBackend, luvs, "bench", "sink", "--listen", fmt.Sprintf("0.0.0.0:%d", ckPort))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if cmd.Stderr, err = os.Create(logFile); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		msg, _ := os.ReadFile(logFile)
		return nil, fmt.Errorf("luvs bench sink did not start: %q %v: %s", line, err, bytes.TrimSpace(msg))
	}
	return cmd, nil
}

// measureDaemon starts one daemon in the director namespace, waits for its
// table and a warm-up, measures its CPU time and the connects made over
// o.Measure, checks the table again and stops it.
func measureDaemon(o ChecksOptions, name, workload string, argv []string, logFile string) (CheckRow, error) {
	row := CheckRow{Daemon: name, Workload: workload, Checks: o.Services * o.Dests}
	if err := run(nil, "ip", "netns", "exec", ckDirector, "ipvsadm", "-C"); err != nil {
		return row, err
	}
	logf, err := os.Create(logFile)
	if err != nil {
		return row, err
	}
	defer logf.Close()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ckDirector}, argv...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return row, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	pid := cmd.Process.Pid
	stopped := false
	fail := func(err error) (CheckRow, error) {
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
		tail, _ := os.ReadFile(logFile)
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return row, fmt.Errorf("%s, %s: %w\n%s", name, workload, err, bytes.TrimSpace(tail))
	}

	// The table: every service and real server installed, none drained.
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := checkTable(o)
		if err == nil {
			break
		}
		select {
		case err := <-exited:
			stopped = true
			return fail(fmt.Errorf("exited before its table was complete: %v", err))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fail(fmt.Errorf("table not complete after 60 s: %v", err))
		}
	}
	time.Sleep(o.Warmup)

	cpu0, err := treeCPU(pid)
	if err != nil {
		return fail(err)
	}
	opens0, err := activeOpens(pid)
	if err != nil {
		return fail(err)
	}
	idle0, total0, err := cpuIdle()
	if err != nil {
		return fail(err)
	}
	start := time.Now()
	select {
	case err := <-exited:
		stopped = true
		return fail(fmt.Errorf("exited while measured: %v", err))
	case <-time.After(o.Measure):
	}
	cpu1, err := treeCPU(pid)
	if err != nil {
		return fail(err)
	}
	opens1, err := activeOpens(pid)
	if err != nil {
		return fail(err)
	}
	row.Elapsed = time.Since(start)
	idle1, total1, err := cpuIdle()
	if err != nil {
		return fail(err)
	}
	if total1 > total0 {
		row.Idle = float64(idle1-idle0) / float64(total1-total0)
	}
	row.Connects = opens1 - opens0
	for p, t := range cpu1 {
		row.CPU += t - cpu0[p] // a process started while measured counts from 0
	}
	svcs, dests, zero, err := tableCounts()
	if err != nil {
		return fail(err)
	}
	if svcs != o.Services {
		return fail(fmt.Errorf("after the measurement ipvsadm -Sn shows %d services, want %d", svcs, o.Services))
	}
	row.Failed = o.Services*o.Dests - dests + zero

	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
	stopped = true
	return row, nil
}

// checkTable reports whether the director has the whole table with every
// real server's weight above zero (no check failed).
func checkTable(o ChecksOptions) error {
	svcs, dests, zero, err := tableCounts()
	if err != nil {
		return err
	}
	if svcs != o.Services || dests != o.Services*o.Dests || zero != 0 {
		return fmt.Errorf("ipvsadm -Sn shows %d services and %d real servers (%d of weight 0), want %d and %d (none of weight 0)",
			svcs, dests, zero, o.Services, o.Services*o.Dests)
	}
	return nil
}

// tableCounts counts the director's services, real servers and real
// servers of weight 0.
func tableCounts() (svcs, dests, zero int, err error) {
	out, err := output("ip", "netns", "exec", ckDirector, "ipvsadm", "-Sn")
	if err != nil {
		return 0, 0, 0, err
	}
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "-A "):
			svcs++
		case strings.HasPrefix(l, "-a "):
			dests++
			if strings.HasSuffix(l, " -w 0") {
				zero++
			}
		}
	}
	return svcs, dests, zero, nil
}

// treeCPU returns the CPU time (utime+stime) of pid and of every process
// descended from it, by pid.
func treeCPU(root int) (map[int]time.Duration, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	type stat struct {
		ppid int
		cpu  time.Duration
	}
	all := map[int]stat{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // exited
		}
		// After "pid (comm) ": state ppid ... utime(14) stime(15), counting
		// fields from 1 as proc(5) does.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		all[pid] = stat{ppid, time.Duration(ut+st) * time.Second / clockTicks}
	}
	if _, ok := all[root]; !ok {
		return nil, fmt.Errorf("process %d is gone", root)
	}
	out := map[int]time.Duration{}
	for pid, s := range all {
		for p := pid; p > 1; p = all[p].ppid {
			if p == root {
				out[pid] = s.cpu
				break
			}
			if _, ok := all[p]; !ok {
				break
			}
		}
	}
	return out, nil
}

// cpuIdle returns the machine's idle and total CPU time (in ticks) from
// /proc/stat.
func cpuIdle() (idle, total int64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, errors.New("/proc/stat: no cpu line")
	}
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		total += n
		if i == 3 || i == 4 { // idle, iowait
			idle += n
		}
	}
	return idle, total, nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times (100 on Linux).
const clockTicks = 100

// activeOpens returns TCP ActiveOpens of pid's network namespace.
func activeOpens(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/snmp", pid))
	if err != nil {
		return 0, err
	}
	var head []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "Tcp: ") {
			continue
		}
		f := strings.Fields(l)
		if head == nil {
			head = f
			continue
		}
		for i, h := range head {
			if h == "ActiveOpens" && i < len(f) {
				return strconv.ParseInt(f[i], 10, 64)
			}
		}
	}
	return 0, errors.New("no Tcp ActiveOpens in /proc/net/snmp")
}

// PrintChecks writes the rows as an aligned table, with luvs's CPU per
// check relative to keepalived's for each workload.
func PrintChecks(w io.Writer, rows []CheckRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "daemon\tworkload\tconnects\tchecks/s asked\tconnects/s\tCPU ms\tCPU ms/check\tCPU ms/connect\tvs keepalived\tfailed at end\tidle")
	peer := map[string]float64{}
	for _, r := range rows {
		secs := r.Elapsed.Seconds()
		cpu := float64(r.CPU) / float64(time.Millisecond)
		perCheck := cpu / (float64(r.Checks) * secs)
		perConnect := 0.0
		if r.Connects > 0 {
			perConnect = cpu / float64(r.Connects)
		}
		vs := "-"
		if r.Daemon == "keepalived" {
			peer[r.Workload] = perCheck
		} else if p := peer[r.Workload]; p > 0 {
			vs = fmt.Sprintf("%.2fx", perCheck/p)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.0f\t%.0f\t%.3f\t%.3f\t%s\t%d\t%.0f%%\n", r.Daemon, r.Workload, r.Connects, r.Checks,
			float64(r.Connects)/secs, cpu, perCheck, perConnect, vs, r.Failed, 100*r.Idle)
	}
	tw.Flush()
}

// Sink accepts TCP connections on addr and closes them at once, until
// killed; it prints "ready" on standard output once it listens. It is the
// backend of the checks benchmark (one blocking accept loop: the least
// work per connection).
func Sink(addr string) error {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Is4() {
		return fmt.Errorf("--listen %q: want IPv4:PORT", addr)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return err
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
		return fmt.Errorf("bind %s: %w", addr, err)
	}
	if err := unix.Listen(fd, 4096); err != nil {
		return err
	}
	fmt.Println("ready")
	for {
		c, _, err := unix.Accept4(fd, unix.SOCK_CLOEXEC)
		if err != nil {
			if err == unix.EINTR || err == unix.ECONNABORTED {
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		unix.Close(c)
	}
}
