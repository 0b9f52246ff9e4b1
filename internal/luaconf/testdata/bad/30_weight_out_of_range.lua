--! 30_weight_out_of_range.lua:5:42: weight 70000 out of range 0..65535
--! 30_weight_out_of_range.lua:6:42: weight -1 out of range 0..65535
virtual_server "198.18.0.10:80" {
  scheduler = "wrr",
  real_server "198.18.1.1:80" { weight = 70000 },
  real_server "198.18.1.2:80" { weight = -1 },
}
