--! 58_include_missing.lua:2:1: include "pools/web.lua": no such file or directory
include "pools/web.lua"

virtual_server "198.18.0.10:80" { servers = web_pool }
