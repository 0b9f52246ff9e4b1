package ipvs

import (
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/luvs-lb/luvs/internal/model"
)

// A service deleted between the service dump and its real-server dump is
// left out of the table, not listed empty.
func TestTableSkipsServiceDeletedDuringRead(t *testing.T) {
	a, _ := model.ParseServiceKey("198.18.0.1:80")
	b, _ := model.ParseServiceKey("198.18.0.2:80")
	svcs := []Service{{Service: model.Service{ServiceKey: a}}, {Service: model.Service{ServiceKey: b}}}
	got, err := withDests(svcs, func(k model.ServiceKey) ([]Dest, error) {
		if k == a {
			return nil, fmt.Errorf("list real servers of %s: %w", k, unix.ESRCH)
		}
		return []Dest{{Dest: model.Dest{Weight: 1}}}, nil
	})
	if err != nil || len(got) != 1 || got[0].ServiceKey != b || len(got[0].Dests) != 1 {
		t.Fatalf("withDests = %+v, %v; want only %s with its server", got, err, b)
	}
	if _, err := withDests(svcs, func(model.ServiceKey) ([]Dest, error) { return nil, unix.EPERM }); err == nil {
		t.Error("other errors must be returned")
	}
}
