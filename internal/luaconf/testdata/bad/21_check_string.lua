--! 21_check_string.lua:3:11: check must be a check such as http { path = "/" } or tcp {}, got string
virtual_server "198.18.0.10:80" {
  check = "http",
  real_server "198.18.1.1:80" {},
  real_server "198.18.1.2:80" {},
}
