package check

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	stdlog "log"

	"github.com/luvs-lb/luvs/internal/model"
)

// benchParallelism is how many probes per GOMAXPROCS are in flight at once,
// as the daemon runs many checks concurrently.
const benchParallelism = 32

// benchProbes runs b.N probes of c on tgt in parallel and reports probes/s.
// The server runs in the same process, so the figure includes its cost.
func benchProbes(b *testing.B, c Checker, tgt Target) {
	b.SetParallelism(benchParallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			r := c.Probe(ctx, tgt)
			cancel()
			if !r.OK {
				b.Error(fmtResult(r))
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "probes/s")
}

func BenchmarkTCPProbes(b *testing.B) {
	needNet(b)
	ln := listen(b, addr1)
	acceptAndClose(ln)
	benchProbes(b, mustNew(b, model.Check{Kind: model.CheckTCP}), targetOf(ln.Addr()))
}

func BenchmarkHTTPProbes(b *testing.B) {
	needNet(b)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	}))
	srv.Listener.Close()
	srv.Listener = listen(b, addr1)
	srv.Config.ErrorLog = stdlog.New(io.Discard, "", 0)
	srv.Start()
	defer srv.Close()
	c := mustNew(b, model.Check{Kind: model.CheckHTTP, HTTP: &model.HTTPCheck{Path: "/health", Body: "ok"}})
	benchProbes(b, c, targetOf(srv.Listener.Addr()))
}
