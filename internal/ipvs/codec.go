package ipvs

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"

	"github.com/luvs-lb/luvs/internal/model"
)

// Constants from linux/include/uapi/linux/ip_vs.h.
const (
	genlName    = "IPVS"
	genlVersion = 1

	cmdNewService = 1
	cmdSetService = 2
	cmdDelService = 3
	cmdGetService = 4
	cmdNewDest    = 5
	cmdSetDest    = 6
	cmdDelDest    = 7
	cmdGetDest    = 8
	cmdNewDaemon  = 9
	cmdDelDaemon  = 10
	cmdGetDaemon  = 11
	cmdSetConfig  = 12
	cmdGetConfig  = 13
	cmdGetInfo    = 15
	cmdZero       = 16
	cmdFlush      = 17

	cmdAttrService    = 1
	cmdAttrDest       = 2
	cmdAttrDaemon     = 3
	cmdAttrTimeoutTCP = 4
	cmdAttrTimeoutFin = 5
	cmdAttrTimeoutUDP = 6

	svcAttrAF        = 1
	svcAttrProtocol  = 2
	svcAttrAddr      = 3
	svcAttrPort      = 4
	svcAttrFWMark    = 5
	svcAttrSchedName = 6
	svcAttrFlags     = 7
	svcAttrTimeout   = 8
	svcAttrNetmask   = 9
	svcAttrStats     = 10
	svcAttrPEName    = 11
	svcAttrStats64   = 12

	destAttrAddr         = 1
	destAttrPort         = 2
	destAttrFwdMethod    = 3
	destAttrWeight       = 4
	destAttrUThresh      = 5
	destAttrLThresh      = 6
	destAttrActiveConns  = 7
	destAttrInactConns   = 8
	destAttrPersistConns = 9
	destAttrStats        = 10
	destAttrAddrFamily   = 11
	destAttrStats64      = 12
	destAttrTunType      = 13
	destAttrTunPort      = 14
	destAttrTunFlags     = 15

	daemonAttrState      = 1
	daemonAttrMcastIfn   = 2
	daemonAttrSyncID     = 3
	daemonAttrSyncMaxLen = 4
	daemonAttrMcastGroup = 5
	daemonAttrMcastGrp6  = 6
	daemonAttrMcastPort  = 7
	daemonAttrMcastTTL   = 8

	statsConns    = 1
	statsInPkts   = 2
	statsOutPkts  = 3
	statsInBytes  = 4
	statsOutBytes = 5
	statsCPS      = 6
	statsInPPS    = 7
	statsOutPPS   = 8
	statsInBPS    = 9
	statsOutBPS   = 10

	infoAttrVersion  = 1
	infoAttrConnTabs = 2

	fwdMask = 0x0007
)

// Stats are a service's or real server's counters and rates, as the kernel
// reports them (64-bit; rates are estimated every 2 seconds).
type Stats struct {
	Conns    uint64 `json:"conns"`
	InPkts   uint64 `json:"in_pkts"`
	OutPkts  uint64 `json:"out_pkts"`
	InBytes  uint64 `json:"in_bytes"`
	OutBytes uint64 `json:"out_bytes"`
	CPS      uint64 `json:"cps"`
	InPPS    uint64 `json:"in_pps"`
	OutPPS   uint64 `json:"out_pps"`
	InBPS    uint64 `json:"in_bps"`
	OutBPS   uint64 `json:"out_bps"`
}

// addr16 encodes an address as the kernel's 16-byte union nf_inet_addr.
func addr16(a netip.Addr) []byte {
	var b [16]byte
	if a.Is4() {
		v := a.As4()
		copy(b[:], v[:])
	} else {
		b = a.As16()
	}
	return b[:]
}

// putServiceKey writes the attributes that identify a service.
func putServiceKey(w *attrWriter, k model.ServiceKey) {
	w.u16(svcAttrAF, uint16(k.Family))
	if k.IsFWMark() {
		w.u32(svcAttrFWMark, k.FWMark)
		return
	}
	w.u16(svcAttrProtocol, uint16(k.Protocol))
	w.put(svcAttrAddr, addr16(k.Addr))
	w.be16(svcAttrPort, k.Port)
}

// putService writes a full service (for add and edit).
func putService(w *attrWriter, s *model.Service) {
	putServiceKey(w, s.ServiceKey)
	w.str(svcAttrSchedName, s.Scheduler)
	var flags [8]byte
	binary.NativeEndian.PutUint32(flags[0:4], s.Flags())
	binary.NativeEndian.PutUint32(flags[4:8], ^uint32(0))
	w.put(svcAttrFlags, flags[:])
	w.u32(svcAttrTimeout, s.Timeout)
	w.put(svcAttrNetmask, netmaskBytes(s.Family, s.Netmask()))
	if s.PEName != "" {
		w.str(svcAttrPEName, s.PEName)
	}
}

// netmaskBytes encodes the persistence netmask: an IPv4 mask in network byte
// order, or an IPv6 prefix length as a host-order integer.
func netmaskBytes(f model.Family, ones int) []byte {
	if f == model.IPv6 {
		return binary.NativeEndian.AppendUint32(nil, uint32(ones))
	}
	var m uint32
	if ones > 0 {
		m = ^uint32(0) << (32 - ones)
	}
	return binary.BigEndian.AppendUint32(nil, m)
}

func netmaskOnes(f model.Family, b []byte) int {
	if len(b) < 4 {
		return 0
	}
	if f == model.IPv6 {
		return int(binary.NativeEndian.Uint32(b))
	}
	return bits.LeadingZeros32(^binary.BigEndian.Uint32(b))
}

func putDestKey(w *attrWriter, d *model.Dest) {
	w.u16(destAttrAddrFamily, uint16(d.Family()))
	w.put(destAttrAddr, addr16(d.Addr))
	w.be16(destAttrPort, d.Port)
}

func putDest(w *attrWriter, d *model.Dest) {
	putDestKey(w, d)
	w.u32(destAttrFwdMethod, uint32(d.Forward))
	w.u32(destAttrWeight, uint32(d.Weight))
	w.u32(destAttrUThresh, d.UpperThreshold)
	w.u32(destAttrLThresh, d.LowerThreshold)
	w.u8(destAttrTunType, uint8(d.TunnelType))
	w.be16(destAttrTunPort, d.TunnelPort)
	w.u16(destAttrTunFlags, d.TunnelFlags)
}

// serviceKeyAttrs returns the request attributes naming one service.
func serviceKeyAttrs(k model.ServiceKey) []byte {
	var w attrWriter
	n := w.nest(cmdAttrService)
	putServiceKey(&w, k)
	w.end(n)
	return w.b
}

// appendOp appends the attributes for one operation to w and returns its command.
func appendOp(w *attrWriter, op *model.Op) (uint8, error) {
	if op.Service == nil || (op.IsDest() && op.Dest == nil) {
		return 0, fmt.Errorf("%s: incomplete operation", op.Kind)
	}
	var cmd uint8
	switch op.Kind {
	case model.AddService, model.EditService:
		cmd = cmdNewService
		if op.Kind == model.EditService {
			cmd = cmdSetService
		}
		n := w.nest(cmdAttrService)
		putService(w, op.Service)
		w.end(n)
		return cmd, nil
	case model.DelService:
		n := w.nest(cmdAttrService)
		putServiceKey(w, op.Service.ServiceKey)
		w.end(n)
		return cmdDelService, nil
	case model.AddDest:
		cmd = cmdNewDest
	case model.EditDest:
		cmd = cmdSetDest
	case model.DelDest:
		cmd = cmdDelDest
	default:
		return 0, fmt.Errorf("unknown operation kind %d", op.Kind)
	}
	n := w.nest(cmdAttrService)
	putServiceKey(w, op.Service.ServiceKey)
	w.end(n)
	n = w.nest(cmdAttrDest)
	if op.Kind == model.DelDest {
		putDestKey(w, op.Dest)
	} else {
		putDest(w, op.Dest)
	}
	w.end(n)
	return cmd, nil
}

// encodeOp returns the command and attributes for one operation.
func encodeOp(op *model.Op) (uint8, []byte, error) {
	var w attrWriter
	cmd, err := appendOp(&w, op)
	return cmd, w.b, err
}

// decodeAddr reads a 16-byte nf_inet_addr for the given family.
func decodeAddr(f model.Family, b []byte) netip.Addr {
	if f == model.IPv4 && len(b) >= 4 {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	if len(b) >= 16 {
		return netip.AddrFrom16([16]byte(b[:16]))
	}
	return netip.Addr{}
}

// decodeStats reads a nested stats attribute; wide selects the 64-bit layout.
func decodeStats(r attrReader, wide bool) Stats {
	var v [statsOutBPS + 1]uint64
	for r.next() {
		if r.typ > statsOutBPS {
			continue
		}
		if wide || r.typ == statsInBytes || r.typ == statsOutBytes {
			v[r.typ] = r.u64()
		} else {
			v[r.typ] = uint64(r.u32())
		}
	}
	return Stats{Conns: v[statsConns], InPkts: v[statsInPkts], OutPkts: v[statsOutPkts], InBytes: v[statsInBytes],
		OutBytes: v[statsOutBytes], CPS: v[statsCPS], InPPS: v[statsInPPS], OutPPS: v[statsOutPPS],
		InBPS: v[statsInBPS], OutBPS: v[statsOutBPS]}
}

// decodeStatsOf decodes the 64-bit stats when present, else the 32-bit ones.
func decodeStatsOf(stats64, stats32 []byte) Stats {
	if stats64 != nil {
		return decodeStats(attrReader{b: stats64}, true)
	}
	if stats32 != nil {
		return decodeStats(attrReader{b: stats32}, false)
	}
	return Stats{}
}

// decodeService parses a GET_SERVICE reply.
func decodeService(b []byte) (Service, error) {
	var s Service
	top := attrReader{b: b}
	for top.next() {
		if top.typ != cmdAttrService {
			continue
		}
		r := top.nested()
		var rawAddr, rawMask, stats64, stats32 []byte
		for r.next() {
			switch r.typ {
			case svcAttrAF:
				s.Family = model.Family(r.u16())
			case svcAttrProtocol:
				s.Protocol = model.Protocol(r.u16())
			case svcAttrAddr:
				rawAddr = r.val
			case svcAttrPort:
				s.Port = r.be16()
			case svcAttrFWMark:
				s.FWMark = r.u32()
			case svcAttrSchedName:
				s.Scheduler = r.str()
			case svcAttrFlags:
				s.SetFlags(r.u32())
			case svcAttrTimeout:
				s.Timeout = r.u32()
			case svcAttrNetmask:
				rawMask = r.val
			case svcAttrPEName:
				s.PEName = r.str()
			case svcAttrStats64:
				stats64 = r.val
			case svcAttrStats:
				stats32 = r.val
			}
		}
		s.Stats = decodeStatsOf(stats64, stats32)
		if r.err != nil {
			return s, r.err
		}
		if s.FWMark == 0 {
			s.Addr = decodeAddr(s.Family, rawAddr)
		} else {
			s.Protocol = 0
		}
		s.NetmaskBits = netmaskOnes(s.Family, rawMask)
		if !s.Persistent {
			s.Timeout, s.NetmaskBits = 0, 0
		}
	}
	return s, top.err
}

// decodeDest parses a GET_DEST reply.
func decodeDest(b []byte) (Dest, error) {
	var d Dest
	top := attrReader{b: b}
	for top.next() {
		if top.typ != cmdAttrDest {
			continue
		}
		r := top.nested()
		var rawAddr, stats64, stats32 []byte
		fam := model.Family(0)
		for r.next() {
			switch r.typ {
			case destAttrAddr:
				rawAddr = r.val
			case destAttrAddrFamily:
				fam = model.Family(r.u16())
			case destAttrPort:
				d.Port = r.be16()
			case destAttrFwdMethod:
				d.Forward = model.ForwardMethod(r.u32() & fwdMask)
			case destAttrWeight:
				d.Weight = int(int32(r.u32()))
			case destAttrUThresh:
				d.UpperThreshold = r.u32()
			case destAttrLThresh:
				d.LowerThreshold = r.u32()
			case destAttrActiveConns:
				d.ActiveConns = r.u32()
			case destAttrInactConns:
				d.InactConns = r.u32()
			case destAttrPersistConns:
				d.PersistConns = r.u32()
			case destAttrStats64:
				stats64 = r.val
			case destAttrStats:
				stats32 = r.val
			case destAttrTunType:
				d.TunnelType = model.TunnelType(r.u8())
			case destAttrTunPort:
				d.TunnelPort = r.be16()
			case destAttrTunFlags:
				d.TunnelFlags = r.u16()
			}
		}
		if r.err != nil {
			return d, r.err
		}
		d.Stats = decodeStatsOf(stats64, stats32)
		if fam == 0 {
			fam = model.IPv4
			if len(rawAddr) >= 16 && !allZero(rawAddr[4:16]) {
				fam = model.IPv6
			}
		}
		d.Addr = decodeAddr(fam, rawAddr)
		if d.Forward != model.Tunnel {
			d.TunnelType, d.TunnelPort, d.TunnelFlags = 0, 0, 0
		}
	}
	return d, top.err
}

func allZero(b []byte) bool {
	for _, v := range b {
		if v != 0 {
			return false
		}
	}
	return true
}
