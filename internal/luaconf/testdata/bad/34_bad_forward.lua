--! 34_bad_forward.lua:3:13: forward: unknown forwarding method "direct_routing" (want nat, dr, tunnel or local)
virtual_server "198.18.0.10:80" {
  forward = "direct_routing",
  real_server "198.18.1.1:80" {},
  real_server "198.18.1.2:80" {},
}
