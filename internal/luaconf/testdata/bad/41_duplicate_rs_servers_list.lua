--! 41_duplicate_rs_servers_list.lua:7:15: duplicate real server 198.18.1.1:80 in virtual_server "198.18.0.10:80" (first at 41_duplicate_rs_servers_list.lua:6:3)
local web1 = real_server "198.18.1.1:80" {}
local web2 = real_server "198.18.1.2:80" {}

virtual_server "198.18.0.10:80" {
  web1,
  servers = { web1, web2 },
}
