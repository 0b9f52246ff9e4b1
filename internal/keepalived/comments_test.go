package keepalived

import (
	"strings"
	"testing"
)

// Comments are kept in order with their lines, and each statement carries
// the comment lines just before it and the one on its own line.
func TestComments(t *testing.T) {
	src := `! header
# about the web service
virtual_server 192.0.2.1 80 { # web
    protocol TCP ! tcp only
    # first server
    real_server 198.18.1.1 80 {
        weight 2 # heavy
    }
    # trailing, inside the block
}
# end of file
`
	cfg, err := Parse("c.conf", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, c := range cfg.Comments {
		all = append(all, c.Pos.String()+" "+c.Text)
	}
	want := "c.conf:1 ! header|c.conf:2 # about the web service|c.conf:3 # web|c.conf:4 ! tcp only|c.conf:5 # first server|c.conf:7 # heavy|c.conf:9 # trailing, inside the block|c.conf:11 # end of file"
	if strings.Join(all, "|") != want {
		t.Errorf("comments\n got %s\nwant %s", strings.Join(all, "|"), want)
	}
	vs := cfg.VirtualServers[0]
	if len(vs.Comments) != 2 || vs.Comments[0].Text != "! header" || vs.Comments[1].Pos.Line != 2 {
		t.Errorf("vs comments %+v", vs.Comments)
	}
	rs := vs.RealServers[0]
	if len(rs.Comments) != 1 || rs.Comments[0].Text != "# first server" {
		t.Errorf("rs comments %+v", rs.Comments)
	}
	if rs.Weight.Pos.Line != 7 {
		t.Errorf("weight at %v", rs.Weight.Pos)
	}
}
