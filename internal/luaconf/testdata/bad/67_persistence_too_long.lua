--! 67_persistence_too_long.lua:3:17: persistence 800h0m0s out of range 1s..744h0m0s
virtual_server "198.18.0.10:443" {
  persistence = "800h",
  real_server "198.18.1.1:443" {},
}
