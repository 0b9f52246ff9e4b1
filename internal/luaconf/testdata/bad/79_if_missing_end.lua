--! 79_if_missing_end.lua:7:5: 'if' opened here is never closed (missing 'end')
local web1 = real_server "198.18.1.1:80" {}

virtual_server "198.18.0.10:80" {
  web1,
  healthcheck = function(lvs, dests)
    if #dests < 1 then
      lvs:add_dest(web1)
  end,
}
