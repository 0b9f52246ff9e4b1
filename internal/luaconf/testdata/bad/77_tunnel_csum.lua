--! 77_tunnel_csum.lua:3:110: tunnel_csum must be "csum", "remcsum" or "nocsum", got "yes"
virtual_server "198.18.0.30:443" {
  real_server "198.18.40.2:443" { forward = "tunnel", tunnel_type = "gue", tunnel_port = 6080, tunnel_csum = "yes" },
}
