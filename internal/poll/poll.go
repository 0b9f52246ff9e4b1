// Package poll waits, in tests, for a condition to hold.
package poll

import (
	"testing"
	"time"
)

// Until calls cond every 5 ms until it holds and returns how long that
// took; after timeout it fails tb, saying what it waited for.
func Until(tb testing.TB, what string, timeout time.Duration, cond func() bool) time.Duration {
	tb.Helper()
	start := time.Now()
	for {
		if cond() {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			tb.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
