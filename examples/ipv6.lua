-- IPv6: a pool of twenty real servers generated with a loop, and a UDP DNS
-- service with a DNS health check.
local pool = {}
for i = 1, 20 do
  pool[#pool + 1] = real_server(("[2001:db8:2::%d]:8080"):format(i)) {}
end

virtual_server "[2001:db8::10]:8080" {
  scheduler = "mh",
  sched_flags = { "mh-port" },
  forward = "dr",
  check = tcp { interval = "5s" },
  servers = pool,
}

virtual_server "udp:[2001:db8::53]:53" {
  scheduler = "rr",
  -- (no one_packet: with NAT the kernel would not translate the replies)
  forward = "nat",
  check = dns { name = "example.test.", type = "AAAA" },
  real_server "[2001:db8:3::1]:53" {},
  real_server "[2001:db8:3::2]:53" {},
}
