--! 86_servers_single_rs.lua:4:45: servers must be a list of real servers, got real_server "198.18.1.1:80"
local web1 = real_server "198.18.1.1:80" {}

virtual_server "198.18.0.10:80" { servers = web1 }
