--! 89_fwmark_family_protocol.lua:4:12: family must be "ipv4" or "ipv6", got "inet7"
--! 89_fwmark_family_protocol.lua:5:3: a fwmark service has no protocol (the mark selects the packets)
virtual_server "fwmark:7" {
  family = "inet7",
  protocol = "tcp",
  real_server "198.18.1.1" { forward = "dr" },
}
