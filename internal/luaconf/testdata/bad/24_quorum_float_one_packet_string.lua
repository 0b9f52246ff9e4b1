--! 24_quorum_float_one_packet_string.lua:4:12: quorum must be an integer, got 1.5
--! 24_quorum_float_one_packet_string.lua:5:16: one_packet must be true or false, got string
virtual_server "udp:198.18.0.53:53" {
  quorum = 1.5,
  one_packet = "yes",
  real_server "198.18.2.1:53" {},
}
