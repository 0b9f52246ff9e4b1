--! 35_tunnel_opts_without_tunnel.lua:5:35: tunnel_type needs forward = "tunnel"
--! 35_tunnel_opts_without_tunnel.lua:5:56: tunnel_port needs forward = "tunnel"
virtual_server "198.18.0.30:443" {
  forward = "dr",
  real_server "198.18.40.2:443" { tunnel_type = "gue", tunnel_port = 6080 },
}
