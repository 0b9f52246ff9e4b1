--! 72_http_path_https_verify.lua:5:26: path must start with /, got "healthz"
--! 72_http_path_https_verify.lua:5:46: verify must be true or false, got string
--! 72_http_path_https_verify.lua:5:63: headers must be a table of name = value, got string
virtual_server "198.18.0.10:443" {
  check = https { path = "healthz", verify = "yes", headers = "X-Check: 1" },
  real_server "198.18.1.1:443" {},
}
