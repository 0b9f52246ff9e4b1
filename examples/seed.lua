-- The mruby-ipvs example, ported: check a backend with an HTTP GET, remove
-- it when it fails, and add a server when fewer than two remain.
local web1 = real_server "198.18.11.2:80" {}

virtual_server "198.18.0.10:80" {
  scheduler = "rr",
  forward = "nat",
  web1,
  real_server "198.18.12.2:80" {},
  healthcheck_interval = "1s",
  healthcheck = function(lvs, dests)
    local r = http.get("http://" .. web1.hostport .. "/")
    if not r.ok then lvs:del_dest(web1) end
    if #dests < 2 then lvs:add_dest(real_server "198.18.13.2:80" {}) end
  end,
}
