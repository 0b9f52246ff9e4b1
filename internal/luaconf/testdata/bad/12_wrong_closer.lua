--! 12_wrong_closer.lua:4:44: ')' does not match '{' opened at 4:31
-- A table closed with a parenthesis.
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" { weight = 2 ),
}
