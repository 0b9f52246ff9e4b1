--! 107_sync_daemon_bad.lua:6:13: sync_daemon needs state = "master" or "backup"
--! 107_sync_daemon_bad.lua:6:27: interface "eth0 eth1" is not a network interface name
--! 107_sync_daemon_bad.lua:7:58: id 300 out of range 0..255
--! 107_sync_daemon_bad.lua:8:61: group must be a multicast address such as "224.0.0.81", got "198.18.0.1"
--! 107_sync_daemon_bad.lua:10:1: a master sync daemon is already declared at 107_sync_daemon_bad.lua:9:1; the kernel runs one of each role
sync_daemon { interface = "eth0 eth1" }
sync_daemon { state = "backup", interface = "eth0", id = 300 }
sync_daemon { state = "backup", interface = "eth0", group = "198.18.0.1" }
sync_daemon { state = "master", interface = "eth0" }
sync_daemon { state = "master", interface = "eth1" }
