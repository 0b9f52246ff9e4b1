--! 71_check_and_checks.lua:3:49: use check or checks, not both
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" { check = tcp {}, checks = { http { path = "/" } } },
}
