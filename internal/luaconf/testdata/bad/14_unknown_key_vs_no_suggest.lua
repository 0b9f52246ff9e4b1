--! 14_unknown_key_vs_no_suggest.lua:4:3: unknown key "colour" in virtual_server "198.18.0.10:80"
virtual_server "198.18.0.10:80" {
  scheduler = "wrr",
  colour = "blue",
  real_server "198.18.1.1:80" {},
}
