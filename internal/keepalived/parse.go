// Package keepalived reads keepalived.conf (keepalived 2.2.7's syntax)
// strictly, for `luvs import keepalived`: the LVS side (virtual servers,
// groups, real servers, checkers and the LVS keys of global_defs) into plain
// Go types, each element with its file:line, and the VRRP, BFD and other
// global parts kept raw (RawBlock) so they can be reported and written back
// with Render.
//
// Strict means every problem is an error "file:line: message", all of them
// listed: unbalanced braces (the block most likely left open is named,
// using indentation), unknown keywords, missing or extra arguments, values
// of the wrong type, undefined $PARAMETERS and the keepalived features this
// parser does not support (conditional @lines, ~SEQ/~LST, ${_RANDOM},
// ${_INSTANCE}). keepalived itself skips most of these with a log line and
// runs a configuration that is not the one written.
//
// The files are processed as keepalived does: line by line, comments
// (# or ! to the end of the line, outside quotes) cut, include lines
// replaced by the files they name, $NAME=value definitions (also multi-line)
// substituted, then split into words and braces. The tree of statements
// (Node) is decoded against one keyword table per context (schema_*.go).
package keepalived

import (
	"errors"
	"fmt"
)

// Options configure Parse.
type Options struct {
	FS     FileSystem // nil: the host's files (OSFileSystem)
	Limits Limits     // zero fields: DefaultLimits
}

// ParseFile reads the configuration in the named file and the files it
// includes.
func ParseFile(name string, opt Options) (*Config, error) {
	return parse(name, nil, opt)
}

// Parse reads a configuration from src, named name in positions and as the
// base of relative includes.
func Parse(name string, src []byte, opt Options) (*Config, error) {
	if src == nil {
		src = []byte{}
	}
	return parse(name, src, opt)
}

func parse(name string, src []byte, opt Options) (*Config, error) {
	if opt.FS == nil {
		opt.FS = OSFileSystem{}
	}
	opt.Limits = opt.Limits.orDefault()
	errs := &errorList{}
	r := &reader{fs: opt.FS, lim: opt.Limits, errs: errs, defs: map[string]*definition{},
		rank: map[string]int{}, source: map[string][]string{}}
	if src == nil {
		data, err := opt.FS.ReadFile(name)
		if err != nil {
			return nil, Errors{{Pos: Pos{File: name}, Msg: fmt.Sprint(cleanErr(err))}}
		}
		src = data
	}
	r.readFile(name, src, Pos{File: name})
	cfg := &Config{Files: r.files}
	if !r.stopped {
		root, comments := parseTree(r.lines, opt.Limits, errs)
		cfg.Comments = comments
		if root != nil {
			d := &decoder{errs: errs, r: r, cfg: cfg}
			d.decode(root)
		}
	}
	if err := errs.result(r.rank); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (l Limits) orDefault() Limits {
	d := DefaultLimits
	pick := func(v, def int) int {
		if v > 0 {
			return v
		}
		return def
	}
	pick64 := func(v, def int64) int64 {
		if v > 0 {
			return v
		}
		return def
	}
	return Limits{
		FileSize: pick64(l.FileSize, d.FileSize), TotalSize: pick64(l.TotalSize, d.TotalSize),
		IncludeDepth: pick(l.IncludeDepth, d.IncludeDepth), Files: pick(l.Files, d.Files),
		Depth: pick(l.Depth, d.Depth), Lines: pick(l.Lines, d.Lines), ExpandDepth: pick(l.ExpandDepth, d.ExpandDepth),
	}
}

// AsErrors returns the problems of an error returned by Parse.
func AsErrors(err error) Errors {
	var es Errors
	if errors.As(err, &es) {
		return es
	}
	return nil
}
