--! 60_rs_nested_in_rs.lua:6:5: real_server "198.18.1.1:80" takes only key = value options, not a list entry (real_server "198.18.1.2:80")
-- Balanced braces, but the second real server ended up inside the first.
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" {
    weight = 2,
    real_server "198.18.1.2:80" { weight = 1 },
  },
}
