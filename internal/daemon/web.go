package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/luvs-lb/luvs/internal/status"
)

// CheckWebAddr reports whether addr is HOST:PORT, without listening.
func CheckWebAddr(addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("address %q: %w (want HOST:PORT, e.g. 127.0.0.1:9477)", addr, err)
	}
	return nil
}

// listenWeb opens the web listener; an address without a port is bad
// input, reported at once rather than after the daemon has started.
func listenWeb(addr string) (net.Listener, error) {
	if err := CheckWebAddr(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("web listener: %w", err)
	}
	return ln, nil
}

// webHandler is the web listener's: the status page (/), its data as JSON
// (/api/v1/status, what `luvs status --json` prints) and /metrics.
func (d *Daemon) webHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", status.Handler(d.Status, States))
	mux.Handle("GET /metrics", d.metrics.Handler(slog.NewLogLogger(d.log.Handler(), slog.LevelError)))
	return mux
}

// serveWeb serves the web listener until ctx is done.
func (d *Daemon) serveWeb(ctx context.Context) error {
	srv := &http.Server{Handler: d.webHandler(), ReadHeaderTimeout: 10 * time.Second}
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	defer stop()
	addr := d.met.Addr().String()
	d.log.Info("web listening: status page, /api/v1/status and /metrics", "addr", addr, "url", "http://"+addr+"/")
	if err := srv.Serve(d.met); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
