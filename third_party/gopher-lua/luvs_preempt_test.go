package lua

import (
	"context"
	"testing"
	"time"
)

// A coroutine in an endless loop is preempted and can be resumed; one that
// ends normally still returns its values.
func TestPreemptEndlessLoop(t *testing.T) {
	L := NewState()
	defer L.Close()
	if err := L.DoString(`
function spin() local n = 0 while true do n = n + 1 end end
function count(k) local n = 0 for i = 1, k do n = n + i end return n end`); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	co, _ := L.NewThread()
	co.SetContext(ctx)
	var slice time.Time
	co.SetPreempt(func() bool { return time.Now().After(slice) })
	fn := L.GetGlobal("spin").(*LFunction)
	for i := 0; i < 5; i++ {
		slice = time.Now().Add(2 * time.Millisecond)
		start := time.Now()
		st, err, _ := L.Resume(co, fn)
		fn = nil
		if st != ResumeYield || err != nil || !co.Preempted() {
			t.Fatalf("resume %d: %v %v preempted=%v", i, st, err, co.Preempted())
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Fatalf("slice of 2ms took %s", d)
		}
	}
	co2, _ := L.NewThread()
	co2.SetContext(ctx)
	co2.SetPreempt(func() bool { return true })
	st, err, vals := L.Resume(co2, L.GetGlobal("count").(*LFunction), LNumber(100000))
	for st == ResumeYield && co2.Preempted() {
		st, err, vals = L.Resume(co2, nil)
	}
	if st != ResumeOK || err != nil || len(vals) != 1 || vals[0] != LNumber(5000050000) {
		t.Fatalf("count: %v %v %v", st, err, vals)
	}
}
