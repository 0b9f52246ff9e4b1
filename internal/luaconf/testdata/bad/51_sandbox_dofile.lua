--! 51_sandbox_dofile.lua:2:1: dofile is not available in the luvs sandbox
dofile("pools.lua")

virtual_server "198.18.0.10:80" { servers = web_pool }
