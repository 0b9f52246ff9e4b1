package ipvs

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"

	"github.com/mdlayher/netlink"

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
	b := make([]byte, 16)
	if a.Is4() {
		v := a.As4()
		copy(b, v[:])
	} else {
		v := a.As16()
		copy(b, v[:])
	}
	return b
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

// encodeServiceKey writes the attributes that identify a service.
func encodeServiceKey(ae *netlink.AttributeEncoder, k model.ServiceKey) {
	ae.Uint16(svcAttrAF, uint16(k.Family))
	if k.IsFWMark() {
		ae.Uint32(svcAttrFWMark, k.FWMark)
		return
	}
	ae.Uint16(svcAttrProtocol, uint16(k.Protocol))
	ae.Bytes(svcAttrAddr, addr16(k.Addr))
	ae.Bytes(svcAttrPort, be16(k.Port))
}

// encodeService writes a full service (for add and edit).
func encodeService(ae *netlink.AttributeEncoder, s *model.Service) {
	encodeServiceKey(ae, s.ServiceKey)
	ae.String(svcAttrSchedName, s.Scheduler)
	flags := make([]byte, 8)
	binary.NativeEndian.PutUint32(flags[0:4], s.Flags())
	binary.NativeEndian.PutUint32(flags[4:8], ^uint32(0))
	ae.Bytes(svcAttrFlags, flags)
	ae.Uint32(svcAttrTimeout, s.Timeout)
	ae.Bytes(svcAttrNetmask, netmaskBytes(s.Family, s.Netmask()))
	if s.PEName != "" {
		ae.String(svcAttrPEName, s.PEName)
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

func encodeDestKey(ae *netlink.AttributeEncoder, d *model.Dest) {
	ae.Uint16(destAttrAddrFamily, uint16(d.Family()))
	ae.Bytes(destAttrAddr, addr16(d.Addr))
	ae.Bytes(destAttrPort, be16(d.Port))
}

func encodeDest(ae *netlink.AttributeEncoder, d *model.Dest) {
	encodeDestKey(ae, d)
	ae.Uint32(destAttrFwdMethod, uint32(d.Forward))
	ae.Uint32(destAttrWeight, uint32(d.Weight))
	ae.Uint32(destAttrUThresh, d.UpperThreshold)
	ae.Uint32(destAttrLThresh, d.LowerThreshold)
	ae.Uint8(destAttrTunType, uint8(d.TunnelType))
	ae.Bytes(destAttrTunPort, be16(d.TunnelPort))
	ae.Uint16(destAttrTunFlags, d.TunnelFlags)
}

// encodeOp returns the command and attributes for one operation.
func encodeOp(op *model.Op) (uint8, []byte, error) {
	ae := netlink.NewAttributeEncoder()
	var cmd uint8
	switch op.Kind {
	case model.AddService, model.EditService:
		cmd = cmdNewService
		if op.Kind == model.EditService {
			cmd = cmdSetService
		}
		ae.Nested(cmdAttrService, func(nae *netlink.AttributeEncoder) error {
			encodeService(nae, &op.Service)
			return nil
		})
	case model.DelService:
		cmd = cmdDelService
		ae.Nested(cmdAttrService, func(nae *netlink.AttributeEncoder) error {
			encodeServiceKey(nae, op.Service.ServiceKey)
			return nil
		})
	case model.AddDest, model.EditDest, model.DelDest:
		ae.Nested(cmdAttrService, func(nae *netlink.AttributeEncoder) error {
			encodeServiceKey(nae, op.Service.ServiceKey)
			return nil
		})
		ae.Nested(cmdAttrDest, func(nae *netlink.AttributeEncoder) error {
			if op.Kind == model.DelDest {
				encodeDestKey(nae, &op.Dest)
			} else {
				encodeDest(nae, &op.Dest)
			}
			return nil
		})
		cmd = map[model.OpKind]uint8{model.AddDest: cmdNewDest, model.EditDest: cmdSetDest, model.DelDest: cmdDelDest}[op.Kind]
	default:
		return 0, nil, fmt.Errorf("unknown operation kind %d", op.Kind)
	}
	b, err := ae.Encode()
	return cmd, b, err
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

func decodeStats(ad *netlink.AttributeDecoder, wide bool) Stats {
	var s Stats
	ad.Nested(func(nad *netlink.AttributeDecoder) error {
		for nad.Next() {
			var v uint64
			switch {
			case wide:
				v = nad.Uint64()
			case nad.Type() == statsInBytes || nad.Type() == statsOutBytes:
				v = nad.Uint64()
			default:
				v = uint64(nad.Uint32())
			}
			switch nad.Type() {
			case statsConns:
				s.Conns = v
			case statsInPkts:
				s.InPkts = v
			case statsOutPkts:
				s.OutPkts = v
			case statsInBytes:
				s.InBytes = v
			case statsOutBytes:
				s.OutBytes = v
			case statsCPS:
				s.CPS = v
			case statsInPPS:
				s.InPPS = v
			case statsOutPPS:
				s.OutPPS = v
			case statsInBPS:
				s.InBPS = v
			case statsOutBPS:
				s.OutBPS = v
			}
		}
		return nil
	})
	return s
}

// decodeService parses a GET_SERVICE reply.
func decodeService(b []byte) (Service, error) {
	var s Service
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return s, err
	}
	for ad.Next() {
		if ad.Type() != cmdAttrService {
			continue
		}
		ad.Nested(func(nad *netlink.AttributeDecoder) error {
			var rawAddr, rawMask []byte
			have64 := false
			for nad.Next() {
				switch nad.Type() {
				case svcAttrAF:
					s.Family = model.Family(nad.Uint16())
				case svcAttrProtocol:
					s.Protocol = model.Protocol(nad.Uint16())
				case svcAttrAddr:
					rawAddr = nad.Bytes()
				case svcAttrPort:
					s.Port = binary.BigEndian.Uint16(nad.Bytes())
				case svcAttrFWMark:
					s.FWMark = nad.Uint32()
				case svcAttrSchedName:
					s.Scheduler = nad.String()
				case svcAttrFlags:
					if fb := nad.Bytes(); len(fb) >= 4 {
						s.SetFlags(binary.NativeEndian.Uint32(fb[0:4]))
					}
				case svcAttrTimeout:
					s.Timeout = nad.Uint32()
				case svcAttrNetmask:
					rawMask = nad.Bytes()
				case svcAttrPEName:
					s.PEName = nad.String()
				case svcAttrStats64:
					s.Stats = decodeStats(nad, true)
					have64 = true
				case svcAttrStats:
					if !have64 {
						s.Stats = decodeStats(nad, false)
					}
				}
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
			return nil
		})
	}
	return s, ad.Err()
}

// decodeDest parses a GET_DEST reply.
func decodeDest(b []byte) (Dest, error) {
	var d Dest
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return d, err
	}
	for ad.Next() {
		if ad.Type() != cmdAttrDest {
			continue
		}
		ad.Nested(func(nad *netlink.AttributeDecoder) error {
			var rawAddr []byte
			fam := model.Family(0)
			have64 := false
			for nad.Next() {
				switch nad.Type() {
				case destAttrAddr:
					rawAddr = nad.Bytes()
				case destAttrAddrFamily:
					fam = model.Family(nad.Uint16())
				case destAttrPort:
					d.Port = binary.BigEndian.Uint16(nad.Bytes())
				case destAttrFwdMethod:
					d.Forward = model.ForwardMethod(nad.Uint32() & fwdMask)
				case destAttrWeight:
					d.Weight = int(int32(nad.Uint32()))
				case destAttrUThresh:
					d.UpperThreshold = nad.Uint32()
				case destAttrLThresh:
					d.LowerThreshold = nad.Uint32()
				case destAttrActiveConns:
					d.ActiveConns = nad.Uint32()
				case destAttrInactConns:
					d.InactConns = nad.Uint32()
				case destAttrPersistConns:
					d.PersistConns = nad.Uint32()
				case destAttrStats64:
					d.Stats = decodeStats(nad, true)
					have64 = true
				case destAttrStats:
					if !have64 {
						d.Stats = decodeStats(nad, false)
					}
				case destAttrTunType:
					d.TunnelType = model.TunnelType(nad.Uint8())
				case destAttrTunPort:
					d.TunnelPort = binary.BigEndian.Uint16(nad.Bytes())
				case destAttrTunFlags:
					d.TunnelFlags = nad.Uint16()
				}
			}
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
			return nil
		})
	}
	return d, ad.Err()
}

func allZero(b []byte) bool {
	for _, v := range b {
		if v != 0 {
			return false
		}
	}
	return true
}
