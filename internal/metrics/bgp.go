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
