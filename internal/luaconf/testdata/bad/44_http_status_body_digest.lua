--! 44_http_status_body_digest.lua:5:57: status: "600" is outside 100-599
--! 44_http_status_body_digest.lua:6:55: body: invalid regular expression: error parsing regexp: missing closing ): `([a-z]+`
--! 44_http_status_body_digest.lua:7:57: digest must be 32 hex digits (an MD5 sum), got "d41d8cd98f00b204e9800998ecf8427"
virtual_server "198.18.0.10:80" {
  real_server "198.18.1.1:80" { check = http { status = "600" } },
  real_server "198.18.1.2:80" { check = http { body = "([a-z]+" } },
  real_server "198.18.1.3:80" { check = http { digest = "d41d8cd98f00b204e9800998ecf8427" } },
}
