--! 53_sandbox_string_dump.lua:3:1: string.dump is not available in the luvs sandbox
local function pick(dests) return dests[1] end
local code = string.dump(pick)
