package lua

// luvs patch: per-state memory budgets.
//
// A Budget counts the bytes a state allocates at its main allocation sites
// (strings made by the VM and the string, table and base libraries, tables
// and their growth, closures, userdata, threads and stack growth) and
// refuses an allocation that would bring the count over the limit, before it
// is made. The count is cumulative: bytes are charged when allocated and
// never given back when the garbage collector frees them, so the same script
// is always charged the same amount. Sizes are estimates of what the Go
// runtime allocates (string bytes plus a 16-byte header, 16 bytes per array
// slot, a fixed amount per hash entry); numbers boxed into interfaces and
// short-lived temporaries are not counted.

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strings"
	"unsafe"
)

// ErrMemoryLimit is what a *MemoryLimitError unwraps to.
var ErrMemoryLimit = errors.New("memory limit exceeded")

// MemoryLimitError is the cause of the Lua error raised when an allocation
// would exceed the state's budget. The *ApiError that PCall or Resume returns
// for it unwraps to it: errors.Is(err, ErrMemoryLimit).
type MemoryLimitError struct {
	What    string // what was refused ("string.rep", "table", "concatenation", ...)
	Request uint64 // bytes it would have allocated
	Used    uint64 // bytes already charged to the budget
	Limit   uint64
}

func (e *MemoryLimitError) Error() string {
	return fmt.Sprintf("memory limit exceeded: %s needs %d bytes, %d of %d already used",
		e.What, e.Request, e.Used, e.Limit)
}

func (e *MemoryLimitError) Unwrap() error { return ErrMemoryLimit }

// Budget is a memory account of limit bytes. It belongs to the goroutine
// running the states charged to it and is not safe for concurrent use.
type Budget struct {
	limit, used uint64
	err         *MemoryLimitError
}

// NewBudget returns an account that refuses allocations beyond limit bytes.
func NewBudget(limit uint64) *Budget { return &Budget{limit: limit} }

// Limit returns the budget's limit in bytes.
func (b *Budget) Limit() uint64 { return b.limit }

// Used returns the bytes charged so far (never more than the limit).
func (b *Budget) Used() uint64 { return b.used }

// Err returns the first allocation the budget refused, as a
// *MemoryLimitError, or nil. It stays set even if Lua code caught the error.
func (b *Budget) Err() error {
	if b.err == nil {
		return nil
	}
	return b.err
}

// budgetAccount is the slot holding the budget a state is charged to. A
// thread shares its creator's slot until it gets its own (SetOwnBudget).
type budgetAccount struct{ b *Budget }

// SetBudget sets the budget of this state's account, which it shares with
// the threads (coroutines) created from it that have no budget of their own.
// nil removes the bound.
func (ls *LState) SetBudget(b *Budget) { ls.acct.b = b }

// SetOwnBudget gives this state (usually a thread) an account of its own
// with budget b (nil: unbounded), no longer shared with the state it was
// created from. Threads created from it later share the new account.
func (ls *LState) SetOwnBudget(b *Budget) { ls.acct = &budgetAccount{b} }

// Budget returns the budget this state is charged to, or nil.
func (ls *LState) Budget() *Budget { return ls.acct.b }

// Charge charges n bytes to the state's budget before they are allocated
// and raises a Lua error (with a *MemoryLimitError cause) if that would
// exceed it. Go functions called from Lua can use it for what they allocate.
// Called outside a Lua call on an exhausted budget, it panics with an
// *ApiError, as RaiseError does.
func (ls *LState) Charge(n uint64, what string) {
	if b := ls.acct.b; b != nil {
		if n > b.limit-b.used {
			ls.overBudget(b, n, what)
		}
		b.used += n
	}
}

// budgeted reports whether the state is charged to a budget; callers use it
// to skip computing sizes when it is not.
func (ls *LState) budgeted() bool { return ls.acct.b != nil }

// budgetLeft returns the bytes the state may still allocate.
func (ls *LState) budgetLeft() uint64 {
	if b := ls.acct.b; b != nil {
		return b.limit - b.used
	}
	return math.MaxUint64
}

func (ls *LState) overBudget(b *Budget, n uint64, what string) {
	e := &MemoryLimitError{What: what, Request: n, Used: b.used, Limit: b.limit}
	if b.err == nil {
		b.err = e
	}
	ls.errCause = e
	ls.raiseError(1, "%s", e.Error())
}

// takeErrCause returns and clears the cause recorded for the error being raised.
func (ls *LState) takeErrCause() error {
	if ls.errCause == nil {
		return nil
	}
	e := ls.errCause
	ls.errCause = nil
	return e
}

// Estimated sizes of what the allocation sites make.
const (
	stringHeaderBytes = 16  // an LString boxed in an LValue
	slotBytes         = 16  // one LValue in an array or the registry
	hashEntryBytes    = 256 // one new key: map entry, keys slice, k2i entry (amortized)
	hashInitBytes     = 2560
	matchBytes        = 96 // one pm.MatchData with its capture slice
)

var (
	tableBytes    = uint64(unsafe.Sizeof(LTable{}))
	functionBytes = uint64(unsafe.Sizeof(LFunction{}))
	upvalueBytes  = uint64(unsafe.Sizeof(Upvalue{})) + 8
	userdataBytes = uint64(unsafe.Sizeof(LUserData{}))
	stateBytes    = uint64(unsafe.Sizeof(LState{}))
	frameBytes    = uint64(unsafe.Sizeof(callFrame{}))
)

// stringBytes is the charge for a new string of n bytes.
func stringBytes(n int) uint64 { return uint64(n) + stringHeaderBytes }

// mulBytes returns a*b, or MaxUint64 when that overflows.
func mulBytes(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return math.MaxUint64
	}
	return lo
}

// chargeNewTable charges a table made with the given capacities.
func (ls *LState) chargeNewTable(acap, hcap int) {
	if ls.budgeted() {
		n := tableBytes + uint64(max(acap, 0))*slotBytes
		if hcap > 0 {
			n += uint64(hcap) * hashEntryBytes / 2
		}
		ls.Charge(n, "table")
	}
}

// arrayGrowth is what making tb's array part hold n entries allocates.
func arrayGrowth(tb *LTable, n int) uint64 {
	c := cap(tb.array)
	if tb.array == nil {
		c = defaultArrayCap
		if n <= c {
			return uint64(c) * slotBytes
		}
	}
	if n <= c {
		return 0
	}
	newcap := c + c/4 // what append grows large slices by
	if c < 256 {
		newcap = 2 * c
	}
	return uint64(max(newcap, n)) * slotBytes
}

// chargeArray charges making tb's array part hold n entries.
func (ls *LState) chargeArray(tb *LTable, n int) {
	if ls.budgeted() {
		if g := arrayGrowth(tb, n); g > 0 {
			ls.Charge(g, "table")
		}
	}
}

// chargeTableSet charges setting key (not yet in tb) to value.
func (ls *LState) chargeTableSet(tb *LTable, key LValue, value LValue) {
	if !ls.budgeted() || value == LNil {
		return
	}
	if n, ok := key.(LNumber); ok && isArrayKey(n) {
		if idx := int(n); idx > len(tb.array) {
			ls.chargeArray(tb, idx)
		}
		return
	}
	if s, ok := key.(LString); ok {
		ls.chargeTableSetString(tb, string(s), value)
		return
	}
	if tb.RawGetH(key) != LNil {
		return
	}
	n := uint64(hashEntryBytes)
	if tb.dict == nil {
		n += hashInitBytes
	}
	ls.Charge(n, "table")
}

// chargeTableSetString charges setting the string key to value in tb.
func (ls *LState) chargeTableSetString(tb *LTable, key string, value LValue) {
	if !ls.budgeted() || value == LNil || tb.RawGetString(key) != LNil {
		return
	}
	n := uint64(hashEntryBytes)
	if tb.strdict == nil {
		n += hashInitBytes
	}
	ls.Charge(n, "table")
}

// threadBytes is what creating a thread with these options allocates.
func threadBytes(o Options) uint64 {
	regsize := o.RegistrySize
	if regsize < 1 {
		regsize = RegistrySize
	}
	frames := o.CallStackSize
	if frames < 1 {
		frames = CallStackSize
	}
	stack := uint64(frames) * frameBytes
	if o.MinimizeStackMemory {
		stack = uint64(frames/FramesPerSegment+1)*8 + FramesPerSegment*frameBytes
	}
	return stateBytes + uint64(regsize)*slotBytes + stack
}

// chargeFunction charges a function with n upvalues.
func (ls *LState) chargeFunction(n int) {
	if ls.budgeted() {
		ls.Charge(functionBytes+uint64(n)*upvalueBytes, "function")
	}
}

// chargeMatches charges n pattern matches found by pm.Find.
func (ls *LState) chargeMatches(n int, what string) {
	if ls.budgeted() && n > 0 {
		ls.Charge(mulBytes(uint64(n), matchBytes), what)
	}
}

// matchLimit caps a pattern search's match count at what the budget can
// pay for, plus one so that going over is noticed. limit < 0 means no limit.
func (ls *LState) matchLimit(limit int) int {
	if !ls.budgeted() {
		return limit
	}
	most := ls.budgetLeft()/matchBytes + 1
	if most > math.MaxInt32 {
		return limit
	}
	if limit < 0 || uint64(limit) > most {
		return int(most)
	}
	return limit
}

// formatBytes bounds what fmt.Sprintf(format, args...) makes (string.format).
func formatBytes(format string, args []interface{}) uint64 {
	argBytes := func(a interface{}) uint64 {
		if s, ok := a.(LString); ok {
			return 4*uint64(len(s)) + 2 // %q may escape every byte as \ddd
		}
		return 330 // the longest %f of a float64
	}
	var most uint64
	for _, a := range args {
		most = max(most, argBytes(a))
	}
	indexed := strings.Contains(format, "[") // %[n]s may use an argument many times
	n := uint64(len(format)) + stringHeaderBytes
	next := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		if i < len(format) && format[i] == '%' {
			continue
		}
		// flags, width, precision: fmt caps each number at 1e6
		for i < len(format) && strings.IndexByte("+- #0", format[i]) >= 0 {
			i++
		}
		for _, part := range []bool{true, false} {
			if !part {
				if i >= len(format) || format[i] != '.' {
					break
				}
				i++
			}
			w := uint64(0)
			for ; i < len(format) && format[i] >= '0' && format[i] <= '9'; i++ {
				w = min(w*10+uint64(format[i]-'0'), 1e6)
			}
			n += w
		}
		switch {
		case indexed:
			n += most + 32
		case next < len(args):
			n += argBytes(args[next]) + 32
			next++
		default:
			n += 32 // %!d(MISSING)
		}
	}
	return n
}
