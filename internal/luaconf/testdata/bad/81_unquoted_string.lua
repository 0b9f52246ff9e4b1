--! 81_unquoted_string.lua:3:3: unknown name "wrr"
virtual_server "198.18.0.10:80" {
  scheduler = wrr,
  real_server "198.18.1.1:80" {},
}
