--! 111_vrrp.lua:20:65: advert_interval 15ms: VRRPv3 counts in hundredths of a second, up to 40.95s
--! 111_vrrp.lua:21:23: virtual_addresses mixes IPv4 and IPv6 (198.18.0.12, 2001:db8::1): VRRPv3 runs one virtual router per family; declare two
--! 111_vrrp.lua:22:24: track services: "198.18.0.99:80" is not a virtual_server of this configuration
--! 111_vrrp.lua:22:55: weight 3 out of range -254..-1
--! 111_vrrp.lua:22:58: unknown key "wieght" in track (did you mean "weight"?)
--! 111_vrrp.lua:23:39: the sync_daemon of vrrp "VI_2" follows its role (master while master, backup otherwise): drop state
--! 111_vrrp.lua:25:1: vrrp "VI_1" already declared at 111_vrrp.lua:12:1
--! 111_vrrp.lua:26:13: vrrp "VI_3" needs interface = "eth0" (where the advertisements go)
--! 111_vrrp.lua:26:13: vrrp "VI_3" needs virtual_router_id = 1..255 (the same on both directors)
--! 111_vrrp.lua:26:13: vrrp "VI_3" needs virtual_addresses = { "198.18.0.10" }
virtual_server "198.18.0.10:80" { real_server "198.18.1.1:80" {} }
vrrp "VI_1" {
  interface = "eth0", virtual_router_id = 51, priority = 150, advert_interval = "1s",
  virtual_addresses = { "198.18.0.10/24", "198.18.0.11" },
  unicast_peers = { "198.18.100.12" },
  track = { services = { "198.18.0.10:80" }, interfaces = { "eth1" }, weight = -60 },
  sync_daemon = { interface = "eth1", id = 51 },
}
vrrp "VI_2" {
  interface = "eth0", virtual_router_id = 51, advert_interval = "15ms",
  virtual_addresses = { "198.18.0.12", "2001:db8::1" },
  track = { services = { "198.18.0.99:80" }, weight = 3, wieght = 1 },
  sync_daemon = { interface = "eth1", state = "backup" },
}
vrrp "VI_1" { interface = "eth0", virtual_router_id = 52, virtual_addresses = { "198.18.0.13" } }
vrrp "VI_3" { }
