--! 64_protocol_contradicts.lua:3:14: protocol TCP contradicts the address "udp:198.18.0.53:53"
virtual_server "udp:198.18.0.53:53" {
  protocol = "tcp",
  real_server "198.18.2.1:53" {},
}
