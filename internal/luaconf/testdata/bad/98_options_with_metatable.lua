--! 98_options_with_metatable.lua:4:3: real_server "198.18.1.1:80": options must be a plain table, not one with a metatable
local base = { weight = 3 }
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" (setmetatable({}, { __index = base })),
}
