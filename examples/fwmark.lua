-- A firewall-mark service: packets marked 7 (for example by
-- nft 'add rule inet t pre ip daddr { 198.18.0.20, 198.18.0.21 } meta mark set 7')
-- are balanced together, whatever their address and port.
virtual_server "fwmark:7" {
  scheduler = "wlc",
  persistence = "10m",
  netmask = "255.255.255.0",
  real_server "198.18.11.2" { forward = "dr" },
  real_server "198.18.12.2" { forward = "dr" },
}

-- The IPv6 twin.
virtual_server "fwmark6:8" {
  scheduler = "rr",
  real_server "2001:db8:11::2" { forward = "dr" },
}
