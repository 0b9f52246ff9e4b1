--! 63_vs_without_address.lua:2:1: virtual_server needs an address before its options: virtual_server "198.18.0.10:80" { ... }
virtual_server {
  address = "198.18.0.10:80",
  real_server "198.18.1.1:80" {},
}
