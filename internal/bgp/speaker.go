package bgp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/osrg/gobgp/v4/pkg/server"
)

// Speaker is a BGP speaker announcing prefixes to its peers. Its methods
// may be called from any goroutine.
type Speaker struct {
	log *slog.Logger

	mu        sync.Mutex
	cfg       Config
	phase     phase
	srv       *server.BgpServer // the running GoBGP; nil if none
	gen       uint64            // counts the GoBGPs run; events of older ones are ignored
	stopWatch context.CancelFunc
	announced map[netip.Prefix]attrs
	peers     map[netip.Addr]*peerTrack // the configured peers, while running
}

type phase int

const (
	created phase = iota
	running
	stopped
)

// peerTrack is what the peer events told of a session.
type peerTrack struct {
	state  bgp.FSMState
	since  time.Time
	reason string
}

var errStopped = errors.New("the BGP speaker is stopped")

// New returns a speaker for cfg, not started, logging to log (nil: nowhere).
func New(cfg Config, log *slog.Logger) (*Speaker, error) {
	cfg, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Speaker{log: log, cfg: cfg, announced: map[netip.Prefix]attrs{}}, nil
}

// Start starts the speaker: it listens (unless Config.ListenPort is -1),
// connects to its peers and announces the prefixes announced so far. It
// does not wait for sessions to be established.
func (s *Speaker) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.phase {
	case running:
		return errors.New("start BGP speaker: already started")
	case stopped:
		return fmt.Errorf("start BGP speaker: %w", errStopped)
	}
	if err := s.run(ctx); err != nil {
		return fmt.Errorf("start BGP speaker: %w", err)
	}
	s.phase = running
	return nil
}

// run starts a GoBGP for s.cfg with the announced prefixes. s.mu is held.
func (s *Speaker) run(ctx context.Context) error {
	cfg := s.cfg
	level := cfg.GoBGPLog
	if level == nil {
		level = slog.LevelWarn
	}
	srv := server.NewBgpServer(server.LoggerOption(slog.New(quietHandler{level, s.log.Handler()}), nil))
	go srv.Serve()
	if err := srv.StartBgp(ctx, &api.StartBgpRequest{Global: apiGlobal(cfg)}); err != nil {
		srv.Stop()
		return err
	}
	if err := onlyLocal(ctx, srv); err != nil {
		srv.Stop()
		return fmt.Errorf("set the import policy: %w", err)
	}
	s.gen++
	gen := s.gen
	wctx, stopWatch := context.WithCancel(context.Background())
	err := srv.WatchEvent(wctx, server.WatchEventMessageCallbacks{
		OnPeerUpdate: func(ev *apiutil.WatchEventMessage_PeerEvent, t time.Time) { s.peerEvent(gen, ev, t) },
	}, server.WatchPeer())
	if err != nil {
		stopWatch()
		srv.Stop()
		return fmt.Errorf("watch the peers: %w", err)
	}
	s.srv, s.stopWatch = srv, stopWatch
	s.peers = make(map[netip.Addr]*peerTrack, len(cfg.Peers))
	for _, p := range cfg.Peers {
		if err := s.addPeer(ctx, p); err != nil {
			s.halt()()
			return err
		}
	}
	for _, p := range s.sortedAnnounced() {
		if err := s.addPath(p, s.announced[p]); err != nil {
			s.halt()()
			return fmt.Errorf("announce %s: %w", p, err)
		}
	}
	s.log.Info("BGP speaker started", "asn", cfg.ASN, "router_id", cfg.RouterID.String(),
		"listen_port", cfg.ListenPort, "peers", len(cfg.Peers), "announced", len(s.announced))
	return nil
}

// halt stops the running GoBGP at once, without waiting for it. s.mu is
// held.
func (s *Speaker) halt() func() {
	srv := s.srv
	if srv == nil {
		return func() {}
	}
	s.gen++ // ignore its last events
	s.stopWatch()
	s.srv, s.stopWatch, s.peers = nil, nil, nil
	return srv.Stop
}

// addPeer adds p to the running GoBGP. s.mu is held.
func (s *Speaker) addPeer(ctx context.Context, p Peer) error {
	s.peers[p.Address] = &peerTrack{state: bgp.BGP_FSM_IDLE, since: time.Now()}
	if err := s.srv.AddPeer(ctx, &api.AddPeerRequest{Peer: apiPeer(p)}); err != nil {
		delete(s.peers, p.Address)
		return fmt.Errorf("add peer %s: %w", p.Address, err)
	}
	return nil
}

// deletePeer removes a peer from the running GoBGP, closing its session.
// s.mu is held.
func (s *Speaker) deletePeer(ctx context.Context, addr netip.Addr) error {
	delete(s.peers, addr) // before its last event, which is not logged
	if err := s.srv.DeletePeer(ctx, &api.DeletePeerRequest{Address: addr.String()}); err != nil {
		return fmt.Errorf("remove peer %s: %w", addr, err)
	}
	return nil
}

// peerEvent records and logs a change of a session's state.
func (s *Speaker) peerEvent(gen uint64, ev *apiutil.WatchEventMessage_PeerEvent, t time.Time) {
	if ev.Type != apiutil.PEER_EVENT_STATE {
		return
	}
	addr := ev.Peer.Conf.NeighborAddress.Unmap()
	s.mu.Lock()
	defer s.mu.Unlock()
	tr := s.peers[addr]
	if gen != s.gen || tr == nil {
		return
	}
	from, to := tr.state, ev.Peer.State.SessionState
	if from == to {
		return
	}
	tr.state, tr.since = to, t
	level := slog.LevelInfo
	args := []any{"peer", addr.String(), "asn", ev.Peer.Conf.PeerASN, "from", stateName(from), "to", stateName(to)}
	if from == bgp.BGP_FSM_ESTABLISHED {
		level = slog.LevelWarn
		tr.reason = disconnectReason(ev.Peer.State)
		args = append(args, "reason", tr.reason)
	}
	s.log.Log(context.Background(), level, "BGP peer state changed", args...)
}

// Announce announces p with a to all peers, now and whenever a session is
// established, until Withdraw. Announcing p again with other attributes
// replaces its announcement; with the same ones, it does nothing.
func (s *Speaker) Announce(p netip.Prefix, a Attrs) error {
	if err := checkPrefix(p); err != nil {
		return fmt.Errorf("announce %s: %w", p, err)
	}
	at, err := parseAttrs(p, a)
	if err != nil {
		return fmt.Errorf("announce %s: %w", p, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.phase == stopped {
		return fmt.Errorf("announce %s: %w", p, errStopped)
	}
	old, again := s.announced[p]
	if again && old.equal(at) {
		return nil
	}
	if s.srv != nil {
		if err := s.addPath(p, at); err != nil {
			return fmt.Errorf("announce %s: %w", p, err)
		}
	}
	s.announced[p] = at
	msg := "BGP announce"
	if again {
		msg = "BGP announce with new attributes"
	}
	s.log.Info(msg, append([]any{"prefix", p.String()}, at.logArgs()...)...)
	return nil
}

// Withdraw withdraws p from all peers; it does nothing if p is not
// announced.
func (s *Speaker) Withdraw(p netip.Prefix) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.announced[p]
	if !ok {
		return nil
	}
	if s.srv != nil {
		if err := s.deletePath(p, at); err != nil {
			return fmt.Errorf("withdraw %s: %w", p, err)
		}
	}
	delete(s.announced, p)
	s.log.Info("BGP withdraw", "prefix", p.String())
	return nil
}

// addPath gives p with a to the running GoBGP. s.mu is held.
func (s *Speaker) addPath(p netip.Prefix, a attrs) error {
	path, err := apiPath(p, a, false)
	if err != nil {
		return err
	}
	_, err = s.srv.AddPath(apiutil.AddPathRequest{Paths: []*apiutil.Path{path}})
	return err
}

// deletePath withdraws p from the running GoBGP. s.mu is held.
func (s *Speaker) deletePath(p netip.Prefix, a attrs) error {
	path, err := apiPath(p, a, true)
	if err != nil {
		return err
	}
	return s.srv.DeletePath(apiutil.DeletePathRequest{Paths: []*apiutil.Path{path}})
}

// Announced returns the announced prefixes, IPv4 first, sorted.
func (s *Speaker) Announced() []netip.Prefix {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sortedAnnounced()
}

func (s *Speaker) sortedAnnounced() []netip.Prefix {
	ps := make([]netip.Prefix, 0, len(s.announced))
	for p := range s.announced {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, comparePrefix)
	return ps
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// Peers returns the state of the configured peers, sorted by address
// (IPv4 first). Before Start and after Stop, every session is idle.
func (s *Speaker) Peers() []PeerState {
	s.mu.Lock()
	defer s.mu.Unlock()
	states := make(map[netip.Addr]PeerState, len(s.cfg.Peers))
	for _, p := range s.cfg.Peers {
		states[p.Address] = PeerState{Address: p.Address, ASN: p.ASN, State: "idle"}
	}
	if s.srv != nil {
		err := s.srv.ListPeer(context.Background(), &api.ListPeerRequest{EnableAdvertised: true}, func(ap *api.Peer) {
			addr, err := netip.ParseAddr(ap.GetConf().GetNeighborAddress())
			if err != nil {
				return
			}
			addr = addr.Unmap()
			ps, ok := states[addr]
			if !ok {
				return
			}
			ps.State = apiStateName(ap.GetState().GetSessionState())
			if tr := s.peers[addr]; tr != nil {
				if stateName(tr.state) == ps.State {
					ps.Since = tr.since
				}
				ps.Reason = tr.reason
			}
			for _, af := range ap.GetAfiSafis() {
				ps.Received += int(af.GetState().GetReceived())
				ps.Advertised += int(af.GetState().GetAdvertised())
			}
			if ap.GetBfd().GetEnabled() {
				ps.BFD = bfdStateName(ap.GetState().GetBfdState().GetSessionState())
			}
			states[addr] = ps
		})
		if err != nil {
			s.log.Warn("cannot list the BGP peers", "err", err)
		}
	}
	out := make([]PeerState, 0, len(states))
	for _, ps := range states {
		out = append(out, ps)
	}
	slices.SortFunc(out, func(a, b PeerState) int { return a.Address.Compare(b.Address) })
	return out
}

// Update applies a new configuration. Peers are added and removed as cfg
// says; a peer whose configuration changed is removed and added again,
// which resets its session. A change of ASN, RouterID or ListenPort
// restarts the speaker: every session is reset, the prefixes stay
// announced. An invalid cfg changes nothing. Before Start, Update only
// replaces the configuration.
func (s *Speaker) Update(cfg Config) error {
	cfg, err := cfg.validate()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.phase == stopped:
		return fmt.Errorf("update BGP speaker: %w", errStopped)
	case s.phase == created:
		s.cfg = cfg
		return nil
	case s.srv == nil || cfg.ASN != s.cfg.ASN || cfg.RouterID != s.cfg.RouterID || cfg.ListenPort != s.cfg.ListenPort:
		if s.srv != nil {
			s.log.Info("BGP speaker restarting: its ASN, router id or listen port changed",
				"asn", cfg.ASN, "router_id", cfg.RouterID.String(), "listen_port", cfg.ListenPort)
		}
		s.halt()()
		s.cfg = cfg
		if err := s.run(context.Background()); err != nil {
			return fmt.Errorf("restart BGP speaker: %w", err)
		}
		return nil
	}
	s.cfg.GoBGPLog = cfg.GoBGPLog // read at the next restart only
	return s.updatePeers(cfg.Peers)
}

// updatePeers changes the running GoBGP's peers to want. s.mu is held.
func (s *Speaker) updatePeers(want []Peer) error {
	ctx := context.Background()
	have := make(map[netip.Addr]Peer, len(s.cfg.Peers))
	for _, p := range s.cfg.Peers {
		have[p.Address] = p
	}
	wanted := make(map[netip.Addr]bool, len(want))
	var errs []error
	for _, p := range want {
		wanted[p.Address] = true
		old, ok := have[p.Address]
		switch {
		case ok && old == p:
			continue
		case ok:
			if err := s.deletePeer(ctx, p.Address); err != nil {
				errs = append(errs, err)
				continue
			}
			delete(have, p.Address)
			s.log.Info("BGP peer changed: its session restarts", "peer", p.Address.String(), "asn", p.ASN)
		default:
			s.log.Info("BGP peer added", "peer", p.Address.String(), "asn", p.ASN)
		}
		if err := s.addPeer(ctx, p); err != nil {
			errs = append(errs, err)
			continue
		}
		have[p.Address] = p
	}
	for addr, p := range have {
		if wanted[addr] {
			continue
		}
		if err := s.deletePeer(ctx, addr); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(have, addr)
		s.log.Info("BGP peer removed", "peer", addr.String(), "asn", p.ASN)
	}
	// The configuration is what was applied: the wanted peers in their
	// order, and those that could not be removed.
	applied := make([]Peer, 0, len(have))
	for _, p := range want {
		if q, ok := have[p.Address]; ok {
			applied = append(applied, q)
			delete(have, p.Address)
		}
	}
	for _, p := range have {
		applied = append(applied, p)
	}
	s.cfg.Peers = applied
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("update BGP peers: %w", err)
	}
	return nil
}

// Stop withdraws every prefix, closes the sessions and stops the speaker
// for good; it returns when GoBGP has stopped or, with ctx's error, when
// ctx is done first (GoBGP then goes on stopping in the background).
func (s *Speaker) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.phase == stopped {
		s.mu.Unlock()
		return nil
	}
	s.phase = stopped
	if s.srv != nil && len(s.announced) > 0 {
		if err := s.srv.DeletePath(apiutil.DeletePathRequest{DeleteAll: true}); err != nil {
			s.log.Warn("cannot withdraw the announced prefixes before stopping: closing the sessions withdraws them", "err", err)
		}
	}
	n := len(s.announced)
	clear(s.announced)
	stop := s.halt()
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		defer close(done)
		stop()
	}()
	select {
	case <-done:
		s.log.Info("BGP speaker stopped", "withdrawn", n)
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop BGP speaker: %w", ctx.Err())
	}
}
