--! 88_unspecified_and_nat_port0.lua:3:16: virtual_server "0.0.0.0:80": address: 0.0.0.0 is unspecified; give a real virtual address
--! 88_unspecified_and_nat_port0.lua:4:15: real_server "198.18.1.1:0": port: NAT real servers need a port
virtual_server "0.0.0.0:80" {
  real_server "198.18.1.1:0" {},
}
