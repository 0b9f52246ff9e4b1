package statedir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/luvs-lb/luvs/internal/override"
)

// overridesFile holds the operator's overrides (luvs server ...).
const overridesFile = "overrides.json"

// LoadOverrides reads the operator's overrides (none when never saved).
func (d *Dir) LoadOverrides() (override.Set, error) {
	path := filepath.Join(d.Path, overridesFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s, err := override.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// SaveOverrides replaces the record of the operator's overrides atomically.
func (d *Dir) SaveOverrides(s override.Set) error {
	b, err := s.Encode()
	if err != nil {
		return err
	}
	return writeAtomic(d.Path, overridesFile, append(b, '\n'))
}
