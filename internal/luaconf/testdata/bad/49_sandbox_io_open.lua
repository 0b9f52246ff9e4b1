--! 49_sandbox_io_open.lua:3:1: io.open is not available in the luvs sandbox
-- Configurations cannot read files (use include for Lua files).
local f = io.open("/etc/luvs/servers.txt")
