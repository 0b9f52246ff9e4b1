--! 67_persistence_too_long.lua:3:17: virtual_server "198.18.0.10:443": persistence: timeout 2880000 s is over the maximum 2678400 s (31 days)
virtual_server "198.18.0.10:443" {
  persistence = "800h",
  real_server "198.18.1.1:443" {},
}
