--! 62_entry_is_string.lua:3:3: entry 1 of virtual_server "198.18.0.10:80" is a string; list entries must be real_server "..." { ... }
virtual_server "198.18.0.10:80" {
  "198.18.1.1:80",
  real_server "198.18.1.2:80" {},
}
