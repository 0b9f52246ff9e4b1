package control

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A socket left by a killed daemon is replaced; a live one is not taken.
func TestListenReplacesStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run", "luvs.sock")
	stale, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false) // as after kill -9
	stale.Close()
	ln, err := Listen(path)
	if err != nil {
		t.Fatalf("stale socket blocks a restart: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- Serve(ctx, ln, func(_ context.Context, cmd string) (string, error) { return "got " + cmd, nil })
	}()
	if _, err := Listen(path); err == nil || !strings.Contains(err.Error(), "another luvs") {
		t.Errorf("a live socket was taken over: %v", err)
	}
	out, err := Send(path, "status", 5*time.Second)
	if err != nil || out != "got status\n" {
		t.Errorf("Send = %q, %v", out, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}
