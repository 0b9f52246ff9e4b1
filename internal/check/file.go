package check

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

// fileChecker is keepalived's FILE_CHECK: a number in a file, written by
// an operator or a script, decides.
type fileChecker struct {
	path    string
	dynamic bool
}

var fileSpec = &Spec{
	Kind: model.CheckFile, Doc: "Reads a number from a file: 0 is up, anything else down (or the weight, with `dynamic_weight`).",
	Settings: []Setting{
		stringSetting("path", "absolute path", "required", "The file. A missing or unreadable file, or one without a number, means down.",
			func(c *model.Check) *string { return &c.File.Path }),
		boolSetting("dynamic_weight", "The number is the server's weight (0..65535; 0 drains it) instead of up/down.",
			func(c *model.Check) *bool { return &c.File.DynamicWeight }),
	},
	part: func(c *model.Check) {
		if c.File == nil {
			c.File = &model.FileCheck{}
		}
	},
	build: func(c model.Check) (prober, Problems) {
		var ps Problems
		switch p := c.File.Path; {
		case p == "":
			ps.add("path", "file check needs path = \"/run/luvs/web1.state\"")
		case !filepath.IsAbs(p):
			ps.add("path", "path %q must be absolute", p)
		}
		if len(ps) > 0 {
			return nil, ps
		}
		return &fileChecker{path: c.File.Path, dynamic: c.File.DynamicWeight}, nil
	},
}

// maxFileRead is how much of the file is read.
const maxFileRead = 64

func (f *fileChecker) probe(ctx context.Context, t Target, start time.Time) Result {
	fh, err := os.Open(f.path)
	if err != nil {
		return down(err.Error())
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxFileRead))
	if err != nil {
		return down(err.Error())
	}
	s := strings.TrimSpace(string(b))
	n, err := strconv.Atoi(s)
	if err != nil {
		return down(fmt.Sprintf("%s holds %q, not a number", f.path, s))
	}
	var r Result
	switch {
	case f.dynamic && n >= 0 && n <= model.MaxWeight:
		r = up(fmt.Sprintf("%s says weight %d", f.path, n))
		r.Weight = n
	case f.dynamic:
		r = down(fmt.Sprintf("%s holds %d, not a weight 0..%d", f.path, n, model.MaxWeight))
	case n == 0:
		r = up(f.path + " says 0")
	default:
		r = down(fmt.Sprintf("%s says %d", f.path, n))
	}
	r.Latency = time.Since(start)
	return r
}
