package lua

// luvs patch: time slicing of coroutines. A host that runs many coroutines
// on one goroutine (luvs's Lua health checks) cannot let one of them, stuck
// in a loop, hold the others until its deadline. With SetPreempt, the
// coroutine gives up the CPU between two instructions once fn says so: the
// Resume that ran it returns ResumeYield with no values and Preempted
// reports true; resuming it with no arguments continues where it stopped.
// Only the coroutine's outermost Lua code is sliced: code called from a Go
// function (pcall, table.sort's comparator, gsub's replacement function)
// runs on the Go stack and is left to the context's deadline.

// SetPreempt makes the thread ask fn, every 1,024 instructions, whether to
// give up the CPU (nil: never). It applies to this thread only, and only
// while it runs with a context (SetContext) as a coroutine.
func (ls *LState) SetPreempt(fn func() bool) { ls.preempt = fn }

// Preempted reports whether the last Resume of the thread returned because
// it was preempted (rather than by a yield, an error or its end).
func (ls *LState) Preempted() bool { return ls.preempted }

// preemptThread suspends L as a yield of no values would, leaving its
// current frame to be continued by the next Resume.
func preemptThread(L *LState) {
	parent := L.Parent
	L.G.CurrentThread = parent
	L.Parent = nil
	if !L.wrapped {
		parent.Push(LTrue)
	}
	L.preempted = true
}
