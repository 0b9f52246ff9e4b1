--! 16_unknown_key_defaults.lua:4:3: unknown key "sheduler" in defaults (did you mean "scheduler"?)
--! 16_unknown_key_defaults.lua:5:3: unknown key "forwarding" in defaults
defaults {
  sheduler = "wrr",
  forwarding = "dr",
}

virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" {},
}
