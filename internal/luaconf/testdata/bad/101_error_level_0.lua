--! 101_error_level_0.lua:3:1: no servers
local servers = {}
if #servers == 0 then error("no servers", 0) end
