--! 02_rs_missing_close_brace_shift.lua:6:31: '{' opened here is never closed
-- keepalived class: a real_server's closing brace is missing, so the next
-- real_server would nest inside it and the service's brace closes it instead.
virtual_server "198.18.0.10:80" {
  scheduler = "wrr",
  real_server "198.18.1.1:80" {
    weight = 2,
    check = http { path = "/healthz" },
  real_server "198.18.1.2:80" {
    weight = 1,
  },
}

virtual_server "198.18.0.11:80" {
  real_server "198.18.1.3:80" {},
}
