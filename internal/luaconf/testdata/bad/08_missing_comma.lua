--! 08_missing_comma.lua:6:3: syntax error near 'real_server'
-- Two real servers without a comma between them.
virtual_server "198.18.0.10:80" {
  scheduler = "rr",
  real_server "198.18.1.1:80" { weight = 1 }
  real_server "198.18.1.2:80" { weight = 1 },
}
