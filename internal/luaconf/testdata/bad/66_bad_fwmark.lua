--! 66_bad_fwmark.lua:2:16: virtual_server "fwmark:0": invalid fwmark "0": 0 is no mark (want 1..4294967295, decimal or 0x hex)
virtual_server "fwmark:0" {
  real_server "198.18.1.1" { forward = "dr" },
}
