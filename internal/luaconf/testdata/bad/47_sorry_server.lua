--! 47_sorry_server.lua:4:18: sorry_server: invalid IP address "198.18.9.300": IPv4 field has value >255
--! 47_sorry_server.lua:9:18: sorry_server 198.18.1.2:80 is also a real server of this service
virtual_server "198.18.0.10:80" {
  sorry_server = "198.18.9.300:80",
  real_server "198.18.1.1:80" {},
}

virtual_server "198.18.0.11:80" {
  sorry_server = "198.18.1.2:80",
  real_server "198.18.1.2:80" {},
}
