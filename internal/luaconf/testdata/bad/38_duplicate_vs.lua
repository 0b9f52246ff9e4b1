--! 38_duplicate_vs.lua:6:1: duplicate virtual server TCP 198.18.0.10:80 (first declared at 38_duplicate_vs.lua:2:1)
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" {},
}

virtual_server "198.18.0.10:80" {
  real_server "198.18.1.2:80" {},
}
