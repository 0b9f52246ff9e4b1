--! 73_healthcheck_timeout.lua:4:25: healthcheck_timeout 2s is longer than healthcheck_interval 1s
virtual_server "198.18.0.10:80" {
  healthcheck_interval = "1s",
  healthcheck_timeout = "2s",
  healthcheck = function(lvs, dests) end,
  real_server "198.18.1.1:80" {},
}
