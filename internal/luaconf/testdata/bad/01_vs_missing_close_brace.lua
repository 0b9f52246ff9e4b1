--! 01_vs_missing_close_brace.lua:3:33: '{' opened here is never closed
-- The last virtual server's closing brace is missing.
virtual_server "198.18.0.10:80" {
  scheduler = "wrr",
  real_server "198.18.1.1:80" { weight = 2 },
  real_server "198.18.1.2:80" { weight = 1 },
