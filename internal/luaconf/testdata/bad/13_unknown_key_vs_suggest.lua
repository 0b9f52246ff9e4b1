--! 13_unknown_key_vs_suggest.lua:3:3: unknown key "schedular" in virtual_server "198.18.0.10:80" (did you mean "scheduler"?)
virtual_server "198.18.0.10:80" {
  schedular = "wrr",
  real_server "198.18.1.1:80" {},
}
