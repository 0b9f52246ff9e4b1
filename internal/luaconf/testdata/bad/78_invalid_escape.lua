--! 78_invalid_escape.lua:4:26: invalid escape sequence '\d'
-- Lua has no \d escape: the regular expression needs "\\d+ ok" or [[\d+ ok]].
virtual_server "198.18.0.10:80" {
  check = http { body = "\d+ ok" },
  real_server "198.18.1.1:80" {},
}
