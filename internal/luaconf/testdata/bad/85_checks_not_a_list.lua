--! 85_checks_not_a_list.lua:3:42: checks must be a list of checks, got tcp check
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" { checks = tcp {} },
}
