--! 03_rs_missing_close_brace_one_line.lua:5:31: '{' opened here is never closed
-- A one-line real_server lost its closing brace.
virtual_server "198.18.0.10:80" {
  forward = "nat",
  real_server "198.18.1.1:80" { weight = 2,
  real_server "198.18.1.2:80" { weight = 1 },
}
