// Package ipvs talks to the Linux IPVS kernel module over generic netlink:
// it lists, creates, edits and deletes virtual services and real servers,
// reads statistics, sets timeouts, controls the connection-sync daemon, and
// applies many changes in a few round trips (Apply).
package ipvs

import (
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/luvs-lb/luvs/internal/model"
)

// ErrNotAvailable means the kernel offers no IPVS: the ip_vs module is not
// loaded and could not be loaded, or the kernel was built without it.
var ErrNotAvailable = errors.New("IPVS is not available in this kernel: the ip_vs module is not loaded " +
	"(try `modprobe ip_vs`) or the kernel was built without CONFIG_IP_VS")

// Service is a virtual service as the kernel reports it.
type Service struct {
	model.Service
	Stats Stats
	// Dests is filled by Table.
	Dests []Dest
}

// Dest is a real server as the kernel reports it.
type Dest struct {
	model.Dest
	ActiveConns  uint32
	InactConns   uint32
	PersistConns uint32
	Stats        Stats
}

// Info is the kernel's IPVS version and connection table size.
type Info struct {
	Version     uint32 // major<<16 | minor<<8 | patch
	ConnTabSize uint32
}

// VersionString renders "1.2.1".
func (i Info) VersionString() string {
	return fmt.Sprintf("%d.%d.%d", i.Version>>16, (i.Version>>8)&0xff, i.Version&0xff)
}

// Client is a connection to the kernel's IPVS. It is safe for concurrent use.
type Client struct {
	// MaxBatch caps the changes Apply sends per round trip; 0 chooses
	// automatically, 1 sends one request at a time (as ipvsadm does).
	MaxBatch int

	mu sync.Mutex
	c  *conn
}

// Open connects to IPVS in the current network namespace. When the IPVS
// netlink family is missing it tries `modprobe ip_vs` once, as ipvsadm does,
// and otherwise returns ErrNotAvailable.
func Open() (*Client, error) {
	c, err := dialNetlink()
	if err != nil {
		return nil, err
	}
	fam, err := c.resolveFamily(genlName)
	if err != nil && isNotExist(err) {
		if path, lerr := exec.LookPath("modprobe"); lerr == nil && exec.Command(path, "-q", "ip_vs").Run() == nil {
			fam, err = c.resolveFamily(genlName)
		}
		if err != nil && isNotExist(err) {
			err = ErrNotAvailable
		}
	}
	if err != nil {
		c.close()
		return nil, err
	}
	c.family = fam
	return &Client{c: c}, nil
}

// Close releases the netlink socket.
func (cl *Client) Close() error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.c.close()
}

func (cl *Client) do(cmd uint8, dump bool, attrs []byte, fn func([]byte) error) error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.c.request(cl.c.family, cmd, genlVersion, dump, attrs, fn)
}

// Info returns the IPVS version and connection table size.
func (cl *Client) Info() (Info, error) {
	var info Info
	err := cl.do(cmdGetInfo, false, nil, func(b []byte) error {
		r := attrReader{b: b}
		for r.next() {
			switch r.typ {
			case infoAttrVersion:
				info.Version = r.u32()
			case infoAttrConnTabs:
				info.ConnTabSize = r.u32()
			}
		}
		return r.err
	})
	if err != nil {
		return info, fmt.Errorf("get IPVS info: %w", err)
	}
	return info, nil
}

// Services lists the virtual services (without real servers) in kernel order.
func (cl *Client) Services() ([]Service, error) {
	var out []Service
	err := cl.do(cmdGetService, true, nil, func(b []byte) error {
		s, err := decodeService(b)
		if err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	return out, nil
}

// Service returns one virtual service, or an error wrapping unix.ESRCH.
func (cl *Client) Service(k model.ServiceKey) (Service, error) {
	var out Service
	err := cl.do(cmdGetService, false, serviceKeyAttrs(k), func(b []byte) error {
		var err error
		out, err = decodeService(b)
		return err
	})
	if err != nil {
		return out, fmt.Errorf("get service %s: %w", k, describe(model.EditService, err))
	}
	return out, nil
}

// Dests lists the real servers of a service in kernel order.
func (cl *Client) Dests(k model.ServiceKey) ([]Dest, error) {
	out, err := cl.appendDests(nil, k)
	return out, err
}

// Conns counts the connections (active and inactive) of each real server
// of a service.
func (cl *Client) Conns(k model.ServiceKey) (map[model.DestKey]model.ConnCount, error) {
	ds, err := cl.Dests(k)
	if err != nil {
		return nil, err
	}
	out := make(map[model.DestKey]model.ConnCount, len(ds))
	for _, d := range ds {
		out[d.DestKey] = model.ConnCount{Active: int(d.ActiveConns), Inactive: int(d.InactConns)}
	}
	return out, nil
}

// appendDests appends the real servers of a service to out.
func (cl *Client) appendDests(out []Dest, k model.ServiceKey) ([]Dest, error) {
	err := cl.do(cmdGetDest, true, serviceKeyAttrs(k), func(b []byte) error {
		d, err := decodeDest(b)
		if err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("list real servers of %s: %w", k, err)
	}
	return out, nil
}

// Table lists every virtual service with its real servers, in kernel order.
func (cl *Client) Table() ([]Service, error) {
	svcs, err := cl.Services()
	if err != nil {
		return nil, err
	}
	// The real servers of all services share one growing array: a few large
	// allocations instead of several per service.
	var all []Dest
	return withDests(svcs, func(k model.ServiceKey) ([]Dest, error) {
		start := len(all)
		var err error
		all, err = cl.appendDests(all, k)
		if err != nil {
			all = all[:start]
			return nil, err
		}
		if len(all) == start {
			return nil, nil
		}
		return all[start:len(all):len(all)], nil
	})
}

// withDests fills in each service's real servers. A service deleted between
// the two dumps is left out: listing it without its real servers would make
// a diff plan adds against a service that is not there.
func withDests(svcs []Service, dests func(model.ServiceKey) ([]Dest, error)) ([]Service, error) {
	out := svcs[:0]
	for _, s := range svcs {
		ds, err := dests(s.ServiceKey)
		if err != nil {
			if errors.Is(err, unix.ESRCH) {
				continue
			}
			return nil, err
		}
		s.Dests = ds
		out = append(out, s)
	}
	return out, nil
}

// State returns the kernel table as a model.State, sorted by key.
func (cl *Client) State() (*model.State, error) {
	t, err := cl.Table()
	if err != nil {
		return nil, err
	}
	return ToState(t), nil
}

// ToState converts a kernel table to desired-state form, sorted by key.
func ToState(t []Service) *model.State {
	st := &model.State{Services: make([]model.VirtualServer, len(t))}
	for i, s := range t {
		v := model.VirtualServer{Service: s.Service, Dests: make([]model.Dest, len(s.Dests))}
		for j, d := range s.Dests {
			v.Dests[j] = d.Dest
		}
		sort.Slice(v.Dests, func(a, b int) bool { return v.Dests[a].DestKey.Less(v.Dests[b].DestKey) })
		st.Services[i] = v
	}
	sort.Slice(st.Services, func(a, b int) bool { return st.Services[a].ServiceKey.Less(st.Services[b].ServiceKey) })
	return st
}

// FromState converts desired state to the kernel-table form (zero counters),
// e.g. to print it with the ipvsadm formatters.
func FromState(st *model.State) []Service {
	t := make([]Service, len(st.Services))
	for i, v := range st.Services {
		t[i].Service = v.Service
		t[i].Dests = make([]Dest, len(v.Dests))
		for j, d := range v.Dests {
			t[i].Dests[j].Dest = d
		}
	}
	return t
}

// AddService creates a virtual service.
func (cl *Client) AddService(s model.Service) error {
	return cl.Apply([]model.Op{{Kind: model.AddService, Service: &s}}).Err()
}

// EditService changes a virtual service's scheduler, flags or persistence.
func (cl *Client) EditService(s model.Service) error {
	return cl.Apply([]model.Op{{Kind: model.EditService, Service: &s}}).Err()
}

// DelService deletes a virtual service and its real servers.
func (cl *Client) DelService(k model.ServiceKey) error {
	return cl.Apply([]model.Op{{Kind: model.DelService, Service: &model.Service{ServiceKey: k}}}).Err()
}

// AddDest adds a real server to a service.
func (cl *Client) AddDest(k model.ServiceKey, d model.Dest) error {
	return cl.Apply([]model.Op{{Kind: model.AddDest, Service: &model.Service{ServiceKey: k}, Dest: &d}}).Err()
}

// EditDest changes a real server's weight, forwarding or thresholds.
func (cl *Client) EditDest(k model.ServiceKey, d model.Dest) error {
	return cl.Apply([]model.Op{{Kind: model.EditDest, Service: &model.Service{ServiceKey: k}, Dest: &d}}).Err()
}

// DelDest removes a real server from a service.
func (cl *Client) DelDest(k model.ServiceKey, d model.DestKey) error {
	return cl.Apply([]model.Op{{Kind: model.DelDest, Service: &model.Service{ServiceKey: k}, Dest: &model.Dest{DestKey: d}}}).Err()
}

// Timeouts returns the TCP, TCP FIN and UDP connection timeouts.
func (cl *Client) Timeouts() (model.Timeouts, error) {
	var t model.Timeouts
	err := cl.do(cmdGetConfig, false, nil, func(b []byte) error {
		r := attrReader{b: b}
		for r.next() {
			switch r.typ {
			case cmdAttrTimeoutTCP:
				t.TCP = r.u32()
			case cmdAttrTimeoutFin:
				t.TCPFin = r.u32()
			case cmdAttrTimeoutUDP:
				t.UDP = r.u32()
			}
		}
		return r.err
	})
	if err != nil {
		return t, fmt.Errorf("get timeouts: %w", err)
	}
	return t, nil
}

// SetTimeouts sets connection timeouts; a zero field is left unchanged.
func (cl *Client) SetTimeouts(t model.Timeouts) error {
	var w attrWriter
	if t.TCP != 0 {
		w.u32(cmdAttrTimeoutTCP, t.TCP)
	}
	if t.TCPFin != 0 {
		w.u32(cmdAttrTimeoutFin, t.TCPFin)
	}
	if t.UDP != 0 {
		w.u32(cmdAttrTimeoutUDP, t.UDP)
	}
	if err := cl.do(cmdSetConfig, false, w.b, nil); err != nil {
		return fmt.Errorf("set timeouts: %w", err)
	}
	return nil
}

// Zero resets the counters of one service, or of all services when k is nil.
func (cl *Client) Zero(k *model.ServiceKey) error {
	var attrs []byte
	what := "all services"
	if k != nil {
		attrs, what = serviceKeyAttrs(*k), k.String()
	}
	if err := cl.do(cmdZero, false, attrs, nil); err != nil {
		return fmt.Errorf("zero counters of %s: %w", what, describe(model.EditService, err))
	}
	return nil
}

// Flush deletes every virtual service and real server in the namespace.
func (cl *Client) Flush() error {
	if err := cl.do(cmdFlush, false, nil, nil); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	return nil
}
