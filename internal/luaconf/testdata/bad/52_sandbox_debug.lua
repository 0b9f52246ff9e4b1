--! 52_sandbox_debug.lua:2:1: debug.getinfo is not available in the luvs sandbox
local info = debug.getinfo(1, "S")
