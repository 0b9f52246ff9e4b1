package ipvs

import (
	"net/netip"
	"testing"

	"github.com/luvs-lb/luvs/internal/model"
)

// BenchmarkDecodeDests decodes 10,000 GET_DEST replies (with both stats
// attributes, as the kernel sends them).
func BenchmarkDecodeDests(b *testing.B) {
	var w attrWriter
	n := w.nest(cmdAttrDest)
	d := model.Dest{DestKey: model.DestKey{Addr: netip.MustParseAddr("198.19.0.1"), Port: 8080}, Weight: 3}
	putDest(&w, &d)
	for _, typ := range []uint16{destAttrStats, destAttrStats64} {
		s := w.nest(typ)
		for k := uint16(1); k <= 10; k++ {
			w.put(k, make([]byte, 8))
		}
		w.end(s)
	}
	w.u32(destAttrActiveConns, 0)
	w.u32(destAttrInactConns, 0)
	w.u32(destAttrPersistConns, 0)
	w.end(n)
	msg := w.b
	b.ResetTimer()
	for b.Loop() {
		out := make([]Dest, 0, 10)
		for i := 0; i < 10000; i++ {
			d, err := decodeDest(msg)
			if err != nil {
				b.Fatal(err)
			}
			out = append(out, d)
			if len(out) == 10 {
				out = make([]Dest, 0, 10)
			}
		}
	}
}
