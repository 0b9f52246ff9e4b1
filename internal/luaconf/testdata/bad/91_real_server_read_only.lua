--! 91_real_server_read_only.lua:3:1: real servers are read-only here; set weight in real_server "..." { weight = ... }
local web1 = real_server "198.18.1.1:80" { weight = 1 }
web1.weight = 3

virtual_server "198.18.0.10:80" { web1 }
