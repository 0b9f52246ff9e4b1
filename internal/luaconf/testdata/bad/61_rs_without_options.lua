--! 61_rs_without_options.lua:5:3: entry 2 of virtual_server "198.18.0.10:80" is a function; list entries must be real_server "..." { ... }
-- A real_server needs its (possibly empty) options table.
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" {},
  real_server "198.18.1.2:80",
}
