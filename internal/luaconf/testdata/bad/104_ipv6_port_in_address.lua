--! 104_ipv6_port_in_address.lua:5:15: warning: real_server "2001:db8:12::2:8080" is the address 2001:db8:12::2:8080 with port 80; did you mean "[2001:db8:12::2]:8080"? (write "[2001:db8:12::2:8080]" for the address)
--! 104_ipv6_port_in_address.lua:5:15: real_server "2001:db8:12::2:8080": address: IPv6 real server in IPv4 service: mixed families need tunnel forwarding
--! 104_ipv6_port_in_address.lua:7:16: virtual_server "2001:db8::10:80": missing port (write [2001:db8::10]:80 for port 80, or [2001:db8::10:80]:PORT)
virtual_server "198.18.0.10:80" {
  real_server "2001:db8:12::2:8080" {},
}
virtual_server "2001:db8::10:80" {}
