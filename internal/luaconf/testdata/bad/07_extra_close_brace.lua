--! 07_extra_close_brace.lua:7:1: '}' has no matching '{'
-- One closing brace too many after the first service.
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" {},
  real_server "198.18.1.2:80" {},
}
}

virtual_server "198.18.0.11:80" {
  real_server "198.18.1.3:80" {},
}
