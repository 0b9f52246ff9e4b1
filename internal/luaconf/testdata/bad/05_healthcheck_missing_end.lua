--! 05_healthcheck_missing_end.lua:7:17: 'function' opened here is never closed (missing 'end')
-- The healthcheck function's "if" has its end, the function does not.
local web1 = real_server "198.18.1.1:80" {}

virtual_server "198.18.0.10:80" {
  web1,
  healthcheck = function(lvs, dests)
    if #dests < 1 then
      lvs:add_dest(web1)
    end
  ,
}
