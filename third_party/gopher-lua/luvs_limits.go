package lua

// luvs patch: limits on work done outside Lua instructions (see
// README.luvs.md).

// MaxCStack is how many values a Go function may push as its results (Lua
// 5.1's LUAI_MAXCSTACK): unpack({}, 1, 4e5) pushed 400,000 values, growing
// the stack 32 slots at a time.
const MaxCStack = 8000

// checkResults raises msg when a Go function is about to push n results and
// the stack would hold more than MaxCStack values of the current call.
func (ls *LState) checkResults(n int64, msg string) {
	if n+int64(ls.GetTop()) > MaxCStack {
		ls.RaiseError("%s", msg)
	}
}
