--! 94_defaults_protocol_fwmark.lua:11:46: unknown key "wieght" in real_server "198.18.1.1" (did you mean "weight"?)
-- A default protocol applies to address services; a fwmark service has none
-- and must not inherit it (only the typo below is wrong).
defaults { protocol = "udp", scheduler = "rr" }

virtual_server "198.18.0.53:53" {
  real_server "198.18.2.1:53" {},
}

virtual_server "fwmark:7" {
  real_server "198.18.1.1" { forward = "dr", wieght = 2 },
}
