--! 84_healthcheck_interval_alone.lua:3:26: healthcheck_interval: invalid duration "5x" (write e.g. "2s", "500ms", "1m30s")
virtual_server "198.18.0.10:80" {
  healthcheck_interval = "5x",
  real_server "198.18.1.1:80" {},
}
