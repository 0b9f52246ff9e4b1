package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/luvs-lb/luvs/internal/status"
)

var (
	descPeerUp    = prometheus.NewDesc("luvs_bgp_peer_established", "1 while the BGP session with the peer is established.", []string{"peer", "peer_asn"}, nil)
	descAnnounced = prometheus.NewDesc("luvs_bgp_prefix_announced", "1 while the prefix is announced to the BGP peers (its services serve), 0 while withdrawn.", []string{"prefix"}, nil)
)

// bgpCollector reports the BGP speaker's sessions and announcements.
type bgpCollector struct{ get func() *status.BGPStatus }

func (c bgpCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descPeerUp
	ch <- descAnnounced
}

func (c bgpCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.get()
	if st == nil {
		return
	}
	for _, p := range st.Peers {
		ch <- prometheus.MustNewConstMetric(descPeerUp, prometheus.GaugeValue, b2f(p.State == "established"), p.Address, strconv.FormatUint(uint64(p.ASN), 10))
	}
	for _, a := range st.Announcements {
		ch <- prometheus.MustNewConstMetric(descAnnounced, prometheus.GaugeValue, b2f(a.Announced), a.Prefix)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// WithBGP adds the BGP speaker's series, read from get on each scrape
// (nil: no bgp, no series).
func (m *Metrics) WithBGP(get func() *status.BGPStatus) *Metrics {
	m.reg.MustRegister(bgpCollector{get})
	return m
}

var (
	descVRRPMaster   = prometheus.NewDesc("luvs_vrrp_master", "1 while this director is the VRRP virtual router's master.", []string{"vrrp", "interface", "vrid"}, nil)
	descVRRPPriority = prometheus.NewDesc("luvs_vrrp_priority", "The VRRP virtual router's priority in effect (after tracking).", []string{"vrrp", "interface", "vrid"}, nil)
)

// vrrpCollector reports the VRRP virtual routers.
type vrrpCollector struct{ get func() []status.VRRPStatus }

func (c vrrpCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descVRRPMaster
	ch <- descVRRPPriority
}

func (c vrrpCollector) Collect(ch chan<- prometheus.Metric) {
	for _, v := range c.get() {
		labels := []string{v.Name, v.Interface, strconv.Itoa(int(v.VRID))}
		ch <- prometheus.MustNewConstMetric(descVRRPMaster, prometheus.GaugeValue, b2f(v.State == "master"), labels...)
		ch <- prometheus.MustNewConstMetric(descVRRPPriority, prometheus.GaugeValue, float64(v.Priority), labels...)
	}
}

// WithVRRP adds the VRRP virtual routers' series, read from get on each
// scrape.
func (m *Metrics) WithVRRP(get func() []status.VRRPStatus) *Metrics {
	m.reg.MustRegister(vrrpCollector{get})
	return m
}
