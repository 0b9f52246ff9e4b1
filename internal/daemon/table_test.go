package daemon

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/luvs-lb/luvs/internal/ipvs"
)

type countingTable struct{ n atomic.Int32 }

func (c *countingTable) Table() ([]ipvs.Service, error) {
	c.n.Add(1)
	time.Sleep(20 * time.Millisecond) // a slow read
	return []ipvs.Service{{}}, nil
}

// TestSharedTable: callers arriving together share one read; a read older
// than maxAge is made again.
func TestSharedTable(t *testing.T) {
	k := &countingTable{}
	s := &sharedTable{k: k, maxAge: 200 * time.Millisecond}
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if tb, err := s.Table(); err != nil || len(tb) != 1 {
				t.Errorf("Table() = %v, %v", tb, err)
			}
		}()
	}
	wg.Wait()
	if n := k.n.Load(); n != 1 {
		t.Errorf("%d reads for 10 callers together, want 1", n)
	}
	time.Sleep(250 * time.Millisecond)
	s.Table()
	if n := k.n.Load(); n != 2 {
		t.Errorf("%d reads after maxAge, want 2", n)
	}
}
