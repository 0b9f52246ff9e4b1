--! 50_sandbox_require.lua:2:1: require is not available in the luvs sandbox
local pools = require("pools")

virtual_server "198.18.0.10:80" { servers = pools.web }
