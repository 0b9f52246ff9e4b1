package statedir

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/luvs-lb/luvs/internal/model"
)

const (
	leavingFile    = "leaving.json"
	leavingVersion = 1
)

// leavingRecord is the JSON form of leaving.json: the real servers being
// drained before their removal.
type leavingRecord struct {
	Version int           `json:"version"`
	Servers []leavingDest `json:"servers"`
}

type leavingDest struct {
	Service  ownedKey  `json:"service"`
	Server   string    `json:"server"` // address:port
	Since    time.Time `json:"since"`
	Deadline time.Time `json:"deadline"`
}

// LoadDraining returns the real servers an earlier run was draining before
// their removal. A missing file is none; a corrupt one is an error naming
// the file.
func (d *Dir) LoadDraining() ([]model.DrainRecord, error) {
	return load(d, leavingFile, decodeLeaving)
}

func decodeLeaving(b []byte) ([]model.DrainRecord, error) {
	var rec leavingRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, err
	}
	if rec.Version != leavingVersion {
		return nil, fmt.Errorf("version %d, want %d", rec.Version, leavingVersion)
	}
	out := make([]model.DrainRecord, 0, len(rec.Servers))
	for _, l := range rec.Servers {
		svc, err := l.Service.decode()
		if err != nil {
			return nil, err
		}
		ap, err := netip.ParseAddrPort(l.Server)
		if err != nil {
			return nil, fmt.Errorf("server %q: %w", l.Server, err)
		}
		if svc.Family != model.FamilyOf(ap.Addr()) && !svc.IsFWMark() {
			return nil, fmt.Errorf("server %s: not an %v address like its service's", l.Server, svc.Family)
		}
		out = append(out, model.DrainRecord{Service: svc, Dest: model.DestKey{Addr: ap.Addr(), Port: ap.Port()},
			Since: l.Since, Deadline: l.Deadline})
	}
	slices.SortFunc(out, model.DrainRecord.Compare)
	return out, nil
}

// SaveDraining records the real servers being drained before their removal
// (replacing the file atomically), so that a restarted daemon goes on
// draining them instead of deleting them.
func (d *Dir) SaveDraining(recs []model.DrainRecord) error {
	rec := leavingRecord{Version: leavingVersion, Servers: make([]leavingDest, len(recs))}
	for i, r := range recs {
		svc, err := encodeKey(r.Service)
		if err != nil {
			return err
		}
		rec.Servers[i] = leavingDest{Service: svc, Server: r.Dest.String(), Since: r.Since.UTC(), Deadline: r.Deadline.UTC()}
	}
	return d.writeJSON(leavingFile, rec)
}
