--! 36_gue_without_port.lua:3:3: real_server "198.18.40.2:443": tunnel_port: gue tunnels need a port
virtual_server "198.18.0.30:443" {
  real_server "198.18.40.2:443" { forward = "tunnel", tunnel_type = "gue" },
}
