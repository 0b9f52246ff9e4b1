package status

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"sort"
	"strings"
)

//go:embed page.html
var pageHTML string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"bytes":     humanBytes,
	"weights":   weights,
	"detail":    detail,
	"lastCheck": lastCheck,
	"errorAt":   errorAt,
}).Parse(pageHTML))

// PageRefresh is how often the page reloads itself, in seconds.
const PageRefresh = 5

// Source returns the status to show.
type Source func() Status

// Handler serves the status page at / (a server-rendered page without
// external assets, readable without JavaScript, refreshing itself; ?q=
// filters the services) and the same data as JSON at /api/v1/status.
func Handler(src Source, states []string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; form-action 'self'")
		if err := page.Execute(w, newPageData(src(), r.URL.Query().Get("q"), states)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /api/v1/status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(src()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	return mux
}

type pageData struct {
	S       Status
	Query   string
	Refresh int
	Total   int
	Servers int
	Counts  []stateCount
	Shown   []shownService
	States  []string
}

type stateCount struct {
	State string
	N     int
}

type shownService struct {
	S    ServiceStatus
	Text string // what the filter matches, lower case
}

func newPageData(s Status, q string, states []string) pageData {
	d := pageData{S: s, Query: q, Refresh: PageRefresh, Total: len(s.Services), States: states}
	words := strings.Fields(strings.ToLower(q))
	counts := map[string]int{}
	for _, sv := range s.Services {
		d.Servers += len(sv.Servers)
		for _, v := range sv.Servers {
			counts[v.State]++
		}
		text := searchText(sv)
		if matches(text, words) {
			d.Shown = append(d.Shown, shownService{sv, text})
		}
	}
	for st, n := range counts {
		d.Counts = append(d.Counts, stateCount{st, n})
	}
	order := map[string]int{}
	for i, st := range states {
		order[st] = i
	}
	sort.Slice(d.Counts, func(i, j int) bool { return order[d.Counts[i].State] < order[d.Counts[j].State] })
	return d
}

// searchText is what a filter word may match in a service: its address,
// name, state and scheduler, and each server's address, name and state.
func searchText(sv ServiceStatus) string {
	parts := []string{sv.Service, sv.Name, sv.State, sv.Scheduler}
	for _, v := range sv.Servers {
		parts = append(parts, v.Server, v.Name, v.State)
	}
	return strings.ToLower(strings.Join(parts, " "))
}

func matches(text string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

// lastCheck is the check to show in a server's row: the first failing
// one, else the first.
func lastCheck(cs []CheckStatus) *CheckStatus {
	for i := range cs {
		if cs[i].LastAt != "" && !cs[i].LastOK {
			return &cs[i]
		}
	}
	if len(cs) > 0 {
		return &cs[0]
	}
	return nil
}

var errorPosition = regexp.MustCompile(`(?m)^\s*([^\s:]+:\d+(?::\d+)?):`)

// errorAt is where a rejected configuration's first error is (file:line:col):
// the page names the place, never the message, which may quote the file.
func errorAt(msg string) string {
	if m := errorPosition.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return ""
}

// humanBytes renders a byte count as "512 B", "1.5 KiB", "3.2 MiB".
func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
