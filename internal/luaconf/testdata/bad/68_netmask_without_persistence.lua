--! 68_netmask_without_persistence.lua:3:13: virtual_server "198.18.0.10:443": persistence: timeout, netmask and persistence engine need persistence enabled
virtual_server "198.18.0.10:443" {
  netmask = 24,
  real_server "198.18.1.1:443" {},
}
