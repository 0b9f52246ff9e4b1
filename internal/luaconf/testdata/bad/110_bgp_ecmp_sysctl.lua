--! 110_bgp_ecmp_sysctl.lua:21:9: asn 0 out of range 1..4294967295
--! 110_bgp_ecmp_sysctl.lua:22:15: router_id must be an IPv4 address such as "198.18.10.1", got "2001:db8::1"
--! 110_bgp_ecmp_sysctl.lua:24:59: hold_time 2s is too short (at least 3s)
--! 110_bgp_ecmp_sysctl.lua:24:82: min_tx 5ms is too short (at least 10ms)
--! 110_bgp_ecmp_sysctl.lua:24:105: unknown key "mintx" in bfd (did you mean "min_tx"?)
--! 110_bgp_ecmp_sysctl.lua:25:5: duplicate bgp peer 198.18.10.254 (first at 110_bgp_ecmp_sysctl.lua:24:5)
--! 110_bgp_ecmp_sysctl.lua:26:5: a bgp peer needs address = "198.18.10.254"
--! 110_bgp_ecmp_sysctl.lua:26:7: unknown key "adress" in bgp peer (did you mean "address"?)
--! 110_bgp_ecmp_sysctl.lua:26:57: bgp peer password must be 1 to 80 bytes (a TCP MD5 key)
--! 110_bgp_ecmp_sysctl.lua:27:5: peers[4] must be a table { address = ..., asn = ... }, got string
--! 110_bgp_ecmp_sysctl.lua:30:43: sysctl "kernel.panic": luvs sets network settings only, named like net.ipv4.vs.sloppy_tcp
--! 110_bgp_ecmp_sysctl.lua:30:101: sysctl net.ipv4.vs.expire_nodest_conn must be a number, a boolean or a string, got table
--! 110_bgp_ecmp_sysctl.lua:32:10: ecmp = true needs forward = "dr" or "tunnel": real server 198.18.1.1:80 is NAT, whose replies must pass through the director holding the connection, which ECMP does not promise
--! 110_bgp_ecmp_sysctl.lua:32:28: ecmp = true (at 110_bgp_ecmp_sysctl.lua:32:10) needs the mh scheduler, so that every director picks the same real server for a flow; drop scheduler = "wrr"
--! 110_bgp_ecmp_sysctl.lua:33:27: announce prefixes: 198.18.1.0/24 does not hold the service's address 198.18.0.10
--! 110_bgp_ecmp_sysctl.lua:33:79: announce communities: "big" is not a community ASN:VALUE such as "65000:100"
--! 110_bgp_ecmp_sysctl.lua:33:109: med -1 out of range 0..4294967295
--! 110_bgp_ecmp_sysctl.lua:36:40: a fwmark service has no address to announce: announce = { prefixes = { "198.18.0.0/24" } }
--! 110_bgp_ecmp_sysctl.lua:37:1: warning: virtual_server "198.18.0.11:80" has ecmp = true but net.ipv4.vs.sloppy_tcp is 0 (at 110_bgp_ecmp_sysctl.lua:30:11): a director that takes over a flow drops it
bgp {
  asn = 0,
  router_id = "2001:db8::1",
  peers = {
    { address = "198.18.10.254", asn = 65000, hold_time = "2s", bfd = { min_tx = "5ms", multiplier = 3, mintx = 1 } },
    { address = "198.18.10.254", asn = 65000 },
    { adress = "198.18.10.253", asn = 65000, password = "" },
    "198.18.10.252",
  },
}
sysctl { ["net.ipv4.vs.sloppy_tcp"] = 0, ["kernel.panic"] = 1, ["net.ipv4.vs.expire_nodest_conn"] = {} }
virtual_server "198.18.0.10:80" {
  ecmp = true, scheduler = "wrr",
  announce = { prefixes = { "198.18.1.0/24", "198.18.0.0/23" }, communities = { "65000:100", "big" }, med = -1 },
  real_server "198.18.1.1:80" {},
}
virtual_server "fwmark:5" { announce = true, real_server "198.18.1.1" { forward = "dr" } }
virtual_server "198.18.0.11:80" { ecmp = true, real_server "198.18.1.1:80" { forward = "dr" } }
