package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// LUVS_TIMING=1 makes restore and apply print how long each phase took on
// stderr: a tool for finding where a one-shot command's time goes.
var (
	timing    = os.Getenv("LUVS_TIMING") != ""
	mainStart = time.Now() // when package main is initialised, after every dependency
	lastPhase = mainStart
)

// phase reports the time since the previous phase (or since main started).
func phase(name string) {
	if !timing {
		return
	}
	now := time.Now()
	fmt.Fprintf(os.Stderr, "luvs: timing: %-8s %9.2f ms\n", name, float64(now.Sub(lastPhase).Microseconds())/1000)
	lastPhase = now
}

// timingStart reports how long the process ran before main (exec, runtime
// and package initialisation; 10 ms resolution, from /proc).
func timingStart() {
	if !timing {
		return
	}
	if age, ok := processAge(); ok {
		fmt.Fprintf(os.Stderr, "luvs: timing: %-8s %9.2f ms (exec and init, 10 ms resolution)\n", "start", float64((age-time.Since(mainStart)).Microseconds())/1000)
	}
}

// timingEnd reports the whole run and the garbage collector's share.
func timingEnd() {
	if !timing {
		return
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(os.Stderr, "luvs: timing: %-8s %9.2f ms since main; %d GC(s), %.2f ms paused, %d MiB allocated\n", "total",
		float64(time.Since(mainStart).Microseconds())/1000, ms.NumGC, float64(ms.PauseTotalNs)/1e6, ms.TotalAlloc>>20)
	// Memory: what the Go runtime holds, and what the kernel counts.
	rss := ""
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "VmHWM:") || strings.HasPrefix(line, "Rss") {
				rss += "; " + strings.Join(strings.Fields(line), " ")
			}
		}
	}
	fmt.Fprintf(os.Stderr, "luvs: timing: memory   %d MiB heap in use, %d MiB from the OS%s\n", ms.HeapInuse>>20, ms.Sys>>20, rss)
}

// processAge is how long ago this process started.
func processAge() (time.Duration, bool) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+2:]
	}
	f := strings.Fields(s)
	if len(f) < 20 {
		return 0, false
	}
	ticks, err := strconv.ParseFloat(f[19], 64) // field 22, starttime
	if err != nil {
		return 0, false
	}
	up, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0, false
	}
	uf := strings.Fields(string(up))
	if len(uf) == 0 {
		return 0, false
	}
	u, err := strconv.ParseFloat(uf[0], 64)
	if err != nil {
		return 0, false
	}
	return time.Duration((u - ticks/100) * float64(time.Second)), true
}
