// Package control is the luvs daemon's control socket: a Unix socket,
// accessible to root only, taking one-line commands ("reload", "status")
// and answering with text.
package control

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/luvs-lb/luvs/internal/crash"
)

// DefaultPath is where `luvs run` listens and `luvs reload` connects.
const DefaultPath = "/run/luvs/luvs.sock"

// Handler answers one command; the returned text is sent back. An error is
// sent as "error: ..." and makes the client exit non-zero.
type Handler func(ctx context.Context, cmd string) (string, error)

// Listen opens the control socket at path. The socket's directory is made
// 0700 and the socket 0600, so only root can use it. A socket left by a
// process that died is replaced; one that answers belongs to a running
// daemon and is an error.
func Listen(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("control socket %s: another luvs is listening on it", path)
	}
	_ = os.Remove(path) // a stale socket from a crash
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return ln, nil
}

// Serve answers commands on ln until ctx is done, then closes ln and
// removes its socket file.
func Serve(ctx context.Context, ln net.Listener, h Handler) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() }) // (a Unix listener unlinks its socket)
	defer stop()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("control socket: %w", err)
		}
		go func() {
			defer crash.Guard()
			serveConn(ctx, c, h)
		}()
	}
}

func serveConn(ctx context.Context, c net.Conn, h Handler) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	line, err := bufio.NewReader(io.LimitReader(c, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return
	}
	out, err := h(ctx, strings.TrimSpace(line))
	if err != nil {
		fmt.Fprintf(c, "error: %v\n", err)
		return
	}
	if out != "" && !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	io.WriteString(c, out)
}

// Send sends one command to the daemon at path and returns its answer. An
// "error: " answer is returned as a *RemoteError.
func Send(path, cmd string, timeout time.Duration) (string, error) {
	c, err := net.DialTimeout("unix", path, timeout)
	if err != nil {
		return "", fmt.Errorf("cannot reach luvs at %s (is `luvs run` running?): %w", path, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	if err != nil {
		return "", err
	}
	out := string(b)
	if msg, ok := strings.CutPrefix(out, "error: "); ok {
		return "", &RemoteError{Msg: strings.TrimSpace(msg)}
	}
	return out, nil
}

// RemoteError is an error the daemon answered with (a rejected reload).
type RemoteError struct{ Msg string }

func (e *RemoteError) Error() string { return e.Msg }
