--! 102_pcall_include.lua:3:1: include "inc/missing.lua": no such file or directory
-- pcall does not hide a missing include
local ok = pcall(include, "inc/missing.lua")
