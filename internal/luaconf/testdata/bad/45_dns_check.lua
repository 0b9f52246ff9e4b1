--! 45_dns_check.lua:5:41: dns check needs name = "..." (the name to query)
--! 45_dns_check.lua:6:78: type "AAA" is not a DNS record type luvs checks (A, AAAA, CNAME, MX, NS, PTR, SOA, SRV, TXT)
--! 45_dns_check.lua:7:79: rcode "OK" is unknown (NOERROR, NXDOMAIN, SERVFAIL, REFUSED, FORMERR, NOTIMP)
virtual_server "udp:198.18.0.53:53" {
  real_server "198.18.2.1:53" { check = dns { type = "A" } },
  real_server "198.18.2.2:53" { check = dns { name = "example.test.", type = "AAA" } },
  real_server "198.18.2.3:53" { check = dns { name = "example.test.", rcode = "OK" } },
}
