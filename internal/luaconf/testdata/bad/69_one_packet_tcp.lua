--! 69_one_packet_tcp.lua:3:16: virtual_server "198.18.0.10:80": one_packet: one-packet scheduling applies to UDP services only
virtual_server "198.18.0.10:80" {
  one_packet = true,
  real_server "198.18.1.1:80" {},
}
