// Package bench measures luvs against ipvsadm on a real IPVS kernel. Each
// method runs in a fresh network namespace (IPVS state is per namespace), as
// a separate process started the same way for both tools, and the resulting
// tables are compared so that a fast wrong answer cannot win.
package bench

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// KernelOptions size the apply/list benchmark.
type KernelOptions struct {
	Services int    // virtual services
	Dests    int    // real servers per service
	Luvs     string // path of the luvs binary
	Repeat   int    // runs of each listing (the median is reported)
	// ApplyRounds is how often the table is built from scratch by each tool.
	ApplyRounds int
	// Brief leaves out the slow rows that add no news at large sizes: one
	// request per round trip, and the re-applies.
	Brief bool
}

// Row is one line of the result table.
type Row struct {
	Operation string
	Luvs      time.Duration
	Peer      time.Duration // zero when there is no ipvsadm counterpart
	PeerName  string
	Floor     time.Duration // zero when there is no floor for the operation
	// LuvsRSS is the largest peak resident set size of luvs's runs (bytes;
	// zero when not measured).
	LuvsRSS int64
}

// Rules returns ipvsadm rules for n services with m NAT real servers each,
// all in 198.18.0.0/15: VIPs 198.18.x.y:80, real servers 198.19.x.y:8080
// (the k-th real server's address repeats every 64,000, on the next port).
func Rules(n, m int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		vip := fmt.Sprintf("198.18.%d.%d:80", i/250, i%250+1)
		fmt.Fprintf(&b, "-A -t %s -s wrr\n", vip)
		for j := 0; j < m; j++ {
			k := i*m + j
			a := k % 64000
			fmt.Fprintf(&b, "-a -t %s -r 198.19.%d.%d:%d -m -w %d\n", vip, a/250, a%250+1, 8080+k/64000, 1+j%5)
		}
	}
	return b.String()
}

// LuaConfig returns a luvs configuration that asks for the table of
// Rules(n, m), built by a Lua loop.
func LuaConfig(n, m int) string {
	return fmt.Sprintf(`for i = 0, %d - 1 do
  local reals = {}
  for j = 0, %d - 1 do
    local k = i * %d + j
    local a = k %% 64000
    reals[#reals + 1] = real_server(string.format("198.19.%%d.%%d:%%d", math.floor(a / 250), a %% 250 + 1, 8080 + math.floor(k / 64000))) { weight = 1 + j %% 5 }
  end
  virtual_server(string.format("198.18.%%d.%%d:80", math.floor(i / 250), i %% 250 + 1)) { scheduler = "wrr", forward = "nat", servers = reals }
end
`, n, m, m)
}

// Kernel runs the benchmark and returns its rows. It needs root, ip and
// ipvsadm, and creates and deletes namespaces named luvs-bench-*.
func Kernel(o KernelOptions, progress io.Writer) ([]Row, error) {
	dir, err := os.MkdirTemp("", "luvs-bench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	rules := filepath.Join(dir, "rules")
	if err := os.WriteFile(rules, []byte(Rules(o.Services, o.Dests)), 0o644); err != nil {
		return nil, err
	}
	changed := filepath.Join(dir, "changed")
	if err := os.WriteFile(changed, []byte(strings.Replace(Rules(o.Services, o.Dests), "-m -w 1\n", "-m -w 9\n", o.Services/10)), 0o644); err != nil {
		return nil, err
	}
	config := filepath.Join(dir, "bench.lua")
	if err := os.WriteFile(config, []byte(LuaConfig(o.Services, o.Dests)), 0o644); err != nil {
		return nil, err
	}
	size := fmt.Sprintf("%d services x %d real servers", o.Services, o.Dests)
	var rows []Row
	step := func(format string, args ...any) { fmt.Fprintf(progress, "bench: "+format+"\n", args...) }

	// One fresh namespace per method and round. The floor is the least work
	// that builds the table (see Floor); it runs in the luvs binary, so it
	// pays the same process start.
	nsPeer, nsLuvs, nsSingle, nsApply, nsFloor := "luvs-bench-ipvsadm", "luvs-bench-luvs", "luvs-bench-single", "luvs-bench-apply", "luvs-bench-floor"
	all := []string{nsPeer, nsLuvs, nsSingle, nsApply, nsFloor}
	defer func() {
		for _, ns := range all {
			_ = exec.Command("ip", "netns", "del", ns).Run()
		}
	}()
	sizeArgs := []string{"--services", fmt.Sprint(o.Services), "--dests", fmt.Sprint(o.Dests)}
	type method struct {
		ns, stdin string
		argv      []string
		runs      []time.Duration
		rss       int64
	}
	methods := []*method{
		{nsPeer, rules, []string{"ipvsadm", "-R"}, nil, 0},
		{nsLuvs, "", []string{o.Luvs, "restore", "-q", rules}, nil, 0},
		{nsSingle, "", []string{o.Luvs, "restore", "-q", "--batch", "1", rules}, nil, 0},
		{nsApply, "", []string{o.Luvs, "apply", "-q", "--load-time-limit", "120s", config}, nil, 0}, // (TCG is slow)
		{nsFloor, "", append([]string{o.Luvs, "bench", "floor"}, sizeArgs...), nil, 0},
	}
	byNS := map[string]*method{}
	for _, m := range methods {
		byNS[m.ns] = m
	}
	if o.Brief { // without --batch 1
		methods = slices.DeleteFunc(methods, func(m *method) bool { return m.ns == nsSingle })
		all = slices.DeleteFunc(all, func(ns string) bool { return ns == nsSingle })
	}
	// Apply: each round starts from fresh, empty namespaces; the median of
	// the rounds is reported. Process start is timed in the same rounds.
	var startRuns []time.Duration
	var startRSS int64
	for round := 1; round <= o.ApplyRounds; round++ {
		for _, ns := range all {
			if err := freshNetns(ns); err != nil {
				return nil, err
			}
		}
		step("round %d/%d: %s: ipvsadm -R, luvs restore,%s luvs apply, floor", round, o.ApplyRounds, size, map[bool]string{false: " luvs restore --batch 1,"}[o.Brief])
		for _, m := range methods {
			r, err := timed(m.stdin, "ip", append([]string{"netns", "exec", m.ns}, m.argv...)...)
			if err != nil {
				return nil, err
			}
			m.runs = append(m.runs, r.d)
			m.rss = max(m.rss, r.rss)
		}
		r, err := timed("", "ip", "netns", "exec", nsFloor, o.Luvs, "--version")
		if err != nil {
			return nil, err
		}
		startRuns = append(startRuns, r.d)
		startRSS = max(startRSS, r.rss)
	}
	peer, floor := med(byNS[nsPeer].runs), med(byNS[nsFloor].runs)
	row := func(op, ns string) Row {
		return Row{op, med(byNS[ns].runs), peer, "ipvsadm -R", floor, byNS[ns].rss}
	}
	rows = append(rows, row("apply "+size+" (luvs restore)", nsLuvs))
	if !o.Brief {
		rows = append(rows, row("same, one request per round trip (--batch 1)", nsSingle))
	}
	rows = append(rows, row("same from a Lua loop (luvs apply)", nsApply),
		Row{"floor: pre-encoded messages, no table read", floor, peer, "ipvsadm -R", floor, 0},
		Row{Operation: "process start (luvs --version)", Luvs: med(startRuns), LuvsRSS: startRSS})

	// Same tables? Compare ipvsadm's own view of every namespace.
	want, err := output("ip", "netns", "exec", nsPeer, "ipvsadm", "-Sn")
	if err != nil {
		return nil, err
	}
	for _, ns := range all[1:] {
		got, err := output("ip", "netns", "exec", ns, "ipvsadm", "-Sn")
		if err != nil {
			return nil, err
		}
		if got != want {
			return nil, fmt.Errorf("table in %s differs from the one ipvsadm -R built", ns)
		}
	}
	if n := strings.Count(want, "\n-a "); n != o.Services*o.Dests {
		return nil, fmt.Errorf("expected %d real servers, ipvsadm -Sn shows %d", o.Services*o.Dests, n)
	}

	step("list and save, alternating luvs and ipvsadm, median of %d", o.Repeat)
	for _, pair := range []struct{ op, peerName, peer, luvs string }{
		{"list", "ipvsadm -Ln", "-Ln", "list"},
		{"save", "ipvsadm -Sn", "-Sn", "save"},
	} {
		var lr, pr []time.Duration
		var lrss int64
		for i := 0; i < o.Repeat; i++ {
			r, err := timed("", "ip", "netns", "exec", nsPeer, "ipvsadm", pair.peer)
			if err != nil {
				return nil, err
			}
			pr = append(pr, r.d)
			if r, err = timed("", "ip", "netns", "exec", nsPeer, o.Luvs, pair.luvs); err != nil {
				return nil, err
			}
			lr, lrss = append(lr, r.d), max(lrss, r.rss)
		}
		rows = append(rows, Row{Operation: pair.op + " " + size, Luvs: med(lr), Peer: med(pr), PeerName: pair.peerName, LuvsRSS: lrss})
	}

	if o.Brief {
		return rows, nil
	}
	step("luvs restore of unchanged and of 10%%-changed rules")
	noop, err := timed("", "ip", "netns", "exec", nsLuvs, o.Luvs, "restore", "-q", rules)
	if err != nil {
		return nil, err
	}
	rows = append(rows, Row{Operation: "re-apply unchanged table (no-op)", Luvs: noop.d, LuvsRSS: noop.rss})
	inc, err := timed("", "ip", "netns", "exec", nsLuvs, o.Luvs, "restore", "-q", changed)
	if err != nil {
		return nil, err
	}
	rows = append(rows, Row{Operation: fmt.Sprintf("re-apply with %d weights changed", o.Services/10), Luvs: inc.d, LuvsRSS: inc.rss})
	return rows, nil
}

// Print writes rows as an aligned table with the speed-up of luvs.
func Print(w io.Writer, rows []Row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "operation\tluvs\tpeer\tpeer time\tspeed-up\tfloor\tvs floor\tluvs peak RSS")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s", r.Operation, round(r.Luvs))
		if r.Peer == 0 {
			fmt.Fprint(tw, "\t-\t-\t-")
		} else {
			fmt.Fprintf(tw, "\t%s\t%s\t%.1fx", r.PeerName, round(r.Peer), float64(r.Peer)/float64(r.Luvs))
		}
		if r.Floor == 0 {
			fmt.Fprint(tw, "\t-\t-")
		} else {
			fmt.Fprintf(tw, "\t%s\t%.2fx", round(r.Floor), float64(r.Luvs)/float64(r.Floor))
		}
		fmt.Fprintf(tw, "\t%s\n", mib(r.LuvsRSS))
	}
	tw.Flush()
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

func run(stdin io.Reader, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

func output(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return string(out), nil
}

// mib formats a byte count in MiB ("-" for zero).
func mib(n int64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
}

// measured is one run of a command: how long it took and, for luvs
// commands, their peak resident set size (bytes; 0 if not known).
type measured struct {
	d   time.Duration
	rss int64
}

// vmHWM finds the peak RSS that luvs reports with LUVS_TIMING=1.
var vmHWM = regexp.MustCompile(`VmHWM: (\d+) kB`)

// timed runs a command (with stdin from a file, if given) and returns how
// long it took; output is discarded. luvs commands run with LUVS_TIMING=1,
// which makes them print their own peak memory (VmHWM) at the end: the
// kernel's per-child maxrss cannot be used, since Go starts children with
// vfork and the count then starts from this process's own peak.
func timed(stdinFile string, name string, args ...string) (measured, error) {
	var in io.Reader
	if stdinFile != "" {
		f, err := os.Open(stdinFile)
		if err != nil {
			return measured{}, err
		}
		defer f.Close()
		in = f
	}
	cmd := exec.Command(name, args...)
	cmd.Stdin = in
	cmd.Env = append(os.Environ(), "LUVS_TIMING=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return measured{}, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	var rss int64
	if m := vmHWM.FindSubmatch(stderr.Bytes()); m != nil {
		kib, _ := strconv.ParseInt(string(m[1]), 10, 64)
		rss = kib << 10
	}
	return measured{d, rss}, nil
}

// med returns the median of ds.
func med(ds []time.Duration) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// freshNetns (re)creates an empty network namespace with lo up.
func freshNetns(ns string) error {
	_ = exec.Command("ip", "netns", "del", ns).Run()
	if err := run(nil, "ip", "netns", "add", ns); err != nil {
		return err
	}
	return run(nil, "ip", "-n", ns, "link", "set", "lo", "up")
}
