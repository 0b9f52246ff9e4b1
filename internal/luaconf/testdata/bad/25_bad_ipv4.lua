--! 25_bad_ipv4.lua:3:16: virtual_server "198.18.0.300:80": invalid IP address "198.18.0.300": IPv4 field has value >255
--! 25_bad_ipv4.lua:8:15: real_server "198.18.1.256:80": invalid IP address "198.18.1.256": IPv4 field has value >255
virtual_server "198.18.0.300:80" {
  real_server "198.18.1.1:80" {},
}

virtual_server "198.18.0.11:80" {
  real_server "198.18.1.256:80" {},
}
