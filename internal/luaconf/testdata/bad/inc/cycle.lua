-- Included by 92_include_cycle.lua: includes itself.
include "cycle.lua"
