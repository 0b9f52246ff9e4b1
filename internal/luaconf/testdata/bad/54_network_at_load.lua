--! 54_network_at_load.lua:3:1: http.get talks to the network, which is only allowed inside health checks (healthcheck = function(lvs, dests) ... end)
-- Fetching the server list at load time is not allowed.
local list = http.get("http://198.18.5.1/servers")

virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" {},
}
