--! 32_unknown_scheduler.lua:3:15: virtual_server "198.18.0.10:80": scheduler: unknown scheduler "wrrr" (one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, mh, fo, ovf, twos)
virtual_server "198.18.0.10:80" {
  scheduler = "wrrr",
  real_server "198.18.1.1:80" {},
}
