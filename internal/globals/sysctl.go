package globals

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/luvs-lb/luvs/internal/model"
)

// Sysctler reads and writes kernel settings by dotted name
// (net.ipv4.vs.sloppy_tcp). A Plane that is one holds the configuration's
// sysctls too; otherwise they go to /proc/sys (ProcSys).
type Sysctler interface {
	Sysctl(key string) (string, error)
	SetSysctl(key, value string) error
}

// ProcSys is the kernel's /proc/sys, as the calling process sees it (its
// network namespace's net.* settings). Root replaces /proc/sys in tests.
type ProcSys struct{ Root string }

func (p ProcSys) path(key string) string {
	root := p.Root
	if root == "" {
		root = "/proc/sys"
	}
	return filepath.Join(root, strings.ReplaceAll(key, ".", "/"))
}

// Sysctl returns the setting's value, without its trailing newline.
func (p ProcSys) Sysctl(key string) (string, error) {
	b, err := os.ReadFile(p.path(key))
	if err != nil {
		return "", fmt.Errorf("sysctl %s: %w", key, err)
	}
	return strings.TrimRight(string(b), "\n"), nil
}

// SetSysctl writes the setting.
func (p ProcSys) SetSysctl(key, value string) error {
	f, err := os.OpenFile(p.path(key), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("sysctl %s: %w", key, err)
	}
	if _, err := f.WriteString(value + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("sysctl %s = %s: %w", key, value, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("sysctl %s = %s: %w", key, value, err)
	}
	return nil
}

// applySysctls makes the kernel's settings what cfg asks for, changing
// only those that differ (compared as the kernel prints them, with runs of
// blanks as one).
func applySysctls(s Sysctler, cfg *model.Config, do func(Change, func() error)) error {
	for _, sc := range cfg.Sysctls {
		cur, err := s.Sysctl(sc.Key)
		if err != nil {
			return fmt.Errorf("%w (asked for at %s)", err, sc.Where)
		}
		if strings.Join(strings.Fields(cur), " ") == strings.Join(strings.Fields(sc.Value), " ") {
			continue
		}
		do(Change(fmt.Sprintf("set %s = %s (was %s; %s)", sc.Key, sc.Value, cur, sc.Where)),
			func() error { return s.SetSysctl(sc.Key, sc.Value) })
	}
	return nil
}
