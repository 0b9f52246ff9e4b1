-- The mruby-ipvs wrapper example, imperative: run with `luvs exec seed_exec.lua`.
local lb = ipvs.Service.new{ addr = "198.18.0.10", port = 80, proto = "tcp", sched_name = "wrr" }
lb:add_service()

local web1 = ipvs.Dest.new{ addr = "198.18.11.2", port = 80, weight = 1, conn = "nat" }
local web2 = ipvs.Dest.new{ addr = "198.18.12.2", port = 80, weight = 1, conn = "nat" }
lb:add_dest(web1)
lb:add_dest(web2)

web1.weight = 3 -- applied to the kernel at once

for _, s in ipairs(ipvs.services()) do
  print(s, s.sched_name)
  for _, d in ipairs(s.dests) do
    print("  ->", d, d.conn, d.weight)
  end
end
