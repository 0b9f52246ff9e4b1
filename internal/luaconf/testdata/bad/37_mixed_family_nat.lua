--! 37_mixed_family_nat.lua:4:15: real_server "198.18.41.2:443": address: IPv4 real server in IPv6 service: mixed families need tunnel forwarding
virtual_server "[2001:db8::30]:443" {
  forward = "nat",
  real_server "198.18.41.2:443" {},
}
