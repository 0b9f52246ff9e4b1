--! inc/cycle.lua:2:1: include cycle: inc/cycle.lua includes itself
include "inc/cycle.lua"
