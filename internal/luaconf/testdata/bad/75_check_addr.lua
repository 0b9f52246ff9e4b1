--! 75_check_addr.lua:3:54: addr: invalid address "198.18.1.1:8080"
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" { check = tcp { addr = "198.18.1.1:8080" } },
}
