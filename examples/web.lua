-- A web service on 198.18.0.10:80 balanced over three servers with health
-- checks: the servers of the demo network (scripts/demo).
defaults {
  scheduler = "wrr",
  forward = "nat",
  check = http { path = "/", interval = "2s", timeout = "1s", rise = 2, fall = 2 },
}

local web1 = real_server "198.18.11.2:80" { weight = 3, name = "web1" }

virtual_server "198.18.0.10:80" {
  name = "web",
  protocol = "tcp",
  persistence = false,
  quorum = 1,
  sorry_server = "198.18.14.2:80",
  web1,
  real_server "198.18.12.2:80" { name = "web2" },
  real_server "198.18.13.2:80" { name = "web3", check = tcp { timeout = "1s" } },
}
