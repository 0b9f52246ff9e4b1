package statedir

import (
	"github.com/luvs-lb/luvs/internal/override"
)

// overridesFile holds the operator's overrides (luvs server ...).
const overridesFile = "overrides.json"

// LoadOverrides reads the operator's overrides (none when never saved).
func (d *Dir) LoadOverrides() (override.Set, error) {
	return load(d, overridesFile, override.Decode)
}

// SaveOverrides replaces the record of the operator's overrides atomically.
func (d *Dir) SaveOverrides(s override.Set) error {
	b, err := s.Encode()
	if err != nil {
		return err
	}
	return writeAtomic(d.Path, overridesFile, append(b, '\n'))
}
