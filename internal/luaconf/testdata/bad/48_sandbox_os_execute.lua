--! 48_sandbox_os_execute.lua:3:1: os.execute is not available in the luvs sandbox
-- Configurations cannot run programs.
os.execute("ip addr add 198.18.0.10/32 dev lo")

virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" {},
}
