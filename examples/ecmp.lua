-- One of several directors behind ECMP routing. Every director runs this
-- file with its own router_id: each announces the virtual address to the
-- routers over BGP while its services serve, the routers spread the flows
-- over the directors, and the mh scheduler makes every director pick the
-- same real server for a flow. (The directors and the real servers hold
-- 198.18.0.10 on lo, with ARP replies for it off: direct routing.)
bgp {
  asn = 65001,
  router_id = "198.18.100.11",   -- this director
  shutdown_delay = "2s",         -- a clean stop withdraws, then serves 2 s more
  peers = {
    { address = "198.18.100.1", asn = 65000, hold_time = "3s", bfd = true },
  },
}

defaults {
  forward = "dr",
  ecmp = true,                   -- mh with mh-fallback and mh-port, sloppy_tcp
  announce = { communities = { "65000:100" } },  -- for the routers' policies
  check = http { path = "/healthz", interval = "1s", timeout = "500ms", fall = 2 },
}

local servers = { "198.18.100.21", "198.18.100.22", "198.18.100.23" }

for _, port in ipairs({ 80, 443 }) do
  local list = {}
  for _, addr in ipairs(servers) do
    list[#list + 1] = real_server(addr .. ":" .. port) {}
  end
  virtual_server("198.18.0.10:" .. port) {
    servers = list,
  }
end
