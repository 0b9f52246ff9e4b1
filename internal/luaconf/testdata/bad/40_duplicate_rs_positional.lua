--! 40_duplicate_rs_positional.lua:5:3: duplicate real server 198.18.1.1:80 in virtual_server "198.18.0.10:80" (first at 40_duplicate_rs_positional.lua:3:3)
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" {},
  real_server "198.18.1.2:80" {},
  real_server "198.18.1.1" { weight = 2 },
}
