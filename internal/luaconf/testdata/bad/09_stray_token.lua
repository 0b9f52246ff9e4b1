--! 09_stray_token.lua:4:20: syntax error near '='
-- A stray "=" after a value.
virtual_server "198.18.0.10:80" {
  scheduler = "rr" =,
  real_server "198.18.1.1:80" {},
}
