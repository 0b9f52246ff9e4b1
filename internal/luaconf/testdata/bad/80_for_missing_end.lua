--! 80_for_missing_end.lua:3:14: 'do' opened here is never closed (missing 'end')
local pool = {}
for i = 1, 4 do
  pool[#pool + 1] = real_server(("198.18.1.%d:80"):format(i)) {}

virtual_server "198.18.0.10:80" { servers = pool }
