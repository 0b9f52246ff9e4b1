--! 19_weight_string.lua:3:42: weight must be an integer, got string
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" { weight = "3" },
}
