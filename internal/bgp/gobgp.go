package bgp

// The translation between this package's plain types and GoBGP's.

import (
	"context"
	"log/slog"
	"net/netip"
	"time"

	"github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/config/oc"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/osrg/gobgp/v4/pkg/server"
)

// families are the address families of the speaker and of every session.
var families = []*api.Family{
	{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST},
	{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST},
}

// apiGlobal is the global configuration of cfg.
func apiGlobal(cfg Config) *api.Global {
	return &api.Global{
		Asn:        cfg.ASN,
		RouterId:   cfg.RouterID.String(),
		ListenPort: cfg.ListenPort,
		Families: []uint32{
			uint32(oc.AfiSafiTypeToIntMap[oc.AFI_SAFI_TYPE_IPV4_UNICAST]),
			uint32(oc.AfiSafiTypeToIntMap[oc.AFI_SAFI_TYPE_IPV6_UNICAST]),
		},
	}
}

// apiPeer is the GoBGP configuration of p.
func apiPeer(p Peer) *api.Peer {
	ap := &api.Peer{
		Conf: &api.PeerConf{
			NeighborAddress: p.Address.String(),
			PeerAsn:         p.ASN,
			AuthPassword:    p.Password,
		},
		Timers: &api.Timers{Config: &api.TimersConfig{
			HoldTime:     uint64(p.HoldTime / time.Second),
			ConnectRetry: uint64(p.ConnectRetry / time.Second),
			// After a reset (BFD down, a peer's cease) GoBGP waits this
			// long before connecting again; its default is 30 s.
			IdleHoldTimeAfterReset: uint64(p.ConnectRetry / time.Second),
		}},
		Transport: &api.Transport{RemotePort: uint32(p.Port)},
	}
	if p.LocalAddress.IsValid() {
		ap.Transport.LocalAddress = p.LocalAddress.String()
	}
	if p.MultihopTTL != 0 {
		ap.EbgpMultihop = &api.EbgpMultihop{Enabled: true, MultihopTtl: uint32(p.MultihopTTL)}
	}
	for _, f := range families {
		ap.AfiSafis = append(ap.AfiSafis, &api.AfiSafi{Config: &api.AfiSafiConfig{Family: f, Enabled: true}})
	}
	if b := p.BFD; b.Enabled {
		ap.Bfd = &api.BfdPeerConfig{
			Enabled:                  true,
			DesiredMinimumTxInterval: uint32(b.MinTx / time.Microsecond),
			RequiredMinimumReceive:   uint32(b.MinRx / time.Microsecond),
			DetectionMultiplier:      uint32(b.Multiplier),
		}
	}
	return ap
}

// onlyLocal sets the import policy of srv to accept the paths added
// locally and reject those received: the speaker originates routes, it
// does not route. (The global import policy applies to local paths too.)
func onlyLocal(ctx context.Context, srv *server.BgpServer) error {
	policy := &api.Policy{Name: "luvs-only-local", Statements: []*api.Statement{{
		Name:       "accept-local",
		Conditions: &api.Conditions{RouteType: api.Conditions_ROUTE_TYPE_LOCAL},
		Actions:    &api.Actions{RouteAction: api.RouteAction_ROUTE_ACTION_ACCEPT},
	}}}
	if err := srv.AddPolicy(ctx, &api.AddPolicyRequest{Policy: policy}); err != nil {
		return err
	}
	return srv.SetPolicyAssignment(ctx, &api.SetPolicyAssignmentRequest{Assignment: &api.PolicyAssignment{
		Name:          "global",
		Direction:     api.PolicyDirection_POLICY_DIRECTION_IMPORT,
		Policies:      []*api.Policy{{Name: policy.Name}},
		DefaultAction: api.RouteAction_ROUTE_ACTION_REJECT,
	}})
}

// family is GoBGP's address family of p.
func family(p netip.Prefix) bgp.Family {
	if p.Addr().Is4() {
		return bgp.RF_IPv4_UC
	}
	return bgp.RF_IPv6_UC
}

// apiPath is the locally originated path of p with a, or its withdrawal.
func apiPath(p netip.Prefix, a attrs, withdraw bool) (*apiutil.Path, error) {
	nlri, err := bgp.NewIPAddrPrefix(p)
	if err != nil {
		return nil, err
	}
	nh := a.nextHop
	if !nh.IsValid() {
		// Unspecified: GoBGP sends the session's local address.
		nh = netip.IPv4Unspecified()
		if p.Addr().Is6() {
			nh = netip.IPv6Unspecified()
		}
	}
	pattrs := []bgp.PathAttributeInterface{
		bgp.NewPathAttributeOrigin(bgp.BGP_ORIGIN_ATTR_TYPE_IGP),
		bgp.NewPathAttributeAsPath(nil),
	}
	if p.Addr().Is4() {
		nha, err := bgp.NewPathAttributeNextHop(nh)
		if err != nil {
			return nil, err
		}
		pattrs = append(pattrs, nha)
	} else {
		mp, err := bgp.NewPathAttributeMpReachNLRI(bgp.RF_IPv6_UC, []bgp.PathNLRI{{NLRI: nlri}}, nh)
		if err != nil {
			return nil, err
		}
		pattrs = append(pattrs, mp)
	}
	if len(a.comms) > 0 {
		pattrs = append(pattrs, bgp.NewPathAttributeCommunities(a.comms))
	}
	if a.hasMED {
		pattrs = append(pattrs, bgp.NewPathAttributeMultiExitDisc(a.med))
	}
	if a.hasPref {
		pattrs = append(pattrs, bgp.NewPathAttributeLocalPref(a.localPref))
	}
	return &apiutil.Path{
		Family:     family(p),
		Nlri:       nlri,
		Attrs:      pattrs,
		Withdrawal: withdraw,
	}, nil
}

// stateName is the name of a session state in PeerState.
func stateName(s bgp.FSMState) string {
	switch s {
	case bgp.BGP_FSM_IDLE:
		return "idle"
	case bgp.BGP_FSM_CONNECT:
		return "connect"
	case bgp.BGP_FSM_ACTIVE:
		return "active"
	case bgp.BGP_FSM_OPENSENT:
		return "opensent"
	case bgp.BGP_FSM_OPENCONFIRM:
		return "openconfirm"
	case bgp.BGP_FSM_ESTABLISHED:
		return "established"
	}
	return "unknown"
}

// apiStateName is the name of a session state reported by ListPeer.
func apiStateName(s api.PeerState_SessionState) string {
	switch s {
	case api.PeerState_SESSION_STATE_IDLE:
		return "idle"
	case api.PeerState_SESSION_STATE_CONNECT:
		return "connect"
	case api.PeerState_SESSION_STATE_ACTIVE:
		return "active"
	case api.PeerState_SESSION_STATE_OPENSENT:
		return "opensent"
	case api.PeerState_SESSION_STATE_OPENCONFIRM:
		return "openconfirm"
	case api.PeerState_SESSION_STATE_ESTABLISHED:
		return "established"
	}
	return "unknown"
}

// bfdStateName is the name of a BFD session state in PeerState.
func bfdStateName(s api.BfdSessionState) string {
	switch s {
	case api.BfdSessionState_BFD_SESSION_STATE_UP:
		return "up"
	case api.BfdSessionState_BFD_SESSION_STATE_INIT:
		return "init"
	case api.BfdSessionState_BFD_SESSION_STATE_ADMIN_DOWN:
		return "admin-down"
	}
	return "down"
}

// disconnectReason says why a session went down, from a peer event.
func disconnectReason(st apiutil.PeerState) string {
	var r string
	switch st.DisconnectReason {
	case api.PeerState_DISCONNECT_REASON_ADMIN_DOWN:
		r = "administratively down"
	case api.PeerState_DISCONNECT_REASON_HOLD_TIMER_EXPIRED:
		r = "hold timer expired"
	case api.PeerState_DISCONNECT_REASON_NOTIFICATION_SENT:
		r = "notification sent"
	case api.PeerState_DISCONNECT_REASON_NOTIFICATION_RECEIVED:
		r = "notification received"
	case api.PeerState_DISCONNECT_REASON_READ_FAILED:
		r = "read failed"
	case api.PeerState_DISCONNECT_REASON_WRITE_FAILED:
		r = "write failed"
	case api.PeerState_DISCONNECT_REASON_IDLE_TIMER_EXPIRED:
		r = "idle timer expired"
	case api.PeerState_DISCONNECT_REASON_RESTART_TIMER_EXPIRED:
		r = "restart timer expired"
	case api.PeerState_DISCONNECT_REASON_GRACEFUL_RESTART:
		r = "graceful restart"
	case api.PeerState_DISCONNECT_REASON_INVALID_MSG:
		r = "invalid message"
	case api.PeerState_DISCONNECT_REASON_HARD_RESET:
		r = "hard reset"
	case api.PeerState_DISCONNECT_REASON_DECONFIGURED:
		r = "deconfigured"
	case api.PeerState_DISCONNECT_REASON_BAD_PEER_AS:
		r = "bad peer AS"
	}
	if st.DisconnectMessage != "" {
		return st.DisconnectMessage // says more, e.g. which notification
	}
	return r
}

// quietHandler passes GoBGP's log records of at least a level to a
// handler, their message prefixed with "gobgp: ".
type quietHandler struct {
	min slog.Leveler
	h   slog.Handler
}

func (q quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= q.min.Level() && q.h.Enabled(ctx, l)
}

func (q quietHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Message = "gobgp: " + r.Message
	return q.h.Handle(ctx, r)
}

func (q quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return quietHandler{q.min, q.h.WithAttrs(as)}
}

func (q quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{q.min, q.h.WithGroup(name)}
}
