--! 31_thresholds.lua:5:74: real_server "198.18.1.1:80": thresholds: lower threshold 900 is above upper threshold 800
--! 31_thresholds.lua:6:51: upper_threshold -5 out of range 0..2147483647
--! 31_thresholds.lua:7:54: rise 0 out of range 1..1000
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" { upper_threshold = 800, lower_threshold = 900 },
  real_server "198.18.1.2:80" { upper_threshold = -5 },
  real_server "198.18.1.3:80" { check = tcp { rise = 0 } },
}
