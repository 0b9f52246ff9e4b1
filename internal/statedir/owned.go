package statedir

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"

	"github.com/luvs-lb/luvs/internal/model"
)

const (
	ownedFile    = "owned.json"
	ownedVersion = 1
)

// ownedRecord is the JSON form of owned.json.
type ownedRecord struct {
	Version  int        `json:"version"`
	Services []ownedKey `json:"services"`
}

// ownedKey is a model.ServiceKey with every field spelled out. Fwmark
// services have an empty protocol and address.
type ownedKey struct {
	Family   string `json:"family"`   // ipv4, ipv6
	Protocol string `json:"protocol"` // tcp, udp, sctp or ""
	Address  string `json:"address"`
	Port     uint16 `json:"port"`
	FWMark   uint32 `json:"fwmark"`
}

var (
	familyNames   = map[model.Family]string{model.IPv4: "ipv4", model.IPv6: "ipv6"}
	protocolNames = map[model.Protocol]string{0: "", model.TCP: "tcp", model.UDP: "udp", model.SCTP: "sctp"}
)

// LoadOwned returns the set of virtual services the daemon owns, sorted.
// A missing file is an empty set; a corrupt one is an error naming the file.
func (d *Dir) LoadOwned() ([]model.ServiceKey, error) {
	return load(d, ownedFile, decodeOwned)
}

// load reads file name with decode; a missing file is the zero value, a
// corrupt one an error naming the file.
func load[T any](d *Dir, name string, decode func([]byte) (T, error)) (T, error) {
	var zero T
	path := filepath.Join(d.Path, name)
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return zero, nil
	}
	if err != nil {
		return zero, err
	}
	v, err := decode(b)
	if err != nil {
		return zero, fmt.Errorf("corrupt %s: %w", path, err)
	}
	return v, nil
}

func decodeOwned(b []byte) ([]model.ServiceKey, error) {
	var rec ownedRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, err
	}
	if rec.Version != ownedVersion {
		return nil, fmt.Errorf("version %d, want %d", rec.Version, ownedVersion)
	}
	keys := make([]model.ServiceKey, 0, len(rec.Services))
	for _, o := range rec.Services {
		k, err := o.decode()
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// decode returns the service key o spells out.
func (o ownedKey) decode() (model.ServiceKey, error) {
	k := model.ServiceKey{Port: o.Port, FWMark: o.FWMark}
	var okF, okP bool
	k.Family, okF = lookup(familyNames, o.Family)
	k.Protocol, okP = lookup(protocolNames, o.Protocol)
	if !okF || !okP {
		return k, fmt.Errorf("service %+v: unknown family or protocol", o)
	}
	if o.Address != "" {
		a, err := netip.ParseAddr(o.Address)
		if err != nil {
			return k, fmt.Errorf("service %+v: %w", o, err)
		}
		k.Addr = a
	}
	if err := checkKey(k); err != nil {
		return k, fmt.Errorf("service %+v: %w", o, err)
	}
	return k, nil
}

// encodeKey spells out service key k.
func encodeKey(k model.ServiceKey) (ownedKey, error) {
	if err := checkKey(k); err != nil {
		return ownedKey{}, fmt.Errorf("cannot record service %v: %w", k, err)
	}
	o := ownedKey{Family: familyNames[k.Family], Protocol: protocolNames[k.Protocol], Port: k.Port, FWMark: k.FWMark}
	if k.Addr.IsValid() {
		o.Address = k.Addr.String()
	}
	return o, nil
}

// SaveOwned records the set of virtual services the daemon owns, sorted and
// without duplicates. It replaces the file atomically: a crash leaves the old
// record or the new one.
func (d *Dir) SaveOwned(keys []model.ServiceKey) error {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, model.ServiceKey.Compare)
	keys = slices.Compact(keys)
	rec := ownedRecord{Version: ownedVersion, Services: make([]ownedKey, len(keys))}
	for i, k := range keys {
		o, err := encodeKey(k)
		if err != nil {
			return err
		}
		rec.Services[i] = o
	}
	return d.writeJSON(ownedFile, rec)
}

// writeJSON replaces file name with v as indented JSON, atomically.
func (d *Dir) writeJSON(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(d.Path, name, append(b, '\n'))
}

// checkKey reports whether k can be recorded: a known family and protocol,
// and for a non-fwmark service a protocol and an address of its family.
func checkKey(k model.ServiceKey) error {
	if _, ok := familyNames[k.Family]; !ok {
		return fmt.Errorf("unknown family %v", k.Family)
	}
	if _, ok := protocolNames[k.Protocol]; !ok {
		return fmt.Errorf("unknown protocol %v", k.Protocol)
	}
	if !k.IsFWMark() && (k.Protocol == 0 || !k.Addr.IsValid() || model.FamilyOf(k.Addr) != k.Family) {
		return fmt.Errorf("want a protocol and an %v address, or a fwmark", k.Family)
	}
	return nil
}

func lookup[K comparable](names map[K]string, name string) (K, bool) {
	for k, n := range names {
		if n == name {
			return k, true
		}
	}
	var zero K
	return zero, false
}

// writeAtomic replaces dir/name with data: a temporary file in dir, written,
// synced and renamed over name, then dir synced.
func writeAtomic(dir, name string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	df, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer df.Close()
	return df.Sync()
}
