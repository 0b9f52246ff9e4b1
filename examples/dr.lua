-- Direct routing and tunnels: the real servers answer clients directly, so
-- they must hold the virtual address (on lo, with ARP replies for it off).
virtual_server "198.18.0.30:443" {
  scheduler = "sh",
  sched_flags = "sh-fallback,sh-port",
  forward = "dr",
  check = https { path = "/healthz", sni = "www.example.test", status = "200-399", verify = false },
  real_server "198.18.11.2:443" {},
  real_server "198.18.12.2:443" { weight = 2, upper_threshold = 1000, lower_threshold = 800 },
  -- A remote site reached through a GUE tunnel.
  real_server "198.18.40.2:443" { forward = "tunnel", tunnel_type = "gue", tunnel_port = 6080, tunnel_csum = "csum" },
  -- An IPv4 real server may serve an IPv6 VIP only through a tunnel; here an IPIP one.
}

virtual_server "[2001:db8::30]:443" {
  scheduler = "wlc",
  real_server "198.18.41.2:443" { forward = "tunnel", tunnel_type = "ipip" },
}
