package engine

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// scheduler runs the probes of many monitors: a heap ordered by each
// monitor's next due time, and at most `limit` probes in flight, each in its
// own goroutine. Idle monitors cost a heap entry, not a goroutine.
type scheduler struct {
	limit int
	probe func(context.Context, *monitor) (time.Time, bool)

	mu   sync.Mutex
	h    monitorHeap
	wake chan struct{}
}

func newScheduler(limit int, probe func(context.Context, *monitor) (time.Time, bool)) *scheduler {
	if limit <= 0 {
		limit = 1024
	}
	return &scheduler{limit: limit, probe: probe, wake: make(chan struct{}, 1)}
}

// add queues a monitor for its m.next time.
func (s *scheduler) add(m *monitor) {
	s.mu.Lock()
	heap.Push(&s.h, m)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run dispatches due probes until ctx is done, then waits for those in flight.
func (s *scheduler) run(ctx context.Context) {
	slots := make(chan struct{}, s.limit)
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		var due *monitor
		wait := time.Hour
		if len(s.h) > 0 {
			if d := time.Until(s.h[0].next); d <= 0 {
				due = heap.Pop(&s.h).(*monitor)
			} else {
				wait = d
			}
		}
		s.mu.Unlock()
		if due != nil {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func(m *monitor) {
				defer wg.Done()
				next, again := s.probe(ctx, m)
				<-slots
				if again {
					m.next = next
					s.add(m)
				}
			}(due)
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// monitorHeap orders monitors by next due time.
type monitorHeap []*monitor

func (h monitorHeap) Len() int           { return len(h) }
func (h monitorHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h monitorHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *monitorHeap) Push(x any) {
	m := x.(*monitor)
	m.index = len(*h)
	*h = append(*h, m)
}
func (h *monitorHeap) Pop() any {
	old := *h
	m := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return m
}
