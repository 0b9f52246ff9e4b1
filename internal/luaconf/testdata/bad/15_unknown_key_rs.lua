--! 15_unknown_key_rs.lua:4:33: unknown key "wieght" in real_server "198.18.1.1:80" (did you mean "weight"?)
--! 15_unknown_key_rs.lua:5:33: unknown key "max_connections" in real_server "198.18.1.2:80"
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" { wieght = 2 },
  real_server "198.18.1.2:80" { max_connections = 100 },
}
