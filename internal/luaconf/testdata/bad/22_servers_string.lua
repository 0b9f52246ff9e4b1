--! 22_servers_string.lua:3:13: servers must be a list of real servers, got string
virtual_server "198.18.0.10:80" {
  servers = "198.18.1.1:80,198.18.1.2:80",
}
