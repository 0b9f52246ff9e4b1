--! 33_sched_flags_wrong_scheduler.lua:4:17: sched_flags: unknown scheduler flag "sh-port" for scheduler "rr"
virtual_server "198.18.0.10:80" {
  scheduler = "rr",
  sched_flags = "sh-port",
  real_server "198.18.1.1:80" {},
}
