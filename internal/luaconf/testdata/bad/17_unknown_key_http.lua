--! 17_unknown_key_http.lua:4:37: unknown key "stauts" in http check (did you mean "status"?)
--! 17_unknown_key_http.lua:4:51: unknown key "expect_body" in http check
virtual_server "198.18.0.10:80" {
  check = http { path = "/healthz", stauts = 200, expect_body = "ok" },
  real_server "198.18.1.1:80" {},
  real_server "198.18.1.2:80" {},
}
