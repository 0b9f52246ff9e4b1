--! 04_check_missing_close_brace.lua:5:16: '{' opened here is never closed
-- The check table inside defaults is not closed.
defaults {
  scheduler = "wlc",
  check = http {
    path = "/healthz",
    interval = "2s",
  rise = 2,
}

virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" {},
}
