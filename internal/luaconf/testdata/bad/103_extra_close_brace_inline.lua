--! 103_extra_close_brace_inline.lua:4:34: '}' has no matching '{'
-- The extra brace closes the service early; the later lines are fine.
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" {} },
  real_server "198.18.1.2:80" {},
}
