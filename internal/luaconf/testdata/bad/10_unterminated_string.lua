--! 10_unterminated_string.lua:5:15: unterminated string
-- The address string of the second real server is not terminated.
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" {},
  real_server "198.18.1.2:80 {},
}
