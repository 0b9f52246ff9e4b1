package testbed

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// StartEcho serves a line protocol on port (IPv4): each line read is
// answered with "NAME: line", so a client can tell which backend a
// long-lived connection reached. It stops when the test ends.
func (l *Lab) StartEcho(b *Backend, port uint16) error {
	var ln net.Listener
	err := Do(b.NS, func() error {
		var err error
		ln, err = net.Listen("tcp", netip.AddrPortFrom(b.Addr4, port).String())
		return err
	})
	if err != nil {
		return fmt.Errorf("echo on %s: %w", b.Name, err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewScanner(c)
				for r.Scan() {
					fmt.Fprintf(c, "%s: %s\n", b.Name, r.Text())
				}
			}()
		}
	}()
	l.t.Cleanup(func() { ln.Close() })
	return nil
}

// Conn is a long-lived TCP connection from the client namespace.
type Conn struct {
	c net.Conn
	r *bufio.Reader
}

// Dial opens a TCP connection from the client namespace to addr.
func (l *Lab) Dial(addr netip.AddrPort) (*Conn, error) {
	var c net.Conn
	err := Do(l.Client, func() error {
		var err error
		c, err = net.DialTimeout("tcp", addr.String(), 3*time.Second)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Conn{c: c, r: bufio.NewReader(c)}, nil
}

// Say sends a line and returns the answer (within 3 s).
func (c *Conn) Say(line string) (string, error) {
	c.c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := fmt.Fprintln(c.c, line); err != nil {
		return "", err
	}
	s, err := c.r.ReadString('\n')
	return s[:max(0, len(s)-1)], err
}

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }
