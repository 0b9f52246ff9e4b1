package daemon

import (
	"sync"
	"time"

	"github.com/luvs-lb/luvs/internal/ipvs"
)

// tableReader is the kernel's table with its counters, for the status page
// and the metrics.
type tableReader interface {
	Table() ([]ipvs.Service, error)
}

// sharedTable reads the kernel's table for status requests and metric
// scrapes at most once per maxAge (the kernel refreshes its rate
// estimates every 2 s anyway): at 10,000 services a read takes a good
// part of a second, and a page, its JSON and a scrape arriving together
// wait for one read instead of making three. Callers must not change the
// table they get.
type sharedTable struct {
	k      tableReader
	maxAge time.Duration

	mu    sync.Mutex // held during a read: concurrent callers wait for it
	at    time.Time
	table []ipvs.Service
	err   error
}

func (s *sharedTable) Table() ([]ipvs.Service, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.at.IsZero() || time.Since(s.at) >= s.maxAge {
		s.table, s.err = s.k.Table()
		s.at = time.Now()
	}
	return s.table, s.err
}
