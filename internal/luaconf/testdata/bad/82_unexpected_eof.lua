--! 82_unexpected_eof.lua:6:1: unexpected end of file: syntax error
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" {},
}

local spare_weight =
