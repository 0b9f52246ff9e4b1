package vrrp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// State is a virtual router's state (RFC 5798 §6.4).
type State int

// The states of §6.4.
const (
	Initialize State = iota
	Backup
	Master
)

// String returns the RFC's name of the state.
func (s State) String() string {
	switch s {
	case Initialize:
		return "Initialize"
	case Backup:
		return "Backup"
	case Master:
		return "Master"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Received is an advertisement as a Transport delivers it: already
// checked by Unmarshal, and received with TTL (hop limit) 255.
type Received struct {
	Src, Dst netip.Addr
	Advertisement
}

// Transport carries one virtual router's advertisements.
type Transport interface {
	// LocalAddr is the address advertisements are sent from: the
	// interface's primary IPv4 address, or its IPv6 link-local address
	// (§5.1.1.1, §5.1.2.1). The election's tie-break compares it.
	LocalAddr() netip.Addr
	// Send sends adv to dst: the group (GroupIPv4, GroupIPv6) or a
	// unicast peer.
	Send(adv *Advertisement, dst netip.Addr) error
	// Receive delivers the advertisements received; it is closed when the
	// transport fails or is closed.
	Receive() <-chan Received
}

// AddressManager puts a virtual router's addresses on the interface.
type AddressManager interface {
	// AddAddresses adds the addresses not there yet.
	AddAddresses(addrs []netip.Addr) error
	// RemoveAddresses removes those that are there.
	RemoveAddresses(addrs []netip.Addr) error
	// Announce sends a gratuitous ARP (IPv4) or an unsolicited neighbour
	// advertisement (IPv6) for each address.
	Announce(addrs []netip.Addr) error
}

// Clock is the time source of an instance; tests substitute one.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is a Clock's timer, like a *time.Timer.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
	Reset(d time.Duration) bool
}

// SystemClock is the Clock of package time.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// NewTimer returns a time.Timer.
func (SystemClock) NewTimer(d time.Duration) Timer { return sysTimer{time.NewTimer(d)} }

type sysTimer struct{ *time.Timer }

func (t sysTimer) C() <-chan time.Time { return t.Timer.C }

// Transition is a change of state, and why.
type Transition struct {
	VRID     uint8
	From, To State
	// Reason says why: "master down timer expired", "higher priority
	// advertisement from 198.18.0.2 (priority 200 > 100)", "shutdown"...
	Reason string
	At     time.Time
}

// Config is a virtual router's configuration.
type Config struct {
	// VRID is the virtual router's identifier, 1-255.
	VRID uint8
	// Priority is 1-254, or PriorityOwner (255) for the owner of the
	// addresses, which is Master at once and ignores advertisements.
	Priority uint8
	// AdvertInterval is the Advertisement_Interval, 10 ms-40.95 s in
	// steps of 10 ms; 0 is 1 s.
	AdvertInterval time.Duration
	// NoPreempt turns Preempt_Mode off (keepalived's nopreempt): a backup
	// of higher priority leaves a lower priority master alone.
	NoPreempt bool
	// PreemptDelay (keepalived's preempt_delay) is how long a backup of
	// higher priority goes on accepting a lower priority master after
	// first hearing it, before preempting it; 0 preempts at once.
	PreemptDelay time.Duration
	// Accept is Accept_Mode (§6.1). It is reported, not enforced: the
	// caller filters traffic to the addresses if it wants it off.
	Accept bool
	// Addresses are the virtual addresses, all of the transport's family.
	Addresses []netip.Addr
	// Peers, when set, are unicast peers (keepalived's unicast_peer):
	// advertisements are sent to each instead of the group, and only
	// theirs are accepted.
	Peers []netip.Addr
	// OnTransition, if set, is called on each change of state, on the
	// instance's goroutine: it must not wait for the instance.
	OnTransition func(Transition)
	// Clock is nil for SystemClock.
	Clock Clock
	// Log is nil for slog.Default().
	Log *slog.Logger
}

// Status is a snapshot of an instance.
type Status struct {
	State    State
	Priority uint8
	// Master is the address of the master last heard (the local address
	// when Master); invalid when none is known.
	Master netip.Addr
	// MasterAdverInterval is the Master_Adver_Interval.
	MasterAdverInterval time.Duration
	// Reason is the Reason of the last transition.
	Reason string
}

// Instance is a running virtual router: Run owns its state on one
// goroutine; the other methods are safe for concurrent use.
type Instance struct {
	cfg   Config
	tr    Transport
	am    AddressManager
	clock Clock
	log   *slog.Logger

	wake chan struct{}

	mu       sync.Mutex // guards priority, running and status
	priority uint8      // wanted by SetPriority
	running  bool
	status   Status

	// Owned by Run.
	state     State
	prio      uint8 // in effect
	mai       time.Duration
	timer     Timer
	downCause string    // why the master down timer will have expired
	preemptAt time.Time // end of the preempt delay; zero: not started
	master    netip.Addr
	mismatch  bool // the master's addresses differ from ours (logged once)
}

// Skew returns Skew_Time for priority and the Master_Adver_Interval mai:
// ((256 - priority) * mai) / 256 (§6.1).
func Skew(priority uint8, mai time.Duration) time.Duration {
	return time.Duration(256-int64(priority)) * mai / 256
}

// MasterDownInterval returns Master_Down_Interval, 3 * mai + Skew_Time
// (§6.1).
func MasterDownInterval(priority uint8, mai time.Duration) time.Duration {
	return 3*mai + Skew(priority, mai)
}

// New checks cfg and returns an instance ready to Run.
func New(cfg Config, tr Transport, am AddressManager) (*Instance, error) {
	if cfg.VRID == 0 {
		return nil, errors.New("vrrp: VRID 0: it must be 1-255")
	}
	if cfg.Priority == 0 {
		return nil, fmt.Errorf("vrrp: VRID %d: priority 0: it must be 1-255", cfg.VRID)
	}
	if cfg.AdvertInterval == 0 {
		cfg.AdvertInterval = time.Second
	}
	if cfg.AdvertInterval < centisecond || cfg.AdvertInterval > MaxAdvertInterval || cfg.AdvertInterval%centisecond != 0 {
		return nil, fmt.Errorf("vrrp: VRID %d: advertisement interval %v: it must be 10ms-40.95s in steps of 10ms", cfg.VRID, cfg.AdvertInterval)
	}
	if cfg.PreemptDelay < 0 {
		return nil, fmt.Errorf("vrrp: VRID %d: negative preempt delay %v", cfg.VRID, cfg.PreemptDelay)
	}
	if len(cfg.Addresses) == 0 || len(cfg.Addresses) > 255 {
		return nil, fmt.Errorf("vrrp: VRID %d: %d virtual addresses: it needs 1-255", cfg.VRID, len(cfg.Addresses))
	}
	if tr == nil || am == nil {
		return nil, fmt.Errorf("vrrp: VRID %d: no transport or address manager", cfg.VRID)
	}
	is4 := cfg.Addresses[0].Unmap().Is4()
	cfg.Addresses = slices.Clone(cfg.Addresses)
	for i, a := range cfg.Addresses {
		if a = a.Unmap(); !a.IsValid() || a.Is4() != is4 {
			return nil, fmt.Errorf("vrrp: VRID %d: virtual addresses %v and %v: one family per virtual router", cfg.VRID, cfg.Addresses[0], a)
		}
		cfg.Addresses[i] = a
	}
	cfg.Peers = slices.Clone(cfg.Peers)
	for i, p := range cfg.Peers {
		if p = p.Unmap(); !p.IsValid() || p.Is4() != is4 {
			return nil, fmt.Errorf("vrrp: VRID %d: unicast peer %v is not of the family of %v", cfg.VRID, p, cfg.Addresses[0])
		}
		cfg.Peers[i] = p
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	i := &Instance{
		cfg:      cfg,
		tr:       tr,
		am:       am,
		clock:    cfg.Clock,
		log:      cfg.Log.With("vrid", cfg.VRID),
		wake:     make(chan struct{}, 1),
		priority: cfg.Priority,
	}
	i.status = Status{State: Initialize, Priority: cfg.Priority, MasterAdverInterval: cfg.AdvertInterval}
	return i, nil
}

// SetPriority changes the priority (1-254; health tracking). It takes
// effect at the next event: a master's next advertisement carries it, a
// backup uses it for the next advertisement it receives. The owner's
// priority (255) cannot change.
func (i *Instance) SetPriority(p uint8) error {
	if p == PriorityShutdown || p == PriorityOwner {
		return fmt.Errorf("vrrp: VRID %d: priority %d: it must be 1-254", i.cfg.VRID, p)
	}
	if i.cfg.Priority == PriorityOwner {
		return fmt.Errorf("vrrp: VRID %d: the address owner's priority (255) is fixed", i.cfg.VRID)
	}
	i.mu.Lock()
	i.priority = p
	i.mu.Unlock()
	select {
	case i.wake <- struct{}{}:
	default:
	}
	return nil
}

// State returns the current state.
func (i *Instance) State() State {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.status.State
}

// Status returns a snapshot of the instance.
func (i *Instance) Status() Status {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.status
}

// Run runs the virtual router until ctx is done, then shuts it down (a
// master sends a priority 0 advertisement and removes the addresses) and
// returns nil; or until the transport's Receive channel closes, then shuts
// down as well and returns an error. An instance runs once.
func (i *Instance) Run(ctx context.Context) error {
	i.mu.Lock()
	if i.running {
		i.mu.Unlock()
		return fmt.Errorf("vrrp: VRID %d: already run", i.cfg.VRID)
	}
	i.running = true
	i.prio = i.priority
	i.mu.Unlock()

	i.timer = i.clock.NewTimer(time.Hour)
	i.timer.Stop()
	defer i.timer.Stop()
	i.startup()
	rx := i.tr.Receive()
	for {
		select {
		case <-ctx.Done():
			i.shutdown("shutdown")
			return nil
		case r, ok := <-rx:
			if !ok {
				i.shutdown("transport closed")
				return fmt.Errorf("vrrp: VRID %d: transport closed", i.cfg.VRID)
			}
			i.receive(&r)
		case <-i.timer.C():
			i.expired()
		case <-i.wake:
			i.mu.Lock()
			i.prio = i.priority
			i.mu.Unlock()
			i.publish()
		}
	}
}

// startup handles the Startup event of Initialize (§6.4.1).
func (i *Instance) startup() {
	if i.prio == PriorityOwner {
		i.becomeMaster("startup as the address owner (priority 255)")
		return
	}
	i.mai = i.cfg.AdvertInterval
	if err := i.am.RemoveAddresses(i.cfg.Addresses); err != nil {
		i.log.Warn("vrrp: cannot remove the virtual addresses", "err", err)
	}
	i.becomeBackup("startup", netip.Addr{})
}

// shutdown handles the Shutdown event (§6.4.2, §6.4.3).
func (i *Instance) shutdown(reason string) {
	i.timer.Stop()
	if i.state == Master {
		i.advertise(PriorityShutdown)
		if err := i.am.RemoveAddresses(i.cfg.Addresses); err != nil {
			i.log.Warn("vrrp: cannot remove the virtual addresses", "err", err)
		}
	}
	i.master = netip.Addr{}
	i.transition(Initialize, reason)
}

// expired handles the timer: the Adver_Timer of a master, the
// Master_Down_Timer of a backup.
func (i *Instance) expired() {
	switch i.state {
	case Master:
		i.advertise(i.prio)
		i.timer.Reset(i.cfg.AdvertInterval)
	case Backup:
		i.becomeMaster(i.downCause)
	}
}

// becomeMaster is the Backup's Master_Down_Timer event (§6.4.2), and the
// owner's startup.
func (i *Instance) becomeMaster(reason string) {
	i.advertise(i.prio)
	if err := i.am.AddAddresses(i.cfg.Addresses); err != nil {
		i.log.Error("vrrp: cannot add the virtual addresses", "err", err)
	}
	if err := i.am.Announce(i.cfg.Addresses); err != nil {
		i.log.Warn("vrrp: cannot announce the virtual addresses", "err", err)
	}
	i.timer.Reset(i.cfg.AdvertInterval)
	i.preemptAt = time.Time{}
	i.master = i.tr.LocalAddr()
	i.transition(Master, reason)
}

// becomeBackup enters Backup with the Master_Down_Timer at
// Master_Down_Interval.
func (i *Instance) becomeBackup(reason string, master netip.Addr) {
	i.master = master
	i.resetDown()
	i.transition(Backup, reason)
}

// resetDown sets the Master_Down_Timer to Master_Down_Interval.
func (i *Instance) resetDown() {
	i.timer.Stop()
	i.timer.Reset(MasterDownInterval(i.prio, i.mai))
	i.downCause = "master down timer expired"
}

// advertise sends an advertisement of priority p to the group or to each
// unicast peer.
func (i *Instance) advertise(p uint8) {
	adv := Advertisement{VRID: i.cfg.VRID, Priority: p, Interval: i.cfg.AdvertInterval, Addresses: i.cfg.Addresses}
	dsts := i.cfg.Peers
	if len(dsts) == 0 {
		dsts = []netip.Addr{Group(i.cfg.Addresses[0])}
	}
	for _, d := range dsts {
		if err := i.tr.Send(&adv, d); err != nil {
			i.log.Warn("vrrp: cannot send an advertisement", "to", d, "err", err)
		}
	}
}

// receive handles an advertisement (§6.4.2, §6.4.3, §7.1).
func (i *Instance) receive(r *Received) {
	src := r.Src.Unmap()
	if r.VRID != i.cfg.VRID || src.Is4() != i.cfg.Addresses[0].Is4() || src == i.tr.LocalAddr() {
		return
	}
	if len(i.cfg.Peers) > 0 && !slices.Contains(i.cfg.Peers, src) {
		i.log.Debug("vrrp: advertisement from a host not a unicast peer: discarded", "from", src)
		return
	}
	if r.Interval == 0 {
		// Master_Down_Interval would be 0: the backups would flap.
		i.log.Warn("vrrp: advertisement with a zero interval: discarded", "from", src)
		return
	}
	if i.cfg.Priority == PriorityOwner {
		// §7.1: the owner discards advertisements.
		i.log.Debug("vrrp: advertisement received by the address owner: discarded", "from", src, "priority", r.Priority)
		return
	}
	i.checkAddresses(r, src)
	switch i.state {
	case Backup:
		i.receiveBackup(r, src)
	case Master:
		i.receiveMaster(r, src)
	}
}

// checkAddresses logs, once, that the advertised addresses differ from
// ours (§7.1's optional check); the advertisement is processed anyway.
func (i *Instance) checkAddresses(r *Received, src netip.Addr) {
	same := len(r.Addresses) == len(i.cfg.Addresses)
	for _, a := range r.Addresses {
		same = same && slices.Contains(i.cfg.Addresses, a.Unmap())
	}
	if !same && !i.mismatch {
		i.log.Warn("vrrp: advertised virtual addresses differ from ours: misconfiguration", "from", src, "theirs", r.Addresses, "ours", i.cfg.Addresses)
	}
	i.mismatch = !same
}

func (i *Instance) receiveBackup(r *Received, src netip.Addr) {
	if r.Priority == PriorityShutdown {
		i.timer.Stop()
		i.timer.Reset(Skew(i.prio, i.mai))
		i.downCause = fmt.Sprintf("master %v shut down (priority 0 advertisement)", src)
		return
	}
	accept := i.cfg.NoPreempt || r.Priority >= i.prio
	if !accept && i.cfg.PreemptDelay > 0 {
		now := i.clock.Now()
		if i.preemptAt.IsZero() {
			i.preemptAt = now.Add(i.cfg.PreemptDelay)
			i.log.Info("vrrp: lower priority master: preempting it after the preempt delay", "master", src, "priority", r.Priority, "delay", i.cfg.PreemptDelay)
		}
		accept = now.Before(i.preemptAt)
	}
	if !accept {
		// Discarded: the Master_Down_Timer runs out.
		i.downCause = fmt.Sprintf("preempting lower priority master %v (priority %d < %d)", src, r.Priority, i.prio)
		return
	}
	if r.Priority >= i.prio {
		i.preemptAt = time.Time{}
	}
	i.mai = r.Interval
	i.master = src
	i.resetDown()
	i.publish()
}

func (i *Instance) receiveMaster(r *Received, src netip.Addr) {
	switch {
	case r.Priority == PriorityShutdown:
		i.advertise(i.prio)
		i.timer.Reset(i.cfg.AdvertInterval)
	case r.Priority > i.prio:
		i.yield(r, src, fmt.Sprintf("higher priority advertisement from %v (priority %d > %d)", src, r.Priority, i.prio))
	case r.Priority == i.prio && addrGreater(src, i.tr.LocalAddr()):
		i.yield(r, src, fmt.Sprintf("equal priority advertisement from higher address %v (priority %d)", src, r.Priority))
	default:
		// Discarded (§6.4.3): our next advertisement preempts it.
	}
}

// yield goes from Master to Backup for the advertisement r.
func (i *Instance) yield(r *Received, src netip.Addr, reason string) {
	i.timer.Stop()
	i.mai = r.Interval
	if err := i.am.RemoveAddresses(i.cfg.Addresses); err != nil {
		i.log.Error("vrrp: cannot remove the virtual addresses", "err", err)
	}
	i.becomeBackup(reason, src)
}

// addrGreater compares addresses as unsigned integers in network order
// (§6.4.3's "primary IPvX Address ... is greater").
func addrGreater(a, b netip.Addr) bool {
	return a.Unmap().Compare(b.Unmap()) > 0
}

func (i *Instance) transition(to State, reason string) {
	from := i.state
	i.state = to
	i.log.Info("vrrp: state change", "from", from, "to", to, "reason", reason)
	i.mu.Lock()
	i.status.Reason = reason
	i.mu.Unlock()
	i.publish()
	if i.cfg.OnTransition != nil && from != to {
		i.cfg.OnTransition(Transition{VRID: i.cfg.VRID, From: from, To: to, Reason: reason, At: i.clock.Now()})
	}
}

// publish updates the status snapshot.
func (i *Instance) publish() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.status.State = i.state
	i.status.Priority = i.prio
	i.status.Master = i.master
	i.status.MasterAdverInterval = i.mai
	if i.state == Master {
		i.status.MasterAdverInterval = i.cfg.AdvertInterval
	}
}
