package lua

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/yuin/gopher-lua/pm"
)

const emptyLString LString = LString("")

func OpenString(L *LState) int {
	var mod *LTable
	//_, ok := L.G.builtinMts[int(LTString)]
	//if !ok {
	mod = L.RegisterModule(StringLibName, strFuncs).(*LTable)
	gmatch := L.NewClosure(strGmatch, L.NewFunction(strGmatchIter))
	mod.RawSetString("gmatch", gmatch)
	mod.RawSetString("gfind", gmatch)
	mod.RawSetString("__index", mod)
	L.G.builtinMts[int(LTString)] = mod
	//}
	L.Push(mod)
	return 1
}

var strFuncs = map[string]LGFunction{
	"byte":    strByte,
	"char":    strChar,
	"dump":    strDump,
	"find":    strFind,
	"format":  strFormat,
	"gsub":    strGsub,
	"len":     strLen,
	"lower":   strLower,
	"match":   strMatch,
	"rep":     strRep,
	"reverse": strReverse,
	"sub":     strSub,
	"upper":   strUpper,
}

func strByte(L *LState) int {
	str := L.CheckString(1)
	start := L.OptInt(2, 1) - 1
	end := L.OptInt(3, -1)
	l := len(str)
	if start < 0 {
		start = l + start + 1
	}
	if end < 0 {
		end = l + end + 1
	}

	if L.GetTop() == 2 {
		if start < 0 || start >= l {
			return 0
		}
		L.Push(LNumber(str[start]))
		return 1
	}

	start = intMax(start, 0)
	end = intMin(end, l)
	if end < 0 || end <= start || start >= l {
		return 0
	}
	L.checkResults(int64(end-start), "string slice too long") // luvs patch

	for i := start; i < end; i++ {
		L.Push(LNumber(str[i]))
	}
	return end - start
}

func strChar(L *LState) int {
	top := L.GetTop()
	if L.budgeted() {
		L.Charge(stringBytes(top), "string.char")
	}
	bytes := make([]byte, L.GetTop())
	for i := 1; i <= top; i++ {
		bytes[i-1] = uint8(L.CheckInt(i))
	}
	L.Push(LString(string(bytes)))
	return 1
}

func strDump(L *LState) int {
	L.RaiseError("GopherLua does not support the string.dump")
	return 0
}

func strFind(L *LState) int {
	str := L.CheckString(1)
	pattern := L.CheckString(2)
	if len(pattern) == 0 {
		L.Push(LNumber(1))
		L.Push(LNumber(0))
		return 2
	}
	init := luaIndex2StringIndex(str, L.OptInt(3, 1), true)
	plain := false
	if L.GetTop() == 4 {
		plain = LVAsBool(L.Get(4))
	}

	if plain {
		pos := strings.Index(str[init:], pattern)
		if pos < 0 {
			L.Push(LNil)
			return 1
		}
		L.Push(LNumber(init+pos) + 1)
		L.Push(LNumber(init + pos + len(pattern)))
		return 2
	}

	mds, err := L.findPattern(pattern, str, init, 1)
	if err != nil {
		L.RaiseError(err.Error())
	}
	if len(mds) == 0 {
		L.Push(LNil)
		return 1
	}
	md := mds[0]
	L.Push(LNumber(md.Capture(0) + 1))
	L.Push(LNumber(md.Capture(1)))
	for i := 2; i < md.CaptureLength(); i += 2 {
		if md.IsPosCapture(i) {
			L.Push(LNumber(md.Capture(i)))
		} else {
			L.Push(LString(str[md.Capture(i):md.Capture(i+1)]))
		}
	}
	return md.CaptureLength()/2 + 1
}

func strFormat(L *LState) int {
	str := L.CheckString(1)
	args := make([]interface{}, L.GetTop()-1)
	top := L.GetTop()
	for i := 2; i <= top; i++ {
		args[i-2] = L.Get(i)
	}
	npat := strings.Count(str, "%") - strings.Count(str, "%%")
	args = args[:intMin(npat, len(args))]
	if L.budgeted() {
		L.Charge(formatBytes(str, args), "string.format")
	}
	if s, ok := formatSimple(str, args); ok {
		L.Push(LString(s))
		return 1
	}
	L.Push(LString(fmt.Sprintf(str, args...)))
	return 1
}

// formatSimple formats the common case without package fmt (luvs patch): a
// format whose directives are all plain %d, %i, %s or %% (no flags, width
// or precision), with a number for each %d/%i and a string or number for
// each %s. It gives what fmt.Sprintf gives through LNumber.Format, at a
// fraction of the cost (fmt scanned 128 flags per number). ok is false when
// the format or the arguments are anything else: the caller uses fmt.
func formatSimple(format string, args []interface{}) (string, bool) {
	buf := make([]byte, 0, len(format)+16*len(args))
	next := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			buf = append(buf, c)
			continue
		}
		if i++; i >= len(format) {
			return "", false
		}
		switch format[i] {
		case '%':
			buf = append(buf, '%')
			continue
		case 'd', 'i':
			if next >= len(args) {
				return "", false
			}
			n, ok := args[next].(LNumber)
			if !ok {
				return "", false
			}
			buf = strconv.AppendInt(buf, int64(n), 10)
		case 's':
			if next >= len(args) {
				return "", false
			}
			switch a := args[next].(type) {
			case LString:
				buf = append(buf, a...)
			case LNumber:
				buf = append(buf, a.String()...)
			default:
				return "", false
			}
		default:
			return "", false
		}
		next++
	}
	if next != len(args) {
		return "", false
	}
	return string(buf), true
}

func strGsub(L *LState) int {
	str := L.CheckString(1)
	pat := L.CheckString(2)
	L.CheckTypes(3, LTString, LTTable, LTFunction)
	repl := L.CheckAny(3)
	limit := L.OptInt(4, -1)

	mds, err := L.findPattern(pat, str, 0, L.matchLimit(limit))
	if err != nil {
		L.RaiseError(err.Error())
	}
	L.chargeMatches(len(mds), "string.gsub")
	if len(mds) == 0 {
		L.SetTop(1)
		L.Push(LNumber(0))
		return 2
	}
	switch lv := repl.(type) {
	case LString:
		L.Push(LString(strGsubStr(L, str, string(lv), mds)))
	case *LTable:
		L.Push(LString(strGsubTable(L, str, lv, mds)))
	case *LFunction:
		L.Push(LString(strGsubFunc(L, str, lv, mds)))
	}
	L.Push(LNumber(len(mds)))
	return 2
}

type replaceInfo struct {
	Indicies []int
	String   string
}

// findPattern is pm.Find within the state's context and budget (luvs
// patch): the matcher checks the context every pm.CheckEvery steps (a
// backtracking pattern can run for hours in one call) and charges its
// recursion on the Go stack.
func (L *LState) findPattern(pattern, str string, offset, limit int) ([]*pm.MatchData, error) {
	lim := &pm.Limits{}
	if ctx := L.ctx; ctx != nil {
		lim.Check = func() error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			default:
				return nil
			}
		}
	}
	if L.budgeted() {
		lim.Depth = func(n int) error {
			L.Charge(uint64(n)*pm.FrameBytes, "pattern matching")
			return nil
		}
	}
	return pm.FindLimited(pattern, unsafeFastStringToReadOnlyBytes(str), offset, limit, lim)
}

func checkCaptureIndex(L *LState, m *pm.MatchData, idx int) {
	if idx <= 2 {
		return
	}
	if idx >= m.CaptureLength() {
		L.RaiseError("invalid capture index")
	}
}

func capturedString(L *LState, m *pm.MatchData, str string, idx int) string {
	checkCaptureIndex(L, m, idx)
	if idx >= m.CaptureLength() && idx == 2 {
		idx = 0
	}
	if m.IsPosCapture(idx) {
		return fmt.Sprint(m.Capture(idx))
	} else {
		return str[m.Capture(idx):m.Capture(idx+1)]
	}

}

// strGsubDoReplace returns str with the replacements made, in one pass
// (luvs patch: upstream copied the whole string for every replacement). It
// charges the result to the budget before making it.
func strGsubDoReplace(L *LState, str string, info []replaceInfo) string {
	if len(info) == 0 {
		return str
	}
	size := len(str)
	for _, r := range info {
		size += len(r.String) - (r.Indicies[1] - r.Indicies[0])
	}
	if L.budgeted() {
		L.Charge(stringBytes(size), "string.gsub")
	}
	var b strings.Builder
	b.Grow(size)
	prev := 0
	for _, r := range info {
		b.WriteString(str[prev:r.Indicies[0]])
		b.WriteString(r.String)
		prev = r.Indicies[1]
	}
	b.WriteString(str[prev:])
	return b.String()
}

// gsubExpand expands repl for one match: into out, or (counting) only adds
// its length to *n.
func gsubExpand(L *LState, str, repl string, match *pm.MatchData, out []byte, counting bool, n *int) []byte {
	sc := &flagScanner{flag: '%', buf: out, str: repl, Length: len(repl), counting: counting}
	for c, eos := sc.Next(); !eos; c, eos = sc.Next() {
		if !sc.ChangeFlag {
			if sc.HasFlag {
				if c >= '0' && c <= '9' {
					sc.AppendString(capturedString(L, match, str, 2*(int(c)-48)))
				} else {
					sc.AppendChar('%')
					sc.AppendChar(c)
				}
				sc.HasFlag = false
			} else {
				sc.AppendChar(c)
			}
		}
	}
	*n += sc.n
	return sc.buf
}

// strGsubStr replaces the matches with repl. luvs patch: it computes the
// result's size first, charges it, and builds the result in one buffer
// (upstream built every replacement and then copied the string for each).
func strGsubStr(L *LState, str string, repl string, matches []*pm.MatchData) string {
	size := len(str)
	for _, match := range matches {
		size -= match.Capture(1) - match.Capture(0)
		gsubExpand(L, str, repl, match, nil, true, &size)
	}
	if L.budgeted() {
		L.Charge(stringBytes(size), "string.gsub")
	}
	out := make([]byte, 0, size)
	prev := 0
	for _, match := range matches {
		out = append(out, str[prev:match.Capture(0)]...)
		out = gsubExpand(L, str, repl, match, out, false, new(int))
		prev = match.Capture(1)
	}
	out = append(out, str[prev:]...)
	return string(out)
}

func strGsubTable(L *LState, str string, repl *LTable, matches []*pm.MatchData) string {
	infoList := make([]replaceInfo, 0, len(matches))
	for _, match := range matches {
		idx := 0
		if match.CaptureLength() > 2 { // has captures
			idx = 2
		}
		var value LValue
		if match.IsPosCapture(idx) {
			value = L.GetTable(repl, LNumber(match.Capture(idx)))
		} else {
			value = L.GetField(repl, str[match.Capture(idx):match.Capture(idx+1)])
		}
		if !LVIsFalse(value) {
			infoList = append(infoList, replaceInfo{[]int{match.Capture(0), match.Capture(1)}, LVAsString(value)})
		}
	}
	return strGsubDoReplace(L, str, infoList)
}

func strGsubFunc(L *LState, str string, repl *LFunction, matches []*pm.MatchData) string {
	infoList := make([]replaceInfo, 0, len(matches))
	for _, match := range matches {
		start, end := match.Capture(0), match.Capture(1)
		L.Push(repl)
		nargs := 0
		if match.CaptureLength() > 2 { // has captures
			for i := 2; i < match.CaptureLength(); i += 2 {
				if match.IsPosCapture(i) {
					L.Push(LNumber(match.Capture(i)))
				} else {
					L.Push(LString(capturedString(L, match, str, i)))
				}
				nargs++
			}
		} else {
			L.Push(LString(capturedString(L, match, str, 0)))
			nargs++
		}
		L.Call(nargs, 1)
		ret := L.reg.Pop()
		if !LVIsFalse(ret) {
			infoList = append(infoList, replaceInfo{[]int{start, end}, LVAsString(ret)})
		}
	}
	return strGsubDoReplace(L, str, infoList)
}

type strMatchData struct {
	str     string
	pos     int
	matches []*pm.MatchData
}

func strGmatchIter(L *LState) int {
	md := L.CheckUserData(1).Value.(*strMatchData)
	str := md.str
	matches := md.matches
	idx := md.pos
	md.pos += 1
	if idx == len(matches) {
		return 0
	}
	L.Push(L.Get(1))
	match := matches[idx]
	if match.CaptureLength() == 2 {
		L.Push(LString(str[match.Capture(0):match.Capture(1)]))
		return 1
	}

	for i := 2; i < match.CaptureLength(); i += 2 {
		if match.IsPosCapture(i) {
			L.Push(LNumber(match.Capture(i)))
		} else {
			L.Push(LString(str[match.Capture(i):match.Capture(i+1)]))
		}
	}
	return match.CaptureLength()/2 - 1
}

func strGmatch(L *LState) int {
	str := L.CheckString(1)
	pattern := L.CheckString(2)
	if L.budgeted() {
		L.Charge(uint64(len(str)), "string.gmatch")
	}
	mds, err := L.findPattern(pattern, str, 0, L.matchLimit(-1))
	if err != nil {
		L.RaiseError(err.Error())
	}
	L.chargeMatches(len(mds), "string.gmatch")
	L.Push(L.Get(UpvalueIndex(1)))
	ud := L.NewUserData()
	ud.Value = &strMatchData{str, 0, mds}
	L.Push(ud)
	return 2
}

func strLen(L *LState) int {
	str := L.CheckString(1)
	L.Push(LNumber(len(str)))
	return 1
}

func strLower(L *LState) int {
	str := L.CheckString(1)
	if L.budgeted() {
		L.Charge(stringBytes(len(str)), "string.lower")
	}
	L.Push(LString(strings.ToLower(str)))
	return 1
}

func strMatch(L *LState) int {
	str := L.CheckString(1)
	pattern := L.CheckString(2)
	offset := L.OptInt(3, 1)
	l := len(str)
	if offset < 0 {
		offset = l + offset + 1
	}
	offset--
	if offset < 0 {
		offset = 0
	}

	mds, err := L.findPattern(pattern, str, offset, 1)
	if err != nil {
		L.RaiseError(err.Error())
	}
	if len(mds) == 0 {
		L.Push(LNil)
		return 0
	}
	md := mds[0]
	nsubs := md.CaptureLength() / 2
	switch nsubs {
	case 1:
		L.Push(LString(str[md.Capture(0):md.Capture(1)]))
		return 1
	default:
		for i := 2; i < md.CaptureLength(); i += 2 {
			if md.IsPosCapture(i) {
				L.Push(LNumber(md.Capture(i)))
			} else {
				L.Push(LString(str[md.Capture(i):md.Capture(i+1)]))
			}
		}
		return nsubs - 1
	}
}

func strRep(L *LState) int {
	str := L.CheckString(1)
	n := L.CheckInt(2)
	if n <= 0 || len(str) == 0 {
		L.Push(emptyLString)
	} else {
		// luvs patch: charge the result's size before making it
		if L.budgeted() {
			L.Charge(mulBytes(uint64(len(str)), uint64(n))+stringHeaderBytes, "string.rep")
		}
		L.Push(LString(strings.Repeat(str, n)))
	}
	return 1
}

func strReverse(L *LState) int {
	str := L.CheckString(1)
	if L.budgeted() {
		L.Charge(2*uint64(len(str))+stringHeaderBytes, "string.reverse")
	}
	bts := []byte(str)
	out := make([]byte, len(bts))
	for i, j := 0, len(bts)-1; j >= 0; i, j = i+1, j-1 {
		out[i] = bts[j]
	}
	L.Push(LString(string(out)))
	return 1
}

func strSub(L *LState) int {
	str := L.CheckString(1)
	start := luaIndex2StringIndex(str, L.CheckInt(2), true)
	end := luaIndex2StringIndex(str, L.OptInt(3, -1), false)
	l := len(str)
	if start >= l || end < start {
		L.Push(emptyLString)
	} else {
		if L.budgeted() {
			L.Charge(stringBytes(end-start), "string.sub") // counted as a copy
		}
		L.Push(LString(str[start:end]))
	}
	return 1
}

func strUpper(L *LState) int {
	str := L.CheckString(1)
	if L.budgeted() {
		L.Charge(stringBytes(len(str)), "string.upper")
	}
	L.Push(LString(strings.ToUpper(str)))
	return 1
}

func luaIndex2StringIndex(str string, i int, start bool) int {
	if start && i != 0 {
		i -= 1
	}
	l := len(str)
	if i < 0 {
		i = l + i + 1
	}
	i = intMax(0, i)
	if !start && i > l {
		i = l
	}
	return i
}

//
