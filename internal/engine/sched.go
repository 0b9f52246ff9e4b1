package engine

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/luvs-lb/luvs/internal/crash"
)

// scheduler runs the probes of many monitors: a heap ordered by each
// monitor's next due time, and at most `limit` probes in flight, on as many
// workers. Idle monitors cost a heap entry, not a goroutine. The engine
// loop queues a monitor again (add) when it has handled its verdict, and
// takes out monitors that are no longer configured (remove).
type scheduler struct {
	limit int
	// try starts a probe on the scheduler's goroutine (see
	// Engine.tryProbe); probe runs it, or its rest, on a worker.
	try   func(context.Context, *monitor) (rest func() ProbeResult, done bool)
	probe func(context.Context, *monitor, func() ProbeResult)

	mu   sync.Mutex
	h    monitorHeap
	wake chan struct{}
}

func newScheduler(limit int, try func(context.Context, *monitor) (func() ProbeResult, bool),
	probe func(context.Context, *monitor, func() ProbeResult)) *scheduler {
	if limit <= 0 {
		limit = 1024
	}
	return &scheduler{limit: limit, try: try, probe: probe, wake: make(chan struct{}, 1)}
}

// job is a probe for a worker: a whole one, or the rest of one.
type job struct {
	m    *monitor
	rest func() ProbeResult
}

// add queues m to be probed at `at`.
func (s *scheduler) add(m *monitor, at time.Time) {
	s.mu.Lock()
	m.next = at
	if m.index >= 0 {
		heap.Fix(&s.h, m.index)
	} else {
		heap.Push(&s.h, m)
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// remove takes m out of the queue (a probe in flight still finishes).
func (s *scheduler) remove(m *monitor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.index >= 0 {
		heap.Remove(&s.h, m.index)
	}
}

// queued is the number of monitors waiting for their next probe.
func (s *scheduler) queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.h)
}

// run dispatches due probes until ctx is done, then waits for those in
// flight. A probe that can finish without waiting (see Engine.tryProbe)
// runs here; the others run on workers that live until ctx is done: a due
// probe goes to an idle worker, or to a new one while there are fewer than
// limit, else waits for one to be free. Long-lived workers keep their grown
// stacks, so that a probe costs no goroutine start and no stack growth.
func (s *scheduler) run(ctx context.Context) {
	defer crash.Guard()
	work := make(chan job)
	var wg sync.WaitGroup
	defer wg.Wait()
	workers := 0
	worker := func(j job) {
		defer wg.Done()
		defer crash.Guard()
		for {
			s.probe(ctx, j.m, j.rest)
			select {
			case j = <-work:
			case <-ctx.Done():
				return
			}
		}
	}
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
			rest, done := s.try(ctx, due)
			if done {
				continue
			}
			j := job{due, rest}
			select {
			case work <- j:
				continue
			default:
			}
			if workers < s.limit {
				workers++
				wg.Add(1)
				go worker(j)
				continue
			}
			select {
			case work <- j:
			case <-ctx.Done():
				return
			}
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

// monitorHeap orders monitors by next due time; each knows its index (-1
// when not queued).
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
	m.index = -1
	*h = old[:len(old)-1]
	return m
}
