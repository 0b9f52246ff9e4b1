--! 65_family_on_address.lua:3:3: family applies to fwmark services only (the address has one)
virtual_server "198.18.0.10:80" {
  family = "ipv4",
  real_server "198.18.1.1:80" {},
}
