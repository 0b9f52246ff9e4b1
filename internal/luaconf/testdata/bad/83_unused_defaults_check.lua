--! 83_unused_defaults_check.lua:5:48: interval: invalid duration "5x" (write e.g. "2s", "500ms", "1m30s")
-- Every server sets its own check, but the default check is still part of
-- the configuration and must be valid.
defaults {
  check = http { path = "/healthz", interval = "5x" },
}

virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" { check = tcp {} },
}
