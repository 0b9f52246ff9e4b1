--! 56_call_nil_method.lua:4:3: attempt to call a non-function object
local pool = {}
for i = 1, 3 do
  pool[i] = real_server(("198.18.1.%d:80"):fmt(i)) {}
end

virtual_server "198.18.0.10:80" { servers = pool }
