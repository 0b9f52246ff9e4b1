// Package testlog gives tests a log sink that many goroutines may write to
// while the test reads it.
package testlog

import (
	"strings"
	"sync"
)

// Buffer is an io.Writer safe for concurrent use, whose String returns all
// that was written so far. The zero value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
