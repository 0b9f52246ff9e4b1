--! inc/pool_typo.lua:3:33: unknown key "wieght" in real_server "198.18.1.1:80" (did you mean "weight"?)
include "inc/pool_typo.lua"

virtual_server "198.18.0.10:80" { servers = web_pool }
