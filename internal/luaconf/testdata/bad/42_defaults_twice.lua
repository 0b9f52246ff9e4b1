--! 42_defaults_twice.lua:3:31: unknown key "forwad" in defaults (did you mean "forward"?)
--! 42_defaults_twice.lua:9:1: defaults already set at 42_defaults_twice.lua:3:1; set all defaults in one place
defaults { scheduler = "wrr", forwad = "nat" }

virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" {},
}

defaults { check = tcp {} }
