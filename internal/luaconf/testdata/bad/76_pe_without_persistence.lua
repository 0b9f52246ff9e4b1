--! 76_pe_without_persistence.lua:3:8: virtual_server "udp:198.18.0.60:5060": persistence: timeout, netmask and persistence engine need persistence enabled
virtual_server "udp:198.18.0.60:5060" {
  pe = "sip",
  real_server "198.18.6.1:5060" {},
}
