package keepalived

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// FileSystem is where Parse reads configuration files from. Names are as
// written in the configuration, joined to the including file's directory
// when relative.
type FileSystem interface {
	ReadFile(name string) ([]byte, error)
	// Glob returns the names matching pattern (filepath.Match syntax), sorted.
	Glob(pattern string) ([]string, error)
}

// OSFileSystem reads the host's files.
type OSFileSystem struct{}

// ReadFile is os.ReadFile.
func (OSFileSystem) ReadFile(name string) ([]byte, error) { return os.ReadFile(name) }

// Glob is filepath.Glob.
func (OSFileSystem) Glob(pattern string) ([]string, error) { return filepath.Glob(pattern) }

// Limits bound the work Parse does on hostile or broken input; each one
// exceeded is an error naming it.
type Limits struct {
	FileSize     int64 // bytes of one file
	TotalSize    int64 // bytes of all files, and again of text made by parameter substitution
	IncludeDepth int   // files included from included files
	Files        int   // files read in all
	Depth        int   // blocks nested in blocks
	Lines        int   // lines in all, after multi-line definitions are expanded
	ExpandDepth  int   // multi-line definitions used inside multi-line definitions
}

// DefaultLimits are generous for real configurations (the biggest seen are
// a few MB) and small enough to fail fast on runaway input.
var DefaultLimits = Limits{
	FileSize:     16 << 20,
	TotalSize:    64 << 20,
	IncludeDepth: 16,
	Files:        1000,
	Depth:        32,
	Lines:        4 << 20,
	ExpandDepth:  16,
}

// line is one logical line: a source line after comments are cut, parameters
// are substituted and includes are replaced by the files they name.
type line struct {
	Pos     Pos
	Indent  int     // column of the line's first non-blank byte (1-based; 0 if blank)
	Toks    []token // words and braces
	Comment string  // the line's comment, with its marker, or ""
	// Bad marks a line already reported: its braces count for the balance
	// check and the tree, its statement is not decoded.
	Bad bool
}

// definition is a $NAME=value parameter; a multi-line one has Lines.
type definition struct {
	Value string
	Lines []defLine
	Multi bool
}

type defLine struct {
	Indent int
	Code   string
}

// reader turns files into logical lines.
type reader struct {
	fs      FileSystem
	lim     Limits
	errs    *errorList
	defs    map[string]*definition
	lines   []line
	files   []string            // names of the files read, in order
	rank    map[string]int      // file name → index in files
	source  map[string][]string // file name → its source lines
	stack   []string            // absolute names of the files being read
	total   int64               // bytes read
	made    int64               // bytes made by substitution
	stopped bool                // a limit was hit: stop reading
}

var includeKeywords = map[string]bool{
	"include": true, "includer": true, "includem": true, "includew": true, "includeb": true, "includea": true,
}

// stop records a fatal error: the reading ends here.
func (r *reader) stop(p Pos, format string, args ...any) {
	r.errs.add(p, format, args...)
	r.stopped = true
}

// readFile reads one file (from is the include line, zero for the main file).
func (r *reader) readFile(name string, src []byte, from Pos) {
	if r.stopped {
		return
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		abs = filepath.Clean(name)
	}
	for i, open := range r.stack {
		if open == abs {
			chain := make([]string, 0, len(r.stack)-i+1)
			for _, s := range r.stack[i:] {
				chain = append(chain, filepath.Base(s))
			}
			r.errs.add(from, "include cycle: %s includes %s again", strings.Join(chain, " → "), filepath.Base(name))
			return
		}
	}
	if len(r.stack) > r.lim.IncludeDepth {
		r.stop(from, "includes nested deeper than %d files", r.lim.IncludeDepth)
		return
	}
	if len(r.files) >= r.lim.Files {
		r.stop(from, "more than %d files included", r.lim.Files)
		return
	}
	if src == nil {
		src, err = r.fs.ReadFile(name)
		if err != nil {
			r.errs.add(from, "include %s: %v", name, cleanErr(err))
			return
		}
	}
	if int64(len(src)) > r.lim.FileSize {
		r.stop(Pos{File: name}, "file is %d bytes, more than the limit of %d", len(src), r.lim.FileSize)
		return
	}
	r.total += int64(len(src))
	if r.total > r.lim.TotalSize {
		r.stop(Pos{File: name}, "the files add up to more than the limit of %d bytes", r.lim.TotalSize)
		return
	}
	if _, seen := r.rank[name]; !seen {
		r.rank[name] = len(r.files)
		r.files = append(r.files, name)
	}
	text := strings.Split(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n")
	if len(text) > 0 && text[len(text)-1] == "" {
		text = text[:len(text)-1]
	}
	r.source[name] = text
	r.stack = append(r.stack, abs)
	defer func() { r.stack = r.stack[:len(r.stack)-1] }()

	var pending *definition // a multi-line definition being read
	var pendingPos Pos
	for i, raw := range text {
		if r.stopped {
			return
		}
		pos := Pos{File: name, Line: i + 1}
		code, comment := splitComment(raw)
		if pending != nil {
			t := strings.TrimSpace(code)
			if t == "" {
				continue // blank and comment lines do not end a multi-line definition
			}
			body, more := strings.CutSuffix(strings.TrimRight(code, " \t"), `\`)
			pending.Lines = append(pending.Lines, defLine{Indent: indentOf(body), Code: body})
			if !more {
				pending = nil
			}
			continue
		}
		if name, def, ok := parseDefinition(code); ok {
			r.defs[name] = def
			if def.Multi {
				pending, pendingPos = def, pos
			}
			if comment != "" {
				r.lines = append(r.lines, line{Pos: pos, Comment: comment})
			}
			continue
		}
		r.process(pos, indentOf(raw), code, comment, 0)
	}
	if pending != nil {
		r.errs.add(pendingPos, "multi-line definition is not finished at the end of the file (its last line ends with '\\')")
	}
}

func cleanErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func indentOf(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' && s[i] != '\t' {
			return i + 1
		}
	}
	return 0
}

// parseDefinition recognizes `$NAME=value` (only white space before '$',
// none before '='). A value ending in '\' starts a multi-line definition.
func parseDefinition(code string) (string, *definition, bool) {
	t := strings.TrimLeft(code, " \t")
	if len(t) < 2 || t[0] != '$' {
		return "", nil, false
	}
	n := nameLen(t[1:])
	if n == 0 || len(t) <= 1+n || t[1+n] != '=' {
		return "", nil, false
	}
	name, value := t[1:1+n], strings.TrimSpace(t[2+n:])
	if body, multi := strings.CutSuffix(value, `\`); multi {
		d := &definition{Multi: true}
		if body = strings.TrimSpace(body); body != "" {
			d.Lines = append(d.Lines, defLine{Indent: 1, Code: body})
		}
		return name, d, true
	}
	return name, &definition{Value: value}, true
}

// nameLen returns the length of the parameter name at the start of s: A-Za-z_
// then A-Za-z0-9_.
func nameLen(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return i
	}
	return len(s)
}

// dropped keeps the braces of a line reported as bad, so that one error
// does not make its block look unbalanced.
func (r *reader) dropped(pos Pos, indent int, code string) {
	toks, err := tokenize(code)
	if err != nil || len(toks) == 0 {
		return
	}
	r.lines = append(r.lines, line{Pos: pos, Indent: indent, Toks: toks, Bad: true})
}

// process handles one line of code: conditional lines and sequence blocks
// (unsupported), includes, multi-line definitions used alone on a line, and
// parameter substitution; the result is tokenized and kept.
func (r *reader) process(pos Pos, indent int, code, comment string, depth int) {
	t := strings.TrimSpace(code)
	if t == "" {
		if comment != "" {
			r.lines = append(r.lines, line{Pos: pos, Comment: comment})
		}
		return
	}
	switch {
	case t[0] == '@':
		word, _, _ := strings.Cut(t, " ")
		r.errs.add(pos, "conditional configuration line (%s) is not supported: keep the lines for this host and remove the '@' prefixes", word)
		r.dropped(pos, indent, strings.TrimPrefix(t, word))
		return
	case strings.HasPrefix(t, "~SEQ") || strings.HasPrefix(t, "~LST"):
		r.errs.add(pos, "%s blocks are not supported: write the lines out", t[:4])
		r.dropped(pos, indent, code)
		return
	}
	if kw, arg := firstWord(t); includeKeywords[kw] {
		r.include(pos, kw, arg)
		if comment != "" {
			r.lines = append(r.lines, line{Pos: pos, Comment: comment})
		}
		return
	}
	if name, ok := aloneRef(t); ok {
		if d := r.defs[name]; d != nil && d.Multi {
			if depth >= r.lim.ExpandDepth {
				r.stop(pos, "multi-line definitions nested deeper than %d", r.lim.ExpandDepth)
				return
			}
			for _, dl := range d.Lines {
				if r.stopped {
					return
				}
				if n, def, ok := parseDefinition(dl.Code); ok {
					r.defs[n] = def // (a multi-line one inside another is not supported; it is empty)
					continue
				}
				r.process(pos, dl.Indent, dl.Code, "", depth+1)
			}
			if comment != "" {
				r.lines = append(r.lines, line{Pos: pos, Comment: comment})
			}
			return
		}
	}
	text, ok := r.substitute(pos, code)
	if !ok {
		r.dropped(pos, indent, code)
		return
	}
	toks, err := tokenize(text)
	if err != nil {
		r.errs.add(pos, "%v", err)
		return
	}
	if len(r.lines) >= r.lim.Lines {
		r.stop(pos, "more than %d lines", r.lim.Lines)
		return
	}
	r.lines = append(r.lines, line{Pos: pos, Indent: indent, Toks: toks, Comment: comment})
}

// aloneRef reports whether t is one parameter reference, $NAME or ${NAME}.
func aloneRef(t string) (string, bool) {
	if len(t) < 2 || t[0] != '$' {
		return "", false
	}
	if t[1] == '{' && t[len(t)-1] == '}' && nameLen(t[2:]) == len(t)-3 && len(t) > 3 {
		return t[2 : len(t)-1], true
	}
	if n := nameLen(t[1:]); n > 0 && n == len(t)-1 {
		return t[1:], true
	}
	return "", false
}

// include reads the files an include line names, relative to the including
// file's directory. A pattern with * ? or [ may match no file (an empty
// conf.d), except for includem, includew and includea, which check for a
// match; a plain name must exist.
func (r *reader) include(pos Pos, kw, arg string) {
	switch {
	case strings.Contains(arg, "$"):
		r.errs.add(pos, "%s %s: keepalived does not substitute parameters in include lines", kw, arg)
		return
	case strings.ContainsAny(arg, "{}"):
		r.errs.add(pos, "%s %s: brace expressions in include patterns are not supported", kw, arg)
		return
	}
	toks, err := tokenize(arg)
	if err != nil || len(toks) != 1 || toks[0].Brace != 0 {
		r.errs.add(pos, "%s wants one file name or pattern", kw)
		return
	}
	pattern := toks[0].Text
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(filepath.Dir(pos.File), pattern)
	}
	if !strings.ContainsAny(pattern, "*?[") {
		r.readFile(pattern, nil, pos)
		return
	}
	names, err := r.fs.Glob(pattern)
	if err != nil {
		r.errs.add(pos, "%s %s: %v", kw, pattern, err)
		return
	}
	if len(names) == 0 && (kw == "includem" || kw == "includew" || kw == "includea") {
		r.errs.add(pos, "%s %s: no file matches", kw, pattern)
	}
	for _, n := range names {
		r.readFile(n, nil, pos)
	}
}

// substitute replaces $NAME (followed by white space or the end) and
// ${NAME} by their values, again in the result, up to maxPasses times.
// An undefined name, a multi-line definition inside a line and the
// pre-defined names that depend on the host (${_INSTANCE}, ${_RANDOM}) are
// errors; a '$' not followed by a name is text.
func (r *reader) substitute(pos Pos, s string) (string, bool) {
	const maxPasses = 10
	if !strings.Contains(s, "$") {
		return s, true
	}
	for pass := 0; pass < maxPasses; pass++ {
		out, changed, ok := r.substituteOnce(pos, s)
		if !ok {
			return "", false
		}
		if !changed {
			return out, true
		}
		r.made += int64(len(out))
		if r.made > r.lim.TotalSize {
			r.stop(pos, "parameter substitution makes more than %d bytes", r.lim.TotalSize)
			return "", false
		}
		s = out
	}
	r.errs.add(pos, "parameter substitution does not end after %d rounds (a definition that uses itself?)", maxPasses)
	return "", false
}

func (r *reader) substituteOnce(pos Pos, s string) (string, bool, bool) {
	var b strings.Builder
	changed := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		var name string
		end := 0 // index after the reference
		if s[i+1] == '{' {
			j := strings.IndexByte(s[i+2:], '}')
			if j < 0 {
				b.WriteByte(c)
				continue
			}
			name, end = s[i+2:i+2+j], i+3+j
			if nameLen(name) != len(name) || name == "" {
				if f := strings.Fields(name); len(f) > 0 && f[0] == "_RANDOM" {
					r.errs.add(pos, "${_RANDOM} is not supported: write the value")
					return "", false, false
				}
				b.WriteByte(c)
				continue
			}
		} else {
			n := nameLen(s[i+1:])
			if n == 0 {
				b.WriteByte(c)
				continue
			}
			name, end = s[i+1:i+1+n], i+1+n
			if end < len(s) && !isSpace(s[end]) {
				r.errs.add(pos, "$%s is followed by %q, so keepalived would not substitute it: write ${%s}", name, s[end], name)
				return "", false, false
			}
		}
		val, ok := r.value(pos, name)
		if !ok {
			return "", false, false
		}
		if r.made+int64(b.Len()+len(val)) > r.lim.TotalSize {
			r.stop(pos, "parameter substitution makes more than %d bytes", r.lim.TotalSize)
			return "", false, false
		}
		b.WriteString(val)
		changed = true
		i = end - 1
	}
	return b.String(), changed, true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' }

// value returns the value of a parameter, pre-defined or defined.
func (r *reader) value(pos Pos, name string) (string, bool) {
	if d := r.defs[name]; d != nil {
		if d.Multi {
			r.errs.add(pos, "multi-line definition $%s must be used alone on its line", name)
			return "", false
		}
		return d.Value, true
	}
	switch name {
	case "_PWD":
		dir, err := filepath.Abs(filepath.Dir(pos.File))
		if err != nil {
			dir = filepath.Dir(pos.File)
		}
		return dir, true
	case "_HASH":
		return "#", true
	case "_BANG":
		return "!", true
	case "_INSTANCE", "_RANDOM":
		r.errs.add(pos, "${%s} is not supported (it depends on the host keepalived runs on): write the value", name)
		return "", false
	}
	if r.errs.full() {
		r.errs.add(pos, "undefined parameter")
		return "", false
	}
	r.errs.add(pos, "undefined parameter $%s%s", name, suggest(name, r.defNames()))
	return "", false
}

func (r *reader) defNames() []string {
	names := make([]string, 0, len(r.defs))
	for n := range r.defs {
		names = append(names, n)
	}
	return names
}

// sourceText returns lines first..last (1-based) of a file as read.
func (r *reader) sourceText(file string, first, last int) string {
	src := r.source[file]
	if first < 1 || last > len(src) || first > last {
		return ""
	}
	return strings.Join(src[first-1:last], "\n") + "\n"
}

// firstWord splits t (trimmed) at its first blank.
func firstWord(t string) (string, string) {
	if i := strings.IndexAny(t, " \t"); i >= 0 {
		return t[:i], strings.TrimSpace(t[i:])
	}
	return t, ""
}
