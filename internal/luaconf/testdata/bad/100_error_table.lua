--! 100_error_table.lua:4:3: error raised with a table, not a message (write error("what went wrong"))
local ok = true
if ok then
  error({ code = 1 })
end
