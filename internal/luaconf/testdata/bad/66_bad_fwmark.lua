--! 66_bad_fwmark.lua:2:16: virtual_server "fwmark:0": invalid fwmark "0" (want 1..4294967295)
virtual_server "fwmark:0" {
  real_server "198.18.1.1" { forward = "dr" },
}
