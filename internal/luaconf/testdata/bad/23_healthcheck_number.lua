--! 23_healthcheck_number.lua:3:17: healthcheck must be a function(lvs, dests), got number
virtual_server "198.18.0.10:80" {
  healthcheck = 5,
  real_server "198.18.1.1:80" {},
}
