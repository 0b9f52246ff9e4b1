--! 06_missing_close_paren.lua:5:32: '(' opened here is never closed
-- A generated pool: the format call lacks its closing parenthesis.
local pool = {}
for i = 1, 4 do
  pool[#pool + 1] = real_server(("198.18.1.%d:80"):format(i) {}
end

virtual_server "198.18.0.10:80" { servers = pool }
