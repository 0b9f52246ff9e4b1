package luaconf

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/luvs-lb/luvs/internal/luasandbox"
	"github.com/luvs-lb/luvs/internal/luasrc"
	"github.com/luvs-lb/luvs/internal/model"
)

// Options tune Load.
type Options struct {
	Limits luasandbox.Limits
	// Output receives print() output; nil discards it.
	Output io.Writer
	// MaxSource is the largest source file read, the main one or an
	// include; 0 means DefaultMaxSource.
	MaxSource int64
}

// DefaultMaxSource is the size limit of one configuration file.
const DefaultMaxSource = 16 << 20

// Result is a loaded configuration.
type Result struct {
	Config *model.Config
	// L is the Lua state the configuration ran in. Health-check functions
	// (model.ScriptCheck.Fn, *lua.LFunction) and hook functions (HookFunc)
	// belong to it; it is not safe for concurrent use.
	L *lua.LState
	// Files are the files read (the main file first, then includes).
	Files []string
	// Warnings are what loads but probably does not do what was meant
	// (luvs check prints them, the daemon logs them).
	Warnings Problems

	loader *loader
}

// ServerFor resolves a real_server value (declared in the configuration or
// created by a health-check function at run time) as a real server of the
// service svc, with the inheritance the configuration gives it. It is for
// the daemon's Lua health checks and must run on the state's goroutine.
func (r *Result) ServerFor(svc model.ServiceKey, v lua.LValue) (model.Dest, error) {
	l := r.loader
	rd := l.asDecl(v, mtRealServer)
	if rd == nil {
		return model.Dest{}, fmt.Errorf("expected a real_server, got %s", typeName(v))
	}
	vd := l.declared[svc] // by the full key: the protocol may come from an option
	var sc *model.ServiceConfig
	for i := range r.Config.Services {
		if r.Config.Services[i].ServiceKey == svc {
			sc = &r.Config.Services[i]
		}
	}
	if vd == nil || sc == nil {
		return model.Dest{}, fmt.Errorf("no virtual server %s in the configuration", svc)
	}
	n0 := len(l.problems)
	rs, ok := l.resolveServer(rd, vd, &sc.Service)
	ps := l.problems[n0:].sorted()
	l.problems = l.problems[:n0] // (warnings of a server added at run time are not kept)
	if !ok {
		return model.Dest{}, ps.Errors()
	}
	return rs.Dest, nil
}

// Close releases the Lua state (and with it the declarations); the Config
// stays usable, but not its ScriptCheck and hook functions. Close may be
// called more than once.
func (r *Result) Close() {
	if r != nil && r.L != nil {
		r.L.Close()
		r.L, r.loader = nil, nil
	}
}

// HookFunc is the Lua function a hook names (model.Hook.Func), nil when
// the configuration has none of that name. The function belongs to L: run
// it on the state's goroutine.
func (r *Result) HookFunc(name string) *lua.LFunction {
	if r == nil || r.loader == nil {
		return nil
	}
	return r.loader.hookFuncs[name]
}

// HasLuaHooks reports whether a hook of the configuration is a Lua
// function, which needs the Lua state to stay open.
func (r *Result) HasLuaHooks() bool { return r.loader != nil && len(r.loader.hookFuncs) > 0 }

// HasScripts reports whether any service has a Lua health check, which
// needs the Lua state to stay open.
func (r *Result) HasScripts() bool {
	for i := range r.Config.Services {
		if r.Config.Services[i].Script != nil {
			return true
		}
	}
	return false
}

// fileInfo is one source file of the configuration.
type fileInfo struct {
	name   string // as shown in messages (and the Lua chunk name)
	path   string // absolute, cleaned
	lines  []string
	tokens []luasrc.Token
	index  *luasrc.Index
}

// loader holds the state of one Load.
type loader struct {
	L        *lua.LState
	opts     Options
	root     string // directory of the main file: includes must stay inside
	files    map[string]*fileInfo
	order    []*fileInfo
	stack    []*fileInfo // include stack
	problems Problems
	defaults *decl
	services []*decl
	// timeouts and syncDaemons are the global declarations (globals.go).
	timeouts    *decl
	syncDaemons []*decl
	scripts     *decl
	bgp         *decl
	sysctls     []*decl
	vrrps       []*decl
	declared    map[model.ServiceKey]*decl // each service's declaration, once resolved
	checks      []*decl                    // every check constructed, to validate unused ones too
	resolved    map[*decl]bool
	// hookFuncs are the Lua functions of the hooks by name (model.Hook.Func);
	// hookNames names them.
	hookFuncs map[string]*lua.LFunction
	hookNames map[*lua.LFunction]string
	loaded    bool // the configuration has run: DSL calls now come from health checks
}

// dslNames are the functions whose call sites are indexed for positions.
var dslNames = append([]string{"virtual_server", "real_server", "defaults", "timeouts", "sync_daemon", "scripts", "bgp", "sysctl", "vrrp"}, checkKinds...)

// Load reads and runs the configuration in path and returns it. Any problem
// (syntax, type, unknown key, invalid value, duplicate) makes Load return
// Problems with every problem found, and no configuration.
func Load(path string, opts Options) (*Result, error) {
	if opts.Limits == (luasandbox.Limits{}) {
		opts.Limits = luasandbox.DefaultLimits
	}
	if opts.Output == nil {
		opts.Output = io.Discard
	}
	if opts.MaxSource <= 0 {
		opts.MaxSource = DefaultMaxSource
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	l := &loader{opts: opts, root: filepath.Dir(abs), files: map[string]*fileInfo{}}
	l.L = luasandbox.New(opts.Limits, opts.Output)
	l.install()
	ok := false
	defer func() {
		if !ok {
			l.L.Close()
		}
	}()

	err = luasandbox.Run(l.L, opts.Limits, func() error { return l.runFile(path, abs, Pos{}) })
	if err != nil {
		var ps Problems
		var le *luasandbox.LimitError
		if errors.As(err, &le) || (!errors.As(err, &ps) && !strings.Contains(err.Error(), errIncluded)) {
			l.problems = append(l.problems, Problem{Pos: l.errorPos(err), Msg: l.errorText(err)})
		}
		return nil, l.problems.sorted()
	}
	cfg := l.resolve()
	if len(l.problems.Errors()) > 0 {
		return nil, l.problems.sorted()
	}
	ok = true
	l.loaded = true
	for _, f := range l.order {
		f.tokens = nil // only resolve needs them; the call-site index stays
	}
	res := &Result{Config: cfg, L: l.L, loader: l, Warnings: l.problems.sorted()}
	l.problems = nil
	for _, f := range l.order {
		res.Files = append(res.Files, f.path)
	}
	return res, nil
}

// runFile parses and runs one file (the main one or an include).
func (l *loader) runFile(name, abs string, from Pos) error {
	for _, f := range l.stack {
		if f.path == abs {
			return l.fail(from, "include cycle: %s includes itself", name)
		}
	}
	if len(l.stack) >= 16 {
		return l.fail(from, "includes nested more than 16 deep")
	}
	src, err := readSource(abs, from.File == "", l.opts.MaxSource)
	if err != nil {
		if from.File == "" {
			return l.fail(Pos{File: name}, "%v", err)
		}
		return l.fail(from, "include %q: %v", name, err)
	}
	f := &fileInfo{name: name, path: abs, lines: strings.Split(string(src), "\n")}
	l.files[name] = f
	l.order = append(l.order, f)

	chunk, perr := parse.Parse(strings.NewReader(string(src)), name)
	if perr != nil {
		return l.syntaxError(f, src, perr)
	}
	toks, lerr := luasrc.Lex(name, src)
	if lerr != nil {
		// gopher-lua reads some mistakes without complaint (an unknown
		// escape such as "\d" silently becomes "d"); luvs does not.
		var le *luasrc.Error
		if errors.As(lerr, &le) {
			return l.fail(Pos{File: f.name, Line: le.Pos.Line, Col: le.Pos.Col}, "%s", le.Msg)
		}
		return l.fail(Pos{File: f.name}, "%v", lerr)
	}
	f.tokens = toks
	f.index = luasrc.NewIndex(toks, dslNames...)
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		return l.compileError(f, err)
	}
	l.stack = append(l.stack, f)
	defer func() { l.stack = l.stack[:len(l.stack)-1] }()
	l.L.Push(l.L.NewFunctionFromProto(proto))
	return l.L.PCall(0, 0, nil)
}

// readSource reads a configuration file of at most max bytes. An include
// must be a regular file (a FIFO would block, a device never end); the
// main file may also be a pipe, as in luvs check <(generate).
func readSource(path string, main bool, max int64) ([]byte, error) {
	flag := os.O_RDONLY
	if !main {
		flag |= syscall.O_NONBLOCK // opening a FIFO without a writer returns at once
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, errors.Unwrap(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, errors.Unwrap(err)
	}
	if !st.Mode().IsRegular() && !main {
		return nil, fmt.Errorf("not a regular file (%s); only files can be included", fileKind(st.Mode()))
	}
	if st.Mode().IsRegular() && st.Size() > max {
		return nil, fmt.Errorf("file of %d bytes is over the limit of %s for a configuration file", st.Size(), sizeText(max))
	}
	src, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, errors.Unwrap(err)
	}
	if int64(len(src)) > max {
		return nil, fmt.Errorf("more than %s; that is the limit for a configuration file", sizeText(max))
	}
	return src, nil
}

// sizeText shows a size limit in MiB when it is whole MiB.
func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// fileKind names a file type that is not a regular file.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

// fail records a problem and returns it as an error that stops loading.
func (l *loader) fail(p Pos, format string, args ...any) error {
	pr := Problem{Pos: p, Msg: fmt.Sprintf(format, args...)}
	l.problems = append(l.problems, pr)
	return Problems{pr}
}

var (
	parseErrRE   = regexp.MustCompile(`(?s)line:(\d+)\(column:(\d+)\) near '(.*)':\s*(.*)$`)
	parseEOFRE   = regexp.MustCompile(`at EOF:\s*(.*)$`)
	runtimeErrRE = regexp.MustCompile(`^([^\n]*?):(\d+):\s*(.*)$`)
	compileErrRE = regexp.MustCompile(`(?s)near line\((\d+)\)\s*(.*)$`)
	traceLineRE  = regexp.MustCompile(`(?m)^\t(.+):(\d+): in `)
)

// syntaxError explains a parse failure with a position. gopher-lua gives no
// position for an unclosed bracket or block at end of file, so brackets and
// blocks are matched here first.
func (l *loader) syntaxError(f *fileInfo, src []byte, perr error) error {
	err := l.syntaxProblem(f, src, perr)
	if line, what := keepalivedLine(f.lines); line > 0 {
		l.problem(Pos{File: f.name, Line: line, Col: 1},
			"this looks like a keepalived configuration (%s), and luvs configurations are Lua: translate it with 'luvs import keepalived %s'",
			what, f.name)
	}
	return err
}

// keepalivedLine returns the first line (1-based) and its text that only a
// keepalived configuration has at its top level (global_defs {,
// vrrp_instance NAME {, virtual_server 198.18.0.10 80 {, ...), or 0. It
// looks at the first 1,000 lines.
func keepalivedLine(lines []string) (int, string) {
	for i, raw := range lines[:min(len(lines), 1000)] {
		t := strings.TrimSpace(raw)
		word, rest, _ := strings.Cut(t, " ")
		rest = strings.TrimSpace(rest)
		switch word {
		case "global_defs", "vrrp_instance", "vrrp_sync_group", "vrrp_script", "virtual_server_group",
			"static_ipaddress", "static_routes", "linkbeat_interfaces":
		case "virtual_server", "real_server":
			// keepalived: virtual_server 198.18.0.10 80 {, virtual_server fwmark 7 {
			// Lua: virtual_server "198.18.0.10:80" {, virtual_server("...")
			if rest == "" || strings.ContainsAny(rest[:1], "\"'([{") || !strings.HasSuffix(rest, "{") {
				continue
			}
		default:
			continue
		}
		if !strings.Contains(t, "{") && word != "global_defs" {
			continue
		}
		if len(t) > 60 {
			t = t[:60] + "..."
		}
		return i + 1, t
	}
	return 0, ""
}

func (l *loader) syntaxProblem(f *fileInfo, src []byte, perr error) error {
	if err := luasrc.CheckBalance(f.name, src); err != nil {
		var le *luasrc.Error
		if errors.As(err, &le) {
			return l.fail(Pos{File: f.name, Line: le.Pos.Line, Col: le.Pos.Col}, "%s", le.Msg)
		}
	}
	if _, err := luasrc.Lex(f.name, src); err != nil {
		var le *luasrc.Error
		if errors.As(err, &le) {
			return l.fail(Pos{File: f.name, Line: le.Pos.Line, Col: le.Pos.Col}, "%s", le.Msg)
		}
	}
	msg := strings.TrimSpace(perr.Error())
	if m := parseErrRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		// gopher-lua gives the column of the token's last character.
		col = max(1, col-len([]rune(m[3]))+1)
		what := strings.TrimSpace(m[4])
		if what == "" {
			what = "syntax error"
		}
		near := "'" + m[3] + "'"
		if strings.ContainsAny(m[3], "\r\n") {
			near = strconv.Quote(m[3]) // (a string token holding a newline)
		}
		return l.fail(Pos{File: f.name, Line: line, Col: col}, "%s near %s", what, near)
	}
	if m := parseEOFRE.FindStringSubmatch(msg); m != nil {
		last := len(f.lines)
		for last > 1 && strings.TrimSpace(f.lines[last-1]) == "" {
			last--
		}
		return l.fail(Pos{File: f.name, Line: last, Col: 1}, "unexpected end of file: %s", strings.TrimSpace(m[1]))
	}
	return l.fail(Pos{File: f.name, Line: 1, Col: 1}, "%s", msg)
}

// compileError places a compiler error ("compile error near line(3)
// FILE: register overflow(...)") at its line.
func (l *loader) compileError(f *fileInfo, err error) error {
	var ce *lua.CompileError
	if errors.As(err, &ce) && ce.Line > 0 {
		line := max(1, min(ce.Line, len(f.lines)))
		msg := ce.Message
		if strings.Contains(msg, "register overflow") {
			msg = "too deeply nested for the compiler (" + strings.TrimSpace(msg) + ")"
		}
		return l.fail(Pos{File: f.name, Line: line, Col: f.indent(line)}, "%s", strings.TrimSpace(msg))
	}
	msg := err.Error()
	m := compileErrRE.FindStringSubmatch(msg)
	if m == nil {
		return l.fail(Pos{File: f.name, Line: 1, Col: 1}, "%s", msg)
	}
	line, _ := strconv.Atoi(m[1])
	line = max(1, min(line, len(f.lines)))
	msg = strings.TrimPrefix(m[2], f.name+":")
	if strings.Contains(msg, "register overflow") {
		msg = "too deeply nested for the compiler (" + strings.TrimSpace(msg) + ")"
	}
	return l.fail(Pos{File: f.name, Line: line, Col: f.indent(line)}, "%s", strings.TrimSpace(msg))
}

// errorPos finds the position of a Lua runtime error ("file:12: msg"): the
// line from the message, the column of its first non-blank character. An
// error value without a position (error({}), error("x", 0)) is placed where
// the Lua code raising it was.
func (l *loader) errorPos(err error) Pos {
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		if m := runtimeErrRE.FindStringSubmatch(ae.Object.String()); m != nil {
			if f := l.files[m[1]]; f != nil {
				line, _ := strconv.Atoi(m[2])
				return Pos{File: f.name, Line: line, Col: f.indent(line)}
			}
		}
		if f := l.files[ae.Source]; f != nil && ae.Line > 0 {
			return Pos{File: f.name, Line: ae.Line, Col: f.indent(ae.Line)}
		}
		// error({}) or error("x", 0): no position in the message; the
		// innermost frame of a configuration file in the traceback has it.
		for _, m := range traceLineRE.FindAllStringSubmatch(ae.StackTrace, -1) {
			if f := l.files[m[1]]; f != nil {
				line, _ := strconv.Atoi(m[2])
				return Pos{File: f.name, Line: line, Col: f.indent(line)}
			}
		}
	}
	if len(l.stack) > 0 {
		return Pos{File: l.stack[len(l.stack)-1].name}
	}
	if len(l.order) > 0 {
		return Pos{File: l.order[0].name}
	}
	return Pos{}
}

// errorText is the message of a runtime error without its position prefix.
func (l *loader) errorText(err error) string {
	var le *luasandbox.LimitError
	if errors.As(err, &le) {
		return "loading stopped: " + le.Cause.Error()
	}
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		switch ae.Object.(type) {
		case lua.LString, lua.LNumber:
		default: // error({}): "table: 0x..." says nothing
			return fmt.Sprintf("error raised with a %s, not a message (write error(\"what went wrong\"))", typeName(ae.Object))
		}
		s := ae.Object.String()
		if m := runtimeErrRE.FindStringSubmatch(s); m != nil && l.files[m[1]] != nil {
			s = m[3]
		}
		if ae.Type == lua.ApiErrorRun && ae.Cause != nil && s == "" {
			s = ae.Cause.Error()
		}
		return s
	}
	return err.Error()
}

// indent returns the column of the first non-blank character of line.
func (f *fileInfo) indent(line int) int {
	if line < 1 || line > len(f.lines) {
		return 1
	}
	s := f.lines[line-1]
	return len(s) - len(strings.TrimLeft(s, " \t")) + 1 // (blanks are one byte each)
}

// callerPos returns the file and line of the Lua code calling the current
// Go function.
func (l *loader) callerPos() (Pos, *fileInfo) {
	// The nearest Lua frame: a Go function such as pcall may be between.
	for level := 1; level < 8; level++ {
		dbg, ok := l.L.GetStack(level)
		if !ok {
			break
		}
		if _, err := l.L.GetInfo("Sl", dbg, lua.LNil); err == nil {
			if f := l.files[dbg.Source]; f != nil {
				return Pos{File: f.name, Line: dbg.CurrentLine, Col: f.indent(dbg.CurrentLine)}, f
			}
		}
	}
	if len(l.stack) > 0 {
		f := l.stack[len(l.stack)-1]
		return Pos{File: f.name}, f
	}
	return Pos{}, nil
}
