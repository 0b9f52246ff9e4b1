--! 57_arith_on_nil.lua:7:3: cannot perform mul operation between nil and number
local weights = { web1 = 3, web2 = 1 }

virtual_server "198.18.0.10:80" {
  scheduler = "wrr",
  real_server "198.18.1.1:80" { weight = weights.web1 * 2 },
  real_server "198.18.1.3:80" { weight = weights.web3 * 2 },
}
